package dedup

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestStemCacheConcurrent stems overlapping words on several goroutines
// while the cache grows, and checks every term against stemOf, and that
// the cache keeps one entry per word.
func TestStemCacheConcurrent(t *testing.T) {
	var an analyzer
	words := make([]string, 20_000)
	for i := range words {
		words[i] = fmt.Sprintf("%s%dings", []string{"run", "the", "connect", "happy", "agree"}[i%5], i/5)
	}
	words = append(words, "the", "cannot", "dropdowns", "skies", "generously")
	const g = 4
	var wg sync.WaitGroup
	errs := make(chan string, g)
	for k := 0; k < g; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for round := 0; round < 2; round++ {
				for i := range words {
					w := words[(i*(k+1)+k)%len(words)]
					// Not the caller's memory: the cache must copy.
					if got, want := an.stem(string([]byte(w))), stemOf(w); got != want {
						errs <- fmt.Sprintf("stem(%q) = %q, want %q", w, got, want)
						return
					}
					if i%1000 == 0 {
						runtime.Gosched()
					}
				}
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if an.words.n != len(words) {
		t.Fatalf("%d entries for %d words", an.words.n, len(words))
	}
	if an.stem("cannot") != stopMark || an.stem("dropdowns") != "dropdown" || an.stem("skies") != "sky" {
		t.Fatal("cannot, dropdowns, skies:", an.stem("cannot"), an.stem("dropdowns"), an.stem("skies"))
	}
}
