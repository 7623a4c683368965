package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// parseHealthcheck reads the listener address (FEEDBACKBOT_HTTP_ADDR or
// --http-addr), --live and --timeout.
func (m *Main) parseHealthcheck(args []string) error {
	return m.parseConfig("healthcheck", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&m.healthLive, "live", false, "check /healthz (the process answers) instead of /readyz (database and chat adapters ready)")
		fs.DurationVar(&m.healthTimeout, "timeout", 5*time.Second, "how long to wait for the answer")
	})
}

// healthcheck asks the bot listening on the configured address whether it
// is ready (GET /readyz, or /healthz with --live) and fails unless it
// answers 200. It is the image's HEALTHCHECK: distroless has no curl.
func (m *Main) healthcheck(ctx context.Context) error {
	path := "/readyz"
	if m.healthLive {
		path = "/healthz"
	}
	url := "http://" + localAddr(m.Config.HTTPAddr) + path
	ctx, cancel := context.WithTimeout(ctx, m.healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: FEEDBACKBOT_HTTP_ADDR %q: %v", errUsage, m.Config.HTTPAddr, err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}} // never through a proxy
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET %s answered %s %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(m.Stdout, "healthy: GET %s answered %s\n", url, resp.Status)
	return nil
}

// localAddr turns a listen address into one to dial on this host: an
// unspecified host (":8080", "0.0.0.0:8080", "[::]:8080") is loopback.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
