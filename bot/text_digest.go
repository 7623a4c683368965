package bot

import (
	"fmt"
	"strings"
)

const doDigest = "set up digests"

// DigestNewMax and DigestRisingMax bound the lists of one digest.
const (
	DigestNewMax    = 10
	DigestRisingMax = 5
)

// Digest renders a digest: new requests, rising ones and what shipped or
// rolled back in its period. "" when there is nothing to say.
func (t Text) Digest(c *DigestContent) string {
	if c.Empty() {
		return ""
	}
	var b strings.Builder
	b.WriteString("📰 Feedback digest")
	if !c.Since.IsZero() && c.Since.Unix() > 0 {
		fmt.Fprintf(&b, " since %s", c.Since.UTC().Format("2 Jan 2006 15:04 MST"))
	}
	if len(c.New) > 0 {
		fmt.Fprintf(&b, "\n\nNew (%d):", len(c.New))
		for i, r := range c.New {
			if i == DigestNewMax {
				fmt.Fprintf(&b, "\n• … and %d more", len(c.New)-i)
				break
			}
			fmt.Fprintf(&b, "\n• %s %s · %s", t.Key(r.ID), r.Title, peopleCount(r.Demand))
		}
	}
	if len(c.Rising) > 0 {
		b.WriteString("\n\nRising:")
		for i, r := range c.Rising {
			if i == DigestRisingMax {
				break
			}
			fmt.Fprintf(&b, "\n• %s %s · +%s (%s)", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.NewPeople), peopleCount(r.Request.Demand))
		}
	}
	if len(c.Releases) > 0 {
		b.WriteString("\n\nShipped and rolled back:")
		for _, rel := range c.Releases {
			ev := rel.Event
			if ev.Action == ActionRolledBack {
				b.WriteString("\n↩️ Rolled back")
			} else {
				b.WriteString("\n🚀 Shipped")
			}
			if ev.Version != "" {
				b.WriteString(" " + ev.Version)
			}
			keys := make([]string, len(rel.Requests))
			for i, r := range rel.Requests {
				keys[i] = t.Key(r.ID) + " " + r.Title
			}
			if len(keys) > 0 {
				b.WriteString(": " + strings.Join(keys, "; "))
			}
		}
	}
	return b.String()
}

// DigestSet confirms /feedback digest [#channel] daily|weekly|off.
func (t Text) DigestSet(r *SetDigestResult) string {
	name := r.ChannelName
	switch r.Digest.Every {
	case DigestDaily:
		return fmt.Sprintf("📰 %s gets a daily digest of new and rising requests and what shipped.", name)
	case DigestWeekly:
		return fmt.Sprintf("📰 %s gets a weekly digest of new and rising requests and what shipped.", name)
	}
	return fmt.Sprintf("No more digests in %s.", name)
}

// DigestPosted answers /feedback digest now.
func (t Text) DigestPosted(r *DigestNowResult) string {
	if !r.Posted {
		return "Nothing new since the last digest."
	}
	return fmt.Sprintf("📰 Posting the digest in %s.", r.ChannelName)
}
