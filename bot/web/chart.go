package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// The demand chart on the request page: distinct people, cumulative, drawn
// as inline SVG on the server (no JavaScript). Up to chartDailyDays days it
// counts by day, beyond that by week (weeks start on Monday).

const (
	chartW, chartH                   = 640, 200
	chartLeft, chartRight            = 44, 12
	chartTop, chartBottom            = 12, 30
	chartDailyDays                   = 90
	chartDayLayout, chartMonthLayout = "2 Jan 2006", "Jan 2006"
)

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// demandSeries buckets the first-vote times ts (oldest first) from the first
// one's day to now's: the start of each bucket and the people counted by its
// end, and whether the buckets are weeks.
func demandSeries(ts []time.Time, now time.Time) (starts []time.Time, counts []int, weekly bool) {
	if len(ts) == 0 {
		return nil, nil, false
	}
	start, end := dayOf(ts[0]), dayOf(now)
	if last := dayOf(ts[len(ts)-1]); last.After(end) {
		end = last
	}
	step := 24 * time.Hour
	if end.Sub(start) >= chartDailyDays*24*time.Hour {
		weekly = true
		step = 7 * 24 * time.Hour
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7)) // Monday
	}
	j := 0
	for b := start; !b.After(end); b = b.Add(step) {
		next := b.Add(step)
		for j < len(ts) && ts[j].Before(next) {
			j++
		}
		starts = append(starts, b)
		counts = append(counts, j)
	}
	return starts, counts, weekly
}

// demandChart renders the chart for key with the first-vote times ts.
func demandChart(key string, ts []time.Time, now time.Time) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	starts, counts, weekly := demandSeries(ts, now)
	unit := "day"
	if weekly {
		unit = "week"
	}
	title := "Demand over time for " + key
	var desc string
	if len(counts) == 0 {
		desc = "No one has asked for " + key + " yet."
	} else {
		first, last := starts[0].Format(chartDayLayout), starts[len(starts)-1].Format(chartDayLayout)
		desc = fmt.Sprintf("%s by %s, counted by %s since %s (%s on the first %s).", peopleText(counts[len(counts)-1]), last, unit, first, peopleText(counts[0]), unit)
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title><desc id="chart-desc">%s</desc>`, esc(title), esc(desc))
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	x0, y0 := float64(chartLeft), float64(chartTop)+plotH
	// axes
	fmt.Fprintf(&b, `<path d="M%.0f %.0f V%.0f H%.0f" fill="none" stroke="#c5cad6" stroke-width="1"/>`, x0, float64(chartTop), y0, x0+plotW)
	if len(counts) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="#5f6b7f" font-size="13">No one yet</text></svg>`, x0+plotW/2, float64(chartTop)+plotH/2)
		return template.HTML(b.String())
	}
	top := counts[len(counts)-1]
	x := func(i int) float64 {
		if len(counts) == 1 {
			return x0 + plotW/2
		}
		return x0 + plotW*float64(i)/float64(len(counts)-1)
	}
	y := func(c int) float64 { return y0 - plotH*float64(c)/float64(top) }
	// y ticks: 0, the middle when it is a whole number apart, the top
	ticks := []int{0, top}
	if top >= 4 {
		ticks = []int{0, top / 2, top}
	}
	for _, c := range ticks {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" fill="#5f6b7f" font-size="11">%d</text>`, x0-6, y(c)+4, c)
		if c > 0 {
			fmt.Fprintf(&b, `<path d="M%.0f %.1f H%.0f" stroke="#eceef5" stroke-width="1"/>`, x0+1, y(c), x0+plotW)
		}
	}
	// x labels: the first and last buckets, and the middle one when there is room
	layout := chartDayLayout
	if weekly && starts[len(starts)-1].Sub(starts[0]) > 180*24*time.Hour {
		layout = chartMonthLayout
	}
	labels := []int{0}
	if len(starts) > 1 {
		labels = append(labels, len(starts)-1)
	}
	if len(starts) > 4 {
		labels = append(labels, len(starts)/2)
	}
	for k, i := range labels {
		anchor := "middle"
		if len(starts) > 1 && k == 0 {
			anchor = "start"
		} else if k == 1 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" fill="#5f6b7f" font-size="11">%s</text>`, x(i), chartH-10, anchor, starts[i].Format(layout))
	}
	// the cumulative line as steps, with the area under it
	var pts strings.Builder
	for i, c := range counts {
		if i > 0 {
			fmt.Fprintf(&pts, " %.1f,%.1f", x(i), y(counts[i-1]))
		}
		fmt.Fprintf(&pts, " %.1f,%.1f", x(i), y(c))
	}
	line := strings.TrimSpace(pts.String())
	if len(counts) == 1 {
		line = fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x0, y(counts[0]), x0+plotW, y(counts[0]))
	}
	first, last := line[:strings.IndexByte(line, ',')], line[strings.LastIndexByte(line, ' ')+1:]
	lastX := last[:strings.IndexByte(last, ',')]
	fmt.Fprintf(&b, `<polygon points="%s,%.1f %s %s,%.1f" fill="#eef0ff"/>`, first, y0, line, lastX, y0)
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#4f46e5" stroke-width="2" stroke-linejoin="round"/>`, line)
	fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="#4f46e5"/>`, lastX, last[strings.IndexByte(last, ',')+1:])
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
