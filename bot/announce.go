package bot

import (
	"context"
	"regexp"
	"strings"
)

// Announcement is a ship or roll back parsed from a release-channel message.
type Announcement struct {
	Action  string
	Keys    []string
	Version string
}

var (
	rollbackWords = regexp.MustCompile(`(?i)\b(roll(ing|ed)?[\s-]*back|rollbacks?|revert(ed|ing|s)?|backed out|pull(ed|ing) back)\b`)
	shipWords     = regexp.MustCompile(`(?i)\b(ship(ped|ping|s)?|releas(e|ed|ing|es)|deploy(ed|ing|s)?|launch(ed|ing|es)?|live|out now|available now|rolled out|rolling out)\b`)
	versionRe     = regexp.MustCompile(`(?i)(?:^|[\s(\[,;:])(v\d+(?:\.\d+)*(?:[-+][0-9a-z]+(?:\.[0-9a-z]+)*)?|\d+\.\d+(?:\.\d+)*(?:[-+][0-9a-z]+(?:\.[0-9a-z]+)*)?)(?:$|[\s)\],;:!?]|\.(?:\s|$))`)
)

// ParseAnnouncement reads a release announcement such as "Shipped FB-12 and
// FB-31 in v2.4" or "Rolling back v2.4 (FB-12)". ok is false when the text
// names no request key or says neither ship nor roll back.
func ParseAnnouncement(prefix, text string) (a Announcement, ok bool) {
	if len(text) > 20000 {
		text = text[:20000]
	}
	keyRe := regexp.MustCompile(`(?i)(?:^|[^0-9A-Za-z_-])(` + regexp.QuoteMeta(prefix) + `-[0-9]{1,19})(?:$|[^0-9A-Za-z_])`)
	seen := map[string]bool{}
	// FindAll with overlapping separators: scan repeatedly.
	rest := text
	for {
		loc := keyRe.FindStringSubmatchIndex(rest)
		if loc == nil {
			break
		}
		k := strings.ToUpper(rest[loc[2]:loc[3]])
		k = prefix + k[len(prefix):]
		if !seen[k] {
			seen[k] = true
			a.Keys = append(a.Keys, k)
		}
		rest = rest[loc[3]:]
	}
	if len(a.Keys) == 0 {
		return a, false
	}
	switch {
	case rollbackWords.MatchString(text):
		a.Action = ActionRolledBack
	case shipWords.MatchString(text):
		a.Action = ActionShipped
	default:
		return a, false
	}
	stripped := keyRe.ReplaceAllString(text, " ")
	if m := versionRe.FindStringSubmatch(stripped); m != nil {
		a.Version = m[1]
	}
	return a, true
}

// onAnnouncement acts on a top-level message in a release channel: a
// release lead's announcement ships or rolls back the requests it names,
// and the answer goes in the announcement's thread.
func (e *Engine) onAnnouncement(ctx context.Context, m *Message) error {
	a, ok := ParseAnnouncement(e.cfg.KeyPrefix, m.Text)
	if !ok || !m.Author.ReleaseLead {
		return nil
	}
	thread := OutMessage{Workspace: m.Workspace, Channel: m.Channel, ThreadID: m.ID}
	out, err := e.Release(ctx, PersonActor(m.Platform, m.Workspace, m.Author), ReleaseCommand{
		Action: a.Action, Keys: a.Keys, Version: a.Version,
		AllowUnknown: true, Progress: &thread, Platform: m.Platform,
		IdempotencyKey: "announcement:" + m.Platform + ":" + m.Workspace + ":" + m.Channel + ":" + m.ID,
	})
	if err != nil {
		if p := e.platform(m.Platform); p != nil {
			thread.Text = ErrorMessage(err)
			_, _ = e.post(ctx, p, thread)
		}
		return nil
	}
	if out.Threads == 0 || out.Replayed {
		if p := e.platform(m.Platform); p != nil {
			thread.Text = e.Text().ReleaseSummary(out)
			if _, err := e.post(ctx, p, thread); err != nil {
				e.log.Warn("answer announcement", "err", err)
			}
		}
	}
	return nil
}
