package bot

import (
	"context"
	"strings"
	"time"
)

// The regression signal (README "Regression signal"): after a request
// ships, replies joined to its threads are post-ship feedback. When replies
// that report a problem (IsProblemReport) come from RegressionReports
// distinct people within RegressionWindow of the ship, the bot raises one
// alert per (version, request) in the release channel, with a "Roll back"
// button for release leads.

// RegressionWindow is how long after a ship problem reports count.
const RegressionWindow = 7 * 24 * time.Hour

// actionRollback is the alert button: "rollback:<alert id>".
const actionRollback = "rollback"

// ProblemReport is a post-ship reply that reports a problem.
type ProblemReport struct {
	Mention *Mention
	Version string
}

// lastShip returns the ship that put request id in its current shipped
// state, or nil when it is not shipped.
func (e *Engine) lastShip(ctx context.Context, r *Request) (*StatusChange, error) {
	if r.Status != StatusShipped {
		return nil, nil
	}
	hs, err := e.store.FindHistory(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].To == StatusShipped && hs[i].EventID != nil {
			return hs[i], nil
		}
		if hs[i].To != StatusShipped {
			return nil, nil
		}
	}
	return nil, nil
}

// problemReports returns the replies in r's threads that report a problem
// within RegressionWindow after ship.
func problemReports(ms []*Mention, ship *StatusChange) []*Mention {
	var out []*Mention
	for _, m := range ms {
		if m.Via != ViaThread || m.Deleted || m.CreatedAt.Before(ship.CreatedAt) || m.CreatedAt.After(ship.CreatedAt.Add(RegressionWindow)) {
			continue
		}
		if IsProblemReport(m.Text) {
			out = append(out, m)
		}
	}
	return out
}

// postShipProblems lists the problem reports after the latest ship in
// history (even when it was rolled back since), for the request page and
// /feedback show.
func postShipProblems(hs []*StatusChange, ms []*Mention) []ProblemReport {
	var ship *StatusChange
	for _, h := range hs {
		if h.To == StatusShipped {
			ship = h
		}
	}
	if ship == nil {
		return nil
	}
	var out []ProblemReport
	for _, m := range problemReports(ms, ship) {
		out = append(out, ProblemReport{Mention: m, Version: ship.Version})
	}
	return out
}

// checkRegression runs after reply m joined request id's thread.
func (e *Engine) checkRegression(ctx context.Context, id int64, m *Mention) error {
	if !IsProblemReport(m.Text) {
		return nil
	}
	r, err := e.store.ResolveRequest(ctx, id)
	if err != nil {
		return err
	}
	ship, err := e.lastShip(ctx, r)
	if err != nil || ship == nil {
		return err
	}
	ms, err := e.store.FindMentions(ctx, r.ID)
	if err != nil {
		return err
	}
	reports := problemReports(ms, ship)
	people := map[Identity]bool{}
	var links []string
	for _, p := range reports {
		who := Identity{Platform: p.Platform, Workspace: p.Workspace, UserID: p.AuthorID}
		if !people[who] {
			people[who] = true
			links = append(links, reportLink(p))
		}
	}
	if len(people) < e.cfg.RegressionReports {
		return nil
	}
	channel := e.alertChannel(ctx, r, m, ms)
	alert := &RegressionAlert{RequestID: r.ID, Version: ship.Version, EventID: *ship.EventID, People: len(people),
		Links: strings.Join(links, "\n"), Platform: m.Platform, Workspace: m.Workspace, Channel: channel, ShippedAt: ship.CreatedAt}
	d := &Delivery{Platform: m.Platform, Workspace: m.Workspace, Channel: channel,
		Text:    e.Text().RegressionAlert(alert),
		Buttons: actionRollback + ":{alert}|" + e.Text().RollbackButton(ship.Version)}
	if due := e.Outbox().Schedule([]Thread{{Platform: d.Platform, Workspace: d.Workspace, Channel: d.Channel}}, time.Now()); len(due) == 1 {
		d.NextAt = due[0]
	}
	created, err := e.store.CreateRegressionAlert(ctx, alert, d)
	if err != nil {
		return err
	}
	if created {
		e.Outbox().Kick()
	}
	return nil
}

// alertChannel is a channel marked for releases in the reply's workspace,
// else the channel of the request's first mention on that platform, else
// the reply's channel.
func (e *Engine) alertChannel(ctx context.Context, r *Request, m *Mention, ms []*Mention) string {
	if cs, err := e.store.FindChannelsOfKind(ctx, m.Platform, m.Workspace, ChannelReleases); err == nil && len(cs) > 0 {
		return cs[0]
	}
	for _, x := range ms {
		if x.Platform == m.Platform && x.Workspace == m.Workspace && x.Channel != "" {
			return x.Channel
		}
	}
	return m.Channel
}

func reportLink(m *Mention) string {
	if m.Permalink != "" {
		return m.Permalink
	}
	return m.Channel + "/" + m.MessageID
}

// RollbackAlertInput names the alert whose button was clicked.
type RollbackAlertInput struct {
	Alert    int64
	Platform string
}

// RollbackAlert rolls back the alert's request in the alert's version, the
// same Release use case as /feedback rollback (release leads only).
func (e *Engine) RollbackAlert(ctx context.Context, a Actor, in RollbackAlertInput) (*ReleaseOutcome, error) {
	if err := RequireReleaseLead(a, doRollback); err != nil {
		return nil, err
	}
	al, err := e.store.FindRegressionAlert(ctx, in.Alert)
	if err != nil {
		return nil, err
	}
	return e.Release(ctx, a, ReleaseCommand{Action: ActionRolledBack, Keys: []string{e.Key(al.RequestID)}, Version: al.Version,
		Platform: in.Platform})
}

// parseButtons reads a delivery's buttons ("id|label" a line).
func parseButtons(s string) []Button {
	var bs []Button
	for _, line := range strings.Split(s, "\n") {
		id, label, ok := strings.Cut(line, "|")
		if ok && id != "" {
			bs = append(bs, Button{ID: id, Label: label, Style: "danger"})
		}
	}
	return bs
}
