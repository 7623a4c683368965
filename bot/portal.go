package bot

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Portal reads: the roadmap, the changelog and its release health, and a
// request's demand over time (docs/portal.md).

// Release is one ship or rollback event with the requests it changed.
type Release struct {
	Event      *ReleaseEvent
	RequestIDs []int64    // the requests the event changed, as recorded (not resolved through later merges)
	Requests   []*Request // filled by the engine: the canonical requests, with counts, in RequestIDs order
}

// ReleaseFilter selects release events for PortalStore.ListReleases.
type ReleaseFilter struct {
	Version string // only events of this version; "" for any
	Limit   int    // 0 means every event
	Offset  int
}

// PortalStore is what the portal reads (implemented by *store.DB).
type PortalStore interface {
	// ListReleases returns ship and rollback events (not status notices),
	// newest first, with the ids of the requests each changed, and the
	// total number of such events matching f ignoring Limit and Offset.
	ListReleases(ctx context.Context, f ReleaseFilter) ([]*Release, int, error)
	// ShippedSince returns, for every request whose status is shipped and
	// whose latest ship was at or after t, the time of that ship.
	ShippedSince(ctx context.Context, t time.Time) (map[int64]time.Time, error)
	// RequestsOf returns the canonical requests the identity asked for or
	// voted on (directly or through a merged duplicate), newest first, at
	// most limit.
	RequestsOf(ctx context.Context, who Identity, limit int) ([]*Request, error)
	// DemandTimeline returns, for request id and everything merged into it,
	// the time each distinct person first counted (asked or voted), oldest
	// first.
	DemandTimeline(ctx context.Context, id int64) ([]time.Time, error)
	// ListRegressionAlerts returns every regression alert, oldest first.
	ListRegressionAlerts(ctx context.Context) ([]*RegressionAlert, error)
}

// maxReleaseRequests bounds the requests shown per release event.
const maxReleaseRequests = 500

// Releases returns ship and rollback events newest first with their
// requests (canonical, with counts), and the total count.
func (e *Engine) Releases(ctx context.Context, f ReleaseFilter) ([]*Release, int, error) {
	rels, total, err := e.store.ListReleases(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	var ids []int64
	for _, r := range rels {
		ids = append(ids, r.RequestIDs...)
	}
	if len(ids) == 0 {
		return rels, total, nil
	}
	roots, err := e.store.ResolveRequests(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range rels {
		seen := map[int64]bool{}
		for _, id := range r.RequestIDs {
			q := roots[id]
			if q == nil || seen[q.ID] || len(r.Requests) >= maxReleaseRequests {
				continue
			}
			seen[q.ID] = true
			r.Requests = append(r.Requests, q)
		}
	}
	return rels, total, nil
}

// ReleaseHealth measures how often releases are rolled back.
type ReleaseHealth struct {
	Releases   int `json:"releases"`    // versions that shipped
	RolledBack int `json:"rolled_back"` // of those, versions later rolled back
	// RollbackRate is RolledBack/Releases (0 when nothing shipped).
	RollbackRate float64 `json:"rollback_rate"`
	// MedianTimeToRollback is the median, over the rolled-back versions, of
	// the time from the version's first ship to its first rollback after
	// it, in seconds; nil when nothing was rolled back.
	MedianTimeToRollbackS *float64 `json:"median_time_to_rollback_s"`
	// Detected is how many releases raised a regression alert.
	Detected int `json:"detected"`
	// MedianTimeToDetection is the median, over the detected releases, of
	// the time from the release's first ship to its first regression
	// alert, in seconds; nil when no release raised an alert.
	MedianTimeToDetectionS *float64 `json:"median_time_to_detection_s"`
	// Detections are the detected releases, newest first.
	Detections []Detection `json:"detections"`
}

// Detection is the time to detection of one release: from its first ship
// (event EventID) to its first regression alert.
type Detection struct {
	EventID          int64   `json:"event_id"` // the release's first ship
	Version          string  `json:"version"`
	TimeToDetectionS float64 `json:"time_to_detection_s"`
}

// Health computes the release health over every ship and rollback event
// and the regression alerts, and for each rollback event id the time since
// the ship it undid.
func Health(rels []*Release, alerts []*RegressionAlert) (ReleaseHealth, map[int64]time.Duration) {
	// oldest first
	evs := make([]*Release, len(rels))
	copy(evs, rels)
	sort.Slice(evs, func(i, j int) bool { return evs[i].Event.ID < evs[j].Event.ID })
	type rel struct {
		first    int64 // the first ship's event id
		version  string
		shipped  time.Time
		rolled   bool
		duration time.Duration
		detected bool
		toDetect time.Duration
	}
	byKey := map[string]*rel{}
	var order []string
	lastShip := map[int64]string{} // request id -> key of the release that last shipped it
	shipKey := map[int64]string{}  // ship event id -> key of its release
	since := map[int64]time.Duration{}
	for _, r := range evs {
		ev := r.Event
		// A release is a version; each versionless ship is a release of
		// its own, and a versionless rollback undoes the latest earlier
		// ship of one of its requests.
		key := "v:" + ev.Version
		if ev.Version == "" {
			key = "e:" + strconv.FormatInt(ev.ID, 10)
		}
		switch ev.Action {
		case ActionShipped:
			if byKey[key] == nil {
				byKey[key] = &rel{first: ev.ID, version: ev.Version, shipped: ev.CreatedAt}
				order = append(order, key)
			}
			shipKey[ev.ID] = key
			for _, id := range r.RequestIDs {
				lastShip[id] = key
			}
		case ActionRolledBack:
			k := ""
			if ev.Version != "" && byKey[key] != nil {
				k = key
			} else {
				for _, id := range r.RequestIDs {
					if s, ok := lastShip[id]; ok {
						k = s
						break
					}
				}
			}
			if k == "" {
				continue
			}
			x := byKey[k]
			d := ev.CreatedAt.Sub(x.shipped)
			since[ev.ID] = d
			if !x.rolled {
				x.rolled, x.duration = true, d
			}
		}
	}
	// An alert belongs to the release of the ship it names.
	for _, a := range alerts {
		x := byKey[shipKey[a.EventID]]
		if x == nil {
			continue
		}
		if d := a.CreatedAt.Sub(x.shipped); !x.detected || d < x.toDetect {
			x.detected, x.toDetect = true, d
		}
	}
	h := ReleaseHealth{Releases: len(order), Detections: []Detection{}}
	var ds, dd []float64
	for _, k := range order {
		x := byKey[k]
		if x.rolled {
			h.RolledBack++
			ds = append(ds, x.duration.Seconds())
		}
		if x.detected {
			h.Detected++
			dd = append(dd, x.toDetect.Seconds())
			h.Detections = append(h.Detections, Detection{EventID: x.first, Version: x.version, TimeToDetectionS: x.toDetect.Seconds()})
		}
	}
	slices.Reverse(h.Detections)
	if h.Releases > 0 {
		h.RollbackRate = float64(h.RolledBack) / float64(h.Releases)
	}
	h.MedianTimeToRollbackS = median(ds)
	h.MedianTimeToDetectionS = median(dd)
	return h, since
}

// median of xs (sorted in place); nil when xs is empty.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return &m
}

// ReleaseHealth reads every ship and rollback event and every regression
// alert and measures them.
func (e *Engine) ReleaseHealth(ctx context.Context) (ReleaseHealth, map[int64]time.Duration, error) {
	rels, _, err := e.store.ListReleases(ctx, ReleaseFilter{})
	if err != nil {
		return ReleaseHealth{}, nil, err
	}
	alerts, err := e.store.ListRegressionAlerts(ctx)
	if err != nil {
		return ReleaseHealth{}, nil, err
	}
	h, since := Health(rels, alerts)
	return h, since, nil
}

// RoadmapWindow is how far back the roadmap's Shipped column reaches.
const RoadmapWindow = 90 * 24 * time.Hour

// roadmapColumnLimit bounds each roadmap column.
const roadmapColumnLimit = 200

// Roadmap is the board as a plan: planned, in progress, recently shipped.
type Roadmap struct {
	Planned, InProgress, Shipped []*Request
	ShippedAt                    map[int64]time.Time
}

// Roadmap returns the planned and in-progress requests by demand and the
// requests shipped within RoadmapWindow of now, latest ship first; tag, when
// set, keeps only requests with that tag.
func (e *Engine) Roadmap(ctx context.Context, tag string, now time.Time) (*Roadmap, error) {
	out := &Roadmap{}
	var err error
	if out.Planned, _, err = e.store.FindRequests(ctx, RequestFilter{Status: StatusPlanned, Tag: tag, Limit: roadmapColumnLimit}); err != nil {
		return nil, err
	}
	if out.InProgress, _, err = e.store.FindRequests(ctx, RequestFilter{Status: StatusInProgress, Tag: tag, Limit: roadmapColumnLimit}); err != nil {
		return nil, err
	}
	if out.ShippedAt, err = e.store.ShippedSince(ctx, now.Add(-RoadmapWindow)); err != nil {
		return nil, err
	}
	if len(out.ShippedAt) > 0 {
		ids := make([]int64, 0, len(out.ShippedAt))
		for id := range out.ShippedAt {
			ids = append(ids, id)
		}
		if out.Shipped, _, err = e.store.FindRequests(ctx, RequestFilter{Status: StatusShipped, IDs: ids, Tag: tag, Limit: roadmapColumnLimit}); err != nil {
			return nil, err
		}
		sort.SliceStable(out.Shipped, func(i, j int) bool {
			a, b := out.ShippedAt[out.Shipped[i].ID], out.ShippedAt[out.Shipped[j].ID]
			if !a.Equal(b) {
				return a.After(b)
			}
			return out.Shipped[i].ID < out.Shipped[j].ID
		})
	}
	return out, nil
}

// DemandTimeline returns when each distinct person behind request id (and
// what is merged into it) first counted, oldest first.
func (e *Engine) DemandTimeline(ctx context.Context, id int64) ([]time.Time, error) {
	return e.store.DemandTimeline(ctx, id)
}

// HomeLimit bounds each list of the home tab.
const HomeLimit = 10

// Home is what a person's home tab shows: their own requests (asked or
// voted) and the top requests.
type Home struct {
	Mine, Top []HomeItem
}

// HomeItem is one request on the home tab.
type HomeItem struct {
	Key, Title string
	Status     Status
	Demand     int
}

// Home returns the home tab of actor a.
func (e *Engine) Home(ctx context.Context, a Actor) (*Home, error) {
	mine, err := e.store.RequestsOf(ctx, a.Identity, HomeLimit)
	if err != nil {
		return nil, err
	}
	top, _, err := e.store.FindRequests(ctx, RequestFilter{Sort: SortDemand, Limit: HomeLimit})
	if err != nil {
		return nil, err
	}
	items := func(rs []*Request) []HomeItem {
		out := []HomeItem{}
		for _, r := range rs {
			out = append(out, HomeItem{Key: e.Key(r.ID), Title: r.Title, Status: r.Status, Demand: r.Demand})
		}
		return out
	}
	return &Home{Mine: items(mine), Top: items(top)}, nil
}
