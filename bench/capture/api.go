package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// APIOptions configure a load run against POST /api/v1/feedback of a
// running bot.
type APIOptions struct {
	// URL is the bot's base URL (http://127.0.0.1:8080); the path
	// /api/v1/feedback is added.
	URL string
	// Token is the API token (FEEDBACKBOT_API_TOKEN of the bot).
	Token string
	// Load is the concurrency (clients posting at once) or rate, the
	// length of the run and the progress output.
	Load
	// NearDuplicates is the share (0..1) of posts that are near-duplicates
	// of earlier posts of the same run; the others are new texts.
	NearDuplicates float64
	// Seed seeds the text generator; 0 takes one from the clock, so each
	// run sends texts the board has not seen.
	Seed uint64
	// EmailAuthors is the share (0..1) of posts whose author is an email
	// address (l123@example.com, of the same 50,000 users as the others,
	// L123): the bot records such an author's identity and email, which
	// other authors do not cost.
	EmailAuthors float64
	// Sources is the number of distinct "source" values posted.
	Sources int
	// Timeout bounds each request (0: 30 s).
	Timeout time.Duration
}

// APIResult is what an API load run measured.
type APIResult struct {
	URL      string
	Seed     uint64
	Sent     int // posts answered (any status) or failed
	Created  int // answered 201
	Suggest  int // 201 answers with possible duplicates
	Errors   int // anything else: other statuses, transport errors
	Statuses map[int]int
	Elapsed  time.Duration
	// Throughput is 201 answers per second over the run; MinSecond and
	// MedianSecond are the fewest and the median answers (any status) in
	// one whole second of it.
	Throughput              float64
	MinSecond, MedianSecond int
	P50, P95, P99, Max      time.Duration
	FirstError              string
}

// RunAPI posts feedback to o.URL over real HTTP (keep-alive connections,
// one per client) until the duration or count is reached or ctx ends, and
// reports throughput and latency as the client sees them.
func RunAPI(ctx context.Context, o APIOptions) (*APIResult, error) {
	if o.Duration <= 0 && o.Count <= 0 {
		return nil, fmt.Errorf("set a duration or a count")
	}
	if o.NearDuplicates < 0 || o.NearDuplicates >= 1 {
		return nil, fmt.Errorf("the near-duplicate share must be at least 0 and below 1")
	}
	if o.EmailAuthors < 0 || o.EmailAuthors > 1 {
		return nil, fmt.Errorf("the email-author share must be between 0 and 1")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Sources <= 0 {
		o.Sources = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url must be an http or https URL, such as http://127.0.0.1:8080")
	}
	endpoint := strings.TrimSuffix(o.URL, "/") + "/api/v1/feedback"
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.Concurrency * 2,
		MaxIdleConnsPerHost: o.Concurrency * 2,
		MaxConnsPerHost:     o.Concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.Timeout}

	gen := textgen.New(o.Seed)
	res := &APIResult{URL: endpoint, Seed: o.Seed, Statuses: map[int]int{}}
	var created, suggested atomic.Int64
	statuses := make([]atomic.Int64, 600)
	type post struct {
		Source string `json:"source"`
		Author string `json:"author"`
		Org    string `json:"org,omitempty"`
		Text   string `json:"text"`
	}
	st := drive(ctx, o.Load, func(ctx context.Context, k int) error {
		u := apiAuthor(k, o.EmailAuthors)
		body, err := json.Marshal(post{
			Source: "bench-" + strconv.Itoa(k%o.Sources), Author: u, Org: "T" + strconv.Itoa(k%30),
			Text: gen.Mixed(k, o.NearDuplicates),
		})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if o.Token != "" {
			req.Header.Set("Authorization", "Bearer "+o.Token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode > 0 && resp.StatusCode < len(statuses) {
			statuses[resp.StatusCode].Add(1)
		}
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("%s: %s", resp.Status, clip(strings.TrimSpace(string(data)), 200))
		}
		var out struct {
			PossibleDuplicates []string `json:"possible_duplicates"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return fmt.Errorf("answer is not JSON: %v", err)
		}
		created.Add(1)
		if len(out.PossibleDuplicates) > 0 {
			suggested.Add(1)
		}
		return nil
	})
	for code := range statuses {
		if n := statuses[code].Load(); n > 0 {
			res.Statuses[code] = int(n)
		}
	}
	res.Elapsed = st.elapsed
	res.Sent = st.sent
	res.Errors = st.errs
	res.FirstError = st.first
	res.Created = int(created.Load())
	res.Suggest = int(suggested.Load())
	if res.Elapsed > 0 {
		res.Throughput = float64(res.Created) / res.Elapsed.Seconds()
	}
	res.MinSecond, res.MedianSecond = st.seconds()
	res.P50, res.P95, res.P99, res.Max = st.percentiles()
	return res, nil
}

// apiAuthor is the author of post k: one of 50,000 users, L123, or for a
// share email of the posts (spread evenly over the run) the same user as
// an address, l123@example.com.
func apiAuthor(k int, email float64) string {
	n := strconv.Itoa((k * 7919) % 50_000)
	if email > 0 && int(float64(k+1)*email) > int(float64(k)*email) {
		return "l" + n + "@example.com"
	}
	return "L" + n
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Print writes the result as a small report.
func (r *APIResult) Print(w io.Writer, o APIOptions) {
	mode := "closed loop"
	if o.Rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s", o.Rate)
	}
	authors := ""
	if o.EmailAuthors > 0 {
		authors = fmt.Sprintf(", %.0f%% email authors", o.EmailAuthors*100)
	}
	fmt.Fprintf(w, "api load: POST %s, %d clients, %s, %.0f%% near-duplicates%s, seed %d, %d CPUs\n",
		r.URL, o.Concurrency, mode, o.NearDuplicates*100, authors, r.Seed, runtime.NumCPU())
	var codes []string
	for code := 100; code < 600; code++ {
		if n := r.Statuses[code]; n > 0 {
			codes = append(codes, fmt.Sprintf("%d×%d", n, code))
		}
	}
	fmt.Fprintf(w, "posts:       %d in %v (%d created, %d with possible duplicates, %d errors; statuses %s)\n",
		r.Sent, r.Elapsed.Round(time.Millisecond), r.Created, r.Suggest, r.Errors, strings.Join(codes, " "))
	fmt.Fprintf(w, "throughput:  %.0f captures/s (answers per whole second: min %d, median %d)\n", r.Throughput, r.MinSecond, r.MedianSecond)
	fmt.Fprintf(w, "latency:     p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
}
