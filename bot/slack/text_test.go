package slack

import (
	"context"
	"strings"
	"testing"
)

// Slack's escapes and markup become plain text when a message is
// captured: the board shows "Tom & Jerry", not "Tom &amp; Jerry", people by
// name, channels by name, links with their address.
func TestMessageTextIsPlain(t *testing.T) {
	rec := newRecorder()
	a, api := newTestAdapter(t, Config{}, rec)
	addPeople(api)
	text := `Tom &amp; Jerry &lt;3 &lt;script&gt; ask <@U1> and <@U9|zed> in <#C9|ideas> or <#C8>, <!here> <!subteam^S1|@design>: ` +
		`<https://x.example/a?b=1&amp;c=2|the spec>, <https://y.example/>, <mailto:jo@example.com|jo@example.com>`
	ev := parseInner(t, wrap(`{"type":"message","channel":"C1","user":"U2","text":`+jsonString(text)+`,"ts":"12.1"}`))
	a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("events %+v", got)
	}
	want := `Tom & Jerry <3 <script> ask @Alice and @zed in #ideas or #C8, @here @design: ` +
		`the spec (https://x.example/a?b=1&c=2), https://y.example/, jo@example.com`
	if got[0].Message.Text != want {
		t.Fatalf("text\n got %q\nwant %q", got[0].Message.Text, want)
	}
	// Posted back, it is escaped exactly once.
	opts := messageOptions(got[0].Message.Text, nil)
	posted := api.decode("C1", "", opts).Values.Get("text")
	if strings.Contains(posted, "&amp;amp;") || !strings.HasPrefix(posted, "Tom &amp; Jerry &lt;3 &lt;script&gt;") {
		t.Fatalf("posted as %q", posted)
	}
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
