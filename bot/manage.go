package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Merge merges request src into dst (team only).
func (e *Engine) Merge(ctx context.Context, ev *Event, src, dst int64) (*Response, error) {
	if err := RequireTeam(ev.User, "merge requests"); err != nil {
		return nil, err
	}
	if _, err := e.resolve(ctx, src); err != nil {
		return nil, err
	}
	if _, err := e.resolve(ctx, dst); err != nil {
		return nil, err
	}
	target, err := e.store.Merge(ctx, src, dst, actorName(ev.User))
	if err != nil {
		return nil, e.keyedError(err)
	}
	e.metrics.Merged()
	e.reindex(ctx, src)
	return &Response{Text: fmt.Sprintf("🔗 Merged %s into %s: %s (%s, %s).", e.Key(src), e.Key(target.ID), target.Title, peopleCount(target.Demand), orgCount(target.Orgs))}, nil
}

// Unmerge restores a merged request (team only).
func (e *Engine) Unmerge(ctx context.Context, ev *Event, src int64) (*Response, error) {
	if err := RequireTeam(ev.User, "unmerge requests"); err != nil {
		return nil, err
	}
	if _, err := e.resolve(ctx, src); err != nil {
		return nil, err
	}
	req, err := e.store.Unmerge(ctx, src, actorName(ev.User))
	if err != nil {
		return nil, e.keyedError(err)
	}
	e.reindex(ctx, src)
	return &Response{Text: fmt.Sprintf("↔️ %s is its own request again: %s (%s).", e.Key(req.ID), req.Title, peopleCount(req.Demand))}, nil
}

var storeNumberRe = regexp.MustCompile(`(?i)\b(request|merging) (\d+)\b`)

// keyedError rewrites the store's "Request 12" wording into keys ("FB-12").
func (e *Engine) keyedError(err error) error {
	be, ok := err.(*Error)
	if !ok {
		return err
	}
	msg := storeNumberRe.ReplaceAllStringFunc(be.Message, func(m string) string {
		p := storeNumberRe.FindStringSubmatch(m)
		key := e.cfg.KeyPrefix + "-" + p[2]
		if strings.EqualFold(p[1], "merging") {
			return "merging " + key
		}
		return key
	})
	return &Error{Code: be.Code, Message: msg}
}

// SetStatus changes a request's status to open, planned, in_progress or
// declined (team only). Shipping and rolling back go through Release.
func (e *Engine) SetStatus(ctx context.Context, ev *Event, id int64, to Status, note string) (*Response, error) {
	if err := RequireTeam(ev.User, "change a request's status"); err != nil {
		return nil, err
	}
	switch to {
	case StatusOpen, StatusPlanned, StatusInProgress, StatusDeclined:
	case StatusShipped, StatusRolledBack:
		return nil, Errorf(EINVALID, "Use /feedback ship or /feedback rollback to ship or roll back.")
	default:
		return nil, Errorf(EINVALID, "Unknown status %q: use open, planned, in_progress or declined.", clip(string(to), 30))
	}
	req, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := e.store.SetStatus(ctx, req.ID, to, actorName(ev.User), "", note); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, Errorf(ECONFLICT, "%s is already %s.", e.Key(req.ID), to)
		}
		return nil, err
	}
	e.reindex(ctx, req.ID)
	return &Response{Text: fmt.Sprintf("%s is now %s: %s.", e.Key(req.ID), to, req.Title)}, nil
}

// SetChannel marks or unmarks a channel as watched or as a release channel
// (team only).
func (e *Engine) SetChannel(ctx context.Context, ev *Event, channel, kind string, on bool) (*Response, error) {
	if err := RequireTeam(ev.User, "change which channels I watch"); err != nil {
		return nil, err
	}
	if channel == "" {
		channel = ev.Channel
	}
	if channel == "" {
		return nil, Errorf(EINVALID, "Name a channel, for example #ideas.")
	}
	changed, err := e.store.SetChannel(ctx, ChannelSetting{Platform: ev.Platform, Workspace: ev.Workspace, Channel: channel, Kind: kind, SetBy: actorName(ev.User)}, on)
	e.channels.forget(ev.Platform, ev.Workspace, channel)
	if err != nil {
		return nil, err
	}
	name := e.channelName(ev.Platform, channel)
	var text string
	switch {
	case kind == ChannelWatch && on && changed:
		text = fmt.Sprintf("👀 Watching %s: every new top-level message there becomes feedback.", name)
	case kind == ChannelWatch && on:
		text = fmt.Sprintf("I already watch %s.", name)
	case kind == ChannelWatch && changed:
		text = fmt.Sprintf("Stopped watching %s.", name)
	case kind == ChannelWatch:
		text = fmt.Sprintf("I was not watching %s.", name)
	case on && changed:
		text = fmt.Sprintf("📣 %s is a release channel: release leads' announcements there ship and roll back requests.", name)
	case on:
		text = fmt.Sprintf("%s is already a release channel.", name)
	case changed:
		text = fmt.Sprintf("%s is no longer a release channel.", name)
	default:
		text = fmt.Sprintf("%s was not a release channel.", name)
	}
	return &Response{Text: text}, nil
}

// ChannelNamer is implemented by platforms that can show a channel id the way
// people write it ("#ideas", "<#C123>").
type ChannelNamer interface {
	ChannelName(id string) string
}

func (e *Engine) channelName(platform, id string) string {
	if n, ok := e.platform(platform).(ChannelNamer); ok {
		return n.ChannelName(id)
	}
	return id
}
