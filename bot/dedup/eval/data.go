package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// doc is one corpus line.
type doc struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// labelledQuery is one query line.
type labelledQuery struct {
	ID         string   `json:"id"`
	Candidates []string `json:"candidates"`
	Positives  []string `json:"positives"`
}

// corpus holds documents in file order; index i has internal id i+1.
type corpus struct {
	docs []doc
	pos  map[string]int // id -> index
}

func (c *corpus) text(i int) string {
	return c.docs[i].Title + "\n" + c.docs[i].Body
}

func readCorpus(path string) (*corpus, error) {
	c := &corpus{pos: make(map[string]int)}
	err := readJSONL(path, func(line int, b []byte) error {
		var d doc
		if err := json.Unmarshal(b, &d); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if d.ID == "" {
			return fmt.Errorf("%s:%d: missing id", path, line)
		}
		if _, dup := c.pos[d.ID]; dup {
			return fmt.Errorf("%s:%d: duplicate id %q", path, line, d.ID)
		}
		c.pos[d.ID] = len(c.docs)
		c.docs = append(c.docs, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.docs) == 0 {
		return nil, fmt.Errorf("%s: no documents", path)
	}
	return c, nil
}

func readQueries(path string, c *corpus) ([]labelledQuery, error) {
	var qs []labelledQuery
	err := readJSONL(path, func(line int, b []byte) error {
		var q labelledQuery
		if err := json.Unmarshal(b, &q); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if _, ok := c.pos[q.ID]; !ok {
			return fmt.Errorf("%s:%d: query id %q is not in the corpus", path, line, q.ID)
		}
		for _, id := range append(append([]string(nil), q.Candidates...), q.Positives...) {
			if _, ok := c.pos[id]; !ok {
				return fmt.Errorf("%s:%d: query %q: id %q is not in the corpus", path, line, q.ID, id)
			}
		}
		qs = append(qs, q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no queries", path)
	}
	return qs, nil
}

func readJSONL(path string, fn func(line int, b []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if strings.TrimSpace(string(b)) == "" {
			continue
		}
		if err := fn(n, b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
