package bot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The capture spool: the pending queue (pending.go) written to a local
// file as well, so that a restart during a database outage does not lose
// what it holds. The file is a log of JSON lines, one "keep" record per
// kept capture and one "done" record when it is stored or given up; it is
// emptied whenever the queue is, and rewritten with only the kept captures
// when it is opened. Records are written (not synced) as they happen: a
// process that crashes or is killed loses nothing, a machine that loses
// power may lose the last ones. The file holds the captured messages'
// text, so it is created readable by its owner only.

// spoolRecord is one line of the spool.
type spoolRecord struct {
	Op      string     `json:"op"` // "keep" or "done"
	ID      int64      `json:"id"`
	Event   *Event     `json:"event,omitempty"`
	Actor   *Actor     `json:"actor,omitempty"`
	Message *Message   `json:"message,omitempty"`
	Via     string     `json:"via,omitempty"`
	To      *Recipient `json:"to,omitempty"`
	Quiet   bool       `json:"quiet,omitempty"`
	Since   time.Time  `json:"since"`
	Err     string     `json:"err,omitempty"`
}

func keepRecord(p *pendingCapture) spoolRecord {
	r := spoolRecord{Op: "keep", ID: p.id, Event: p.Event, Message: p.Message, Via: p.Via, Quiet: p.Quiet, Since: p.Since}
	to := p.To
	r.To = &to
	if p.Event == nil {
		a := p.Actor
		r.Actor = &a
	}
	if p.LastErr != nil {
		r.Err = ErrorMessage(p.LastErr)
	}
	return r
}

func (r spoolRecord) capture() *pendingCapture {
	p := &pendingCapture{Event: r.Event, Message: r.Message, Via: r.Via, Quiet: r.Quiet, Since: r.Since,
		LastErr: Errorf(EUNAVAILABLE, "%s", r.Err)}
	if r.Err == "" {
		p.LastErr = Errorf(EUNAVAILABLE, "The database is unavailable; try again in a moment.")
	}
	if r.Actor != nil {
		p.Actor = *r.Actor
	}
	if r.To != nil {
		p.To = *r.To
	}
	return p
}

// OpenCaptureSpool keeps the chat captures kept through a database outage
// in the file at path too, so that a restart does not lose them (README
// "Database outages"). The captures a previous process left in the file
// are kept again, before any kept since this one started, and tried at
// once; it returns how many. Call it once, after the platforms are added
// (a capture's card and the message to its person need them). Each
// process needs a file of its own.
func (e *Engine) OpenCaptureSpool(path string) (int, error) {
	q := e.pending
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("capture spool: %w", err)
	}
	var order []int64
	kept := map[int64]spoolRecord{}
	bad := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r spoolRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			bad++ // a line cut short by a crash
			continue
		}
		switch r.Op {
		case "keep":
			if _, ok := kept[r.ID]; !ok && (r.Event != nil || r.Message != nil) {
				order = append(order, r.ID)
				kept[r.ID] = r
			}
		case "done":
			delete(kept, r.ID)
		}
	}
	var restored []*pendingCapture
	for _, id := range order {
		if r, ok := kept[id]; ok {
			restored = append(restored, r.capture())
		}
	}
	if bad > 0 {
		e.log.Warn("capture spool: unreadable lines skipped", "path", path, "lines", bad)
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if q.spool != nil {
		return 0, errors.New("capture spool: already open")
	}
	q.items = append(restored, q.items...)
	var buf bytes.Buffer
	q.nextID = 0
	for _, p := range q.items {
		q.nextID++
		p.id = q.nextID
		b, err := json.Marshal(keepRecord(p))
		if err != nil {
			return 0, fmt.Errorf("capture spool: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	for _, p := range restored {
		q.convs[convKey(p.To)]++
	}
	tmp := path + ".tmp"
	if err := writeSynced(tmp, buf.Bytes()); err != nil {
		return 0, fmt.Errorf("capture spool: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("capture spool: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("capture spool: %w", err)
	}
	q.spool = f
	if len(restored) > 0 {
		e.log.Warn("capture spool: captures kept by an earlier process, trying them again", "path", filepath.Base(path), "captures", len(restored))
		if !q.running {
			q.running = true
			go q.run()
		}
	}
	return len(restored), nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// spoolWrite appends r to the spool (q.mu held). A failure is logged once
// until a write succeeds again; the queue goes on in memory.
func (q *pendingQueue) spoolWrite(r spoolRecord) {
	if q.spool == nil {
		return
	}
	b, err := json.Marshal(r)
	if err == nil {
		_, err = q.spool.Write(append(b, '\n'))
	}
	if err == nil && r.Op == "keep" {
		// On disk before the caller goes on: a kept capture was already
		// acknowledged to the platform, so a crash must not lose it. A lost
		// "done" only makes a restart retry a capture, which finds itself
		// stored.
		err = q.spool.Sync()
	}
	q.spoolFailing(err)
}

// spoolReset empties the spool once the queue is empty (q.mu held).
func (q *pendingQueue) spoolReset() {
	if q.spool == nil || len(q.items) > 0 {
		return
	}
	q.spoolFailing(q.spool.Truncate(0))
}

func (q *pendingQueue) spoolFailing(err error) {
	if err == nil {
		q.spoolErr = false
		return
	}
	if !q.spoolErr {
		q.spoolErr = true
		q.e.log.Warn("capture spool: cannot write; kept captures are in memory only until it can", "err", err)
	}
}
