package web

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// parseSVG checks that the chart is well-formed XML with an accessible
// title and description and returns them with its text labels.
func parseSVG(t *testing.T, svg string) (title, desc string, labels []string) {
	t.Helper()
	var doc struct {
		XMLName xml.Name
		Role    string   `xml:"role,attr"`
		Title   string   `xml:"title"`
		Desc    string   `xml:"desc"`
		Texts   []string `xml:"text"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("chart is not well-formed: %v\n%s", err, svg)
	}
	if doc.XMLName.Local != "svg" || doc.Role != "img" || doc.Title == "" || doc.Desc == "" {
		t.Fatalf("svg %v role %q title %q desc %q", doc.XMLName, doc.Role, doc.Title, doc.Desc)
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Fatalf("chart has NaN/Inf coordinates:\n%s", svg)
	}
	return doc.Title, doc.Desc, doc.Texts
}

func TestDemandChart(t *testing.T) {
	day := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	t.Run("NoVotes", func(t *testing.T) {
		svg := string(demandChart("FB-1", nil, day(2026, 3, 1, 12)))
		_, desc, labels := parseSVG(t, svg)
		if desc != "No one has asked for FB-1 yet." || strings.Join(labels, "|") != "No one yet" || strings.Contains(svg, "polyline") {
			t.Errorf("desc %q labels %v\n%s", desc, labels, svg)
		}
	})
	t.Run("OneDay", func(t *testing.T) {
		ts := []time.Time{day(2026, 3, 1, 9), day(2026, 3, 1, 10), day(2026, 3, 1, 11)}
		starts, counts, weekly := demandSeries(ts, day(2026, 3, 1, 18))
		if len(starts) != 1 || counts[0] != 3 || weekly {
			t.Fatalf("series %v %v %v", starts, counts, weekly)
		}
		title, desc, labels := parseSVG(t, string(demandChart("FB-2", ts, day(2026, 3, 1, 18))))
		if title != "Demand over time for FB-2" || desc != "3 people by 1 Mar 2026, counted by day since 1 Mar 2026 (3 people on the first day)." {
			t.Errorf("title %q desc %q", title, desc)
		}
		// y axis 0 and 3, one date on the x axis
		if strings.Join(labels, "|") != "0|3|1 Mar 2026" {
			t.Errorf("labels %v", labels)
		}
	})
	t.Run("Days", func(t *testing.T) {
		ts := []time.Time{day(2026, 3, 1, 9), day(2026, 3, 3, 10), day(2026, 3, 3, 23)}
		_, counts, weekly := demandSeries(ts, day(2026, 3, 5, 1))
		if fmt.Sprint(counts) != "[1 1 3 3 3]" || weekly {
			t.Fatalf("counts %v weekly %v", counts, weekly)
		}
	})
	t.Run("ManyMonths", func(t *testing.T) {
		var ts []time.Time
		for i := 0; i < 40; i++ {
			ts = append(ts, day(2025, 1, 6, 9).AddDate(0, 0, i*10)) // every 10 days for 13 months
		}
		now := day(2026, 2, 20, 12)
		starts, counts, weekly := demandSeries(ts, now)
		if !weekly || len(starts) < 55 || len(starts) > 62 || counts[len(counts)-1] != 40 || starts[0].Weekday() != time.Monday {
			t.Fatalf("weekly %v buckets %d last %d first %v", weekly, len(starts), counts[len(counts)-1], starts[0])
		}
		for i := 1; i < len(counts); i++ {
			if counts[i] < counts[i-1] {
				t.Fatalf("not cumulative at %d: %v", i, counts)
			}
		}
		_, desc, labels := parseSVG(t, string(demandChart("FB-3", ts, now)))
		if !strings.Contains(desc, "40 people by") || !strings.Contains(desc, "counted by week since 6 Jan 2025") {
			t.Errorf("desc %q", desc)
		}
		// y: 0, 20, 40; x: first month, last month, a month in between
		if len(labels) != 6 || labels[0] != "0" || labels[1] != "20" || labels[2] != "40" || labels[3] != "Jan 2025" || labels[4] != "Feb 2026" ||
			!regexp.MustCompile(`^[A-Z][a-z]{2} 202[56]$`).MatchString(labels[5]) {
			t.Errorf("labels %v", labels)
		}
	})
}

// TestRequestPage_Chart: the request page draws the chart over the
// request and what is merged into it.
func TestRequestPage_Chart(t *testing.T) {
	env := newEnv(t)
	seed(env)
	for key, want := range map[string]string{"FB-1": "4 people by ", "FB-2": "3 people by "} {
		body := env.do("GET", "/requests/"+key, "").Body
		i := strings.Index(body, `<svg class="chart"`)
		if i < 0 {
			t.Fatalf("%s: no chart", key)
		}
		svg := body[i : strings.Index(body, "</svg>")+len("</svg>")]
		if _, desc, _ := parseSVG(t, svg); !strings.HasPrefix(desc, want) {
			t.Errorf("%s: desc %q, want %q…", key, desc, want)
		}
	}
}
