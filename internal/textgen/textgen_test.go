package textgen

import (
	"strings"
	"testing"
)

func TestGen(t *testing.T) {
	g := New(1)
	if g.Text(5) != New(1).Text(5) || g.Text(5) == New(2).Text(5) {
		t.Fatal("Text is not deterministic per seed")
	}
	title, desc := Split(g.Text(3))
	if !strings.Contains(g.Text(3), "\n") || title == "" || desc == "" || Title(g.Text(3)) != title {
		t.Fatalf("text without a title line and a description: %q", g.Text(3))
	}
	if g.Reply(3, 1) == "" {
		t.Fatal("empty reply")
	}
	if q := g.Near(1, g.Text(40)); q == g.Text(40) || q != New(1).Near(1, g.Text(40)) {
		t.Fatalf("Near is not a deterministic variation: %q", q)
	}
}
