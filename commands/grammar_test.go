package commands_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/commands"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want commands.Command
	}{
		{"", commands.Command{Verb: "help"}},
		{"help", commands.Command{Verb: "help"}},
		{"/feedback help", commands.Command{Verb: "help"}},
		{"Dark mode please", commands.Command{Verb: "new", Text: "Dark mode please"}},
		{"new Dark mode -- now", commands.Command{Verb: "new", Text: "Dark mode -- now"}},
		{"list", commands.Command{Verb: "list"}},
		{"list shipped sort new", commands.Command{Verb: "list", Status: bot.StatusShipped, Sort: "new"}},
		{"list sort demand", commands.Command{Verb: "list", Sort: "demand"}},
		{"top", commands.Command{Verb: "top", Count: 10}},
		{"top 3", commands.Command{Verb: "top", Count: 3}},
		{"show FB-12", commands.Command{Verb: "show", IDs: []int64{12}, Keys: []string{"FB-12"}}},
		{"show fb-12", commands.Command{Verb: "show", IDs: []int64{12}, Keys: []string{"FB-12"}}},
		{"search dark  mode", commands.Command{Verb: "search", Text: "dark  mode"}},
		{"vote FB-1", commands.Command{Verb: "vote", IDs: []int64{1}, Keys: []string{"FB-1"}}},
		{"UNVOTE FB-1", commands.Command{Verb: "unvote", IDs: []int64{1}, Keys: []string{"FB-1"}}},
		{"merge FB-3 into FB-1", commands.Command{Verb: "merge", IDs: []int64{3}, Keys: []string{"FB-3"}, Into: 1}},
		{"merge FB-3 FB-1", commands.Command{Verb: "merge", IDs: []int64{3}, Keys: []string{"FB-3"}, Into: 1}},
		{"unmerge FB-3", commands.Command{Verb: "unmerge", IDs: []int64{3}, Keys: []string{"FB-3"}}},
		{"status FB-2 in_progress", commands.Command{Verb: "status", IDs: []int64{2}, Keys: []string{"FB-2"}, Status: bot.StatusInProgress}},
		{"status FB-2 in-progress -- next sprint", commands.Command{Verb: "status", IDs: []int64{2}, Keys: []string{"FB-2"}, Status: bot.StatusInProgress, Note: "next sprint"}},
		{"ship FB-12 FB-31 v2.4 -- big one", commands.Command{Verb: "ship", IDs: []int64{12, 31}, Keys: []string{"FB-12", "FB-31"}, Version: "v2.4", Note: "big one"}},
		{"ship FB-12, FB-31 in v2.4", commands.Command{Verb: "ship", IDs: []int64{12, 31}, Keys: []string{"FB-12", "FB-31"}, Version: "v2.4"}},
		{"ship FB-1", commands.Command{Verb: "ship", IDs: []int64{1}, Keys: []string{"FB-1"}}},
		{"rollback FB-1 v2 -- crash", commands.Command{Verb: "rollback", IDs: []int64{1}, Keys: []string{"FB-1"}, Version: "v2", Note: "crash"}},
		{"rollback v2.4", commands.Command{Verb: "rollback", Version: "v2.4"}},
		{"link FB-2 https://x.slack.com/archives/C1/p1", commands.Command{Verb: "link", IDs: []int64{2}, Keys: []string{"FB-2"}, Link: "https://x.slack.com/archives/C1/p1"}},
		{"link FB-2 <https://discord.com/channels/1/2/3>", commands.Command{Verb: "link", IDs: []int64{2}, Keys: []string{"FB-2"}, Link: "https://discord.com/channels/1/2/3"}},
		{"watch", commands.Command{Verb: "watch"}},
		{"watch #ideas", commands.Command{Verb: "watch", Channel: "ideas"}},
		{"watch <#C123|ideas>", commands.Command{Verb: "watch", Channel: "C123"}},
		{"unwatch <#987>", commands.Command{Verb: "unwatch", Channel: "987"}},
		{"releases #releases", commands.Command{Verb: "releases", Channel: "releases"}},
		{"releases off", commands.Command{Verb: "releases", Text: "off"}},
		{"list tag:mobile", commands.Command{Verb: "list", Tag: "mobile"}},
		{"list tag:Mobile planned", commands.Command{Verb: "list", Status: bot.StatusPlanned, Tag: "mobile"}},
		{"list planned tag:#ios sort new", commands.Command{Verb: "list", Status: bot.StatusPlanned, Tag: "ios", Sort: "new"}},
		{"rename FB-1 Dark mode -- for real", commands.Command{Verb: "rename", IDs: []int64{1}, Keys: []string{"FB-1"}, Text: "Dark mode -- for real"}},
		{"describe fb-2 Night shifts  need it.", commands.Command{Verb: "describe", IDs: []int64{2}, Keys: []string{"FB-2"}, Text: "Night shifts  need it."}},
		{"tag FB-1 ui, Mobile #ios", commands.Command{Verb: "tag", IDs: []int64{1}, Keys: []string{"FB-1"}, Tags: []string{"ui", "Mobile", "ios"}}},
		{"untag FB-1 ui", commands.Command{Verb: "untag", IDs: []int64{1}, Keys: []string{"FB-1"}, Tags: []string{"ui"}}},
		{"remove FB-3 -- spam", commands.Command{Verb: "remove", IDs: []int64{3}, Keys: []string{"FB-3"}, Note: "spam"}},
		{"remove FB-3", commands.Command{Verb: "remove", IDs: []int64{3}, Keys: []string{"FB-3"}}},
		{"restore FB-3", commands.Command{Verb: "restore", IDs: []int64{3}, Keys: []string{"FB-3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := commands.Parse("FB", tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, code, says string
	}{
		{"show", bot.EINVALID, "Usage: /feedback show FB-n"},
		{"show 12", bot.EINVALID, "is not a request key"},
		{"show FB-0", bot.ENOTFOUND, "There is no request FB-0"},
		{"show FB-99999999999999999999", bot.ENOTFOUND, "There is no request"},
		{"vote FB-1 FB-2", bot.EINVALID, "Usage: /feedback vote FB-n"},
		{"merge FB-1", bot.EINVALID, "Usage: /feedback merge FB-a into FB-b"},
		{"merge FB-1 onto FB-2", bot.EINVALID, "Usage: /feedback merge"},
		{"status FB-1", bot.EINVALID, "Usage: /feedback status"},
		{"status FB-1 shipped", bot.EINVALID, "Unknown status"},
		{"ship", bot.EINVALID, "Usage: /feedback ship"},
		{"ship v2.4", bot.EINVALID, "Usage: /feedback ship"},
		{"ship FB-1 v2 v3", bot.EINVALID, "Usage: /feedback ship"},
		{"rollback", bot.EINVALID, "Usage: /feedback rollback"},
		{"list sort upside", bot.EINVALID, "Usage: /feedback list"},
		{"list tag:bad_tag", bot.EINVALID, "is not a valid tag"},
		{"list tag:a tag:b", bot.EINVALID, "Usage: /feedback list"},
		{"rename FB-1", bot.EINVALID, "Usage: /feedback rename FB-n <title>"},
		{"describe", bot.EINVALID, "Usage: /feedback describe"},
		{"tag FB-1", bot.EINVALID, "Usage: /feedback tag FB-n <tag>…"},
		{"untag FB-1 -- x", bot.EINVALID, "Usage: /feedback untag"},
		{"remove", bot.EINVALID, "Usage: /feedback remove FB-n [-- reason]"},
		{"restore FB-1 FB-2", bot.EINVALID, "Usage: /feedback restore FB-n"},
		{"restore FB-1 -- why", bot.EINVALID, "Usage: /feedback restore FB-n"},
		{"list banana", bot.EINVALID, "Usage: /feedback list"},
		{"top 0", bot.EINVALID, "N from 1 to 100"},
		{"top many", bot.EINVALID, "N from 1 to 100"},
		{"link FB-1", bot.EINVALID, "Usage: /feedback link"},
		{"watch general", bot.EINVALID, "Usage: /feedback watch"},
		{"search", bot.EINVALID, "Usage: /feedback search"},
		{"new", bot.EINVALID, "Usage: /feedback new"},
		{strings.Repeat("x", commands.MaxInput+1), bot.ETOOLARGE, "too long"},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			_, err := commands.Parse("FB", tt.in)
			if bot.ErrorCode(err) != tt.code {
				t.Fatalf("Parse(%q) code %q (%v), want %q", tt.in, bot.ErrorCode(err), err, tt.code)
			}
			if !strings.Contains(bot.ErrorMessage(err), tt.says) {
				t.Errorf("Parse(%q) message %q lacks %q", tt.in, bot.ErrorMessage(err), tt.says)
			}
		})
	}
}

func TestParseCustomPrefix(t *testing.T) {
	c, err := commands.Parse("IDEA", "merge idea-3 into IDEA-1")
	if err != nil || c.IDs[0] != 3 || c.Into != 1 || c.Keys[0] != "IDEA-3" {
		t.Fatalf("got %+v, %v", c, err)
	}
	_, err = commands.Parse("IDEA", "vote FB-3")
	if bot.ErrorCode(err) != bot.EINVALID || !strings.Contains(bot.ErrorMessage(err), "IDEA-<number>") {
		t.Fatalf("wrong-prefix key: %v", err)
	}
}

func TestHelpListsEveryVerb(t *testing.T) {
	help := commands.HelpText("FB")
	for _, v := range commands.Verbs {
		if !strings.Contains(help, v.Usage) {
			t.Errorf("help lacks %q", v.Usage)
		}
		if v.Name == "help" {
			continue
		}
		// Every verb in the table is understood by the parser.
		if c, err := commands.Parse("FB", v.Name); err == nil && c.Verb == "new" {
			t.Errorf("verb %q is parsed as feedback text", v.Name)
		}
	}
	if strings.Contains(commands.HelpText("IDEA"), "FB-") {
		t.Error("help with prefix IDEA still shows FB- keys")
	}
}

// FuzzParse: no input may panic, and every error is a user-safe *bot.Error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "help", "new Dark mode", "ship FB-12 FB-31 v2.4 -- note", "rollback v2.4", "merge FB-1 into FB-2",
		"status FB-1 planned -- soon", "list shipped sort new", "top 5", "watch <#C1|x>", "link FB-1 <https://a/b>",
		"show FB-0", "show FB-99999999999999999999", "show fb-1", "vote FB-1'; DROP TABLE requests;--",
		"new \x00\xff\xfe", "new <@U123> said `code` ```block```", "new 👍🏽 مرحبا עברית", "ship -- --", "merge into into",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := commands.Parse("FB", in)
		if err != nil {
			var be *bot.Error
			if !asBotError(err, &be) {
				t.Fatalf("Parse(%q) returned a non-bot error %T: %v", in, err, err)
			}
			if !utf8.ValidString(be.Message) {
				t.Fatalf("error message is not valid UTF-8: %q", be.Message)
			}
			return
		}
		if c.Verb == "" {
			t.Fatalf("Parse(%q) returned no verb", in)
		}
		for _, id := range c.IDs {
			if id <= 0 {
				t.Fatalf("Parse(%q) returned id %d", in, id)
			}
		}
	})
}

func asBotError(err error, target **bot.Error) bool {
	be, ok := err.(*bot.Error)
	if ok {
		*target = be
	}
	return ok
}

func TestParseDidYouMean(t *testing.T) {
	for _, tt := range []struct{ in, says string }{
		{"shw FB-1", "Did you mean `/feedback show`?"},
		{"lsit planned", "Did you mean `/feedback list`?"},
		{"serach dark mode", "Did you mean `/feedback search`?"},
		{"mrege FB-1 into FB-2", "Did you mean `/feedback merge`?"},
		{"frobnicate FB-1", "Did you mean `/feedback show FB-1`"},
		{"FB-1 FB-2", "Did you mean `/feedback show FB-1`"},
		{"frobnicate", "Unknown command \"frobnicate\""},
	} {
		t.Run(tt.in, func(t *testing.T) {
			c, err := commands.Parse("FB", tt.in)
			if bot.ErrorCode(err) != bot.EINVALID {
				t.Fatalf("Parse(%q) = %+v, %v; want EINVALID (nothing captured)", tt.in, c, err)
			}
			if !strings.Contains(bot.ErrorMessage(err), tt.says) {
				t.Errorf("Parse(%q) says %q, want %q", tt.in, bot.ErrorMessage(err), tt.says)
			}
		})
	}
	// Real feedback still becomes a request, also when it starts with a word
	// one edit from a verb or names a key among other words.
	for _, in := range []string{
		"Dark mode please", "note that export fails on Safari", "stop sending emails at night",
		"few of us need SSO", "like FB-12 but for the mobile app", "👍", "2fa",
	} {
		c, err := commands.Parse("FB", in)
		if err != nil || c.Verb != "new" || c.Text != in {
			t.Errorf("Parse(%q) = %+v, %v; want feedback text", in, c, err)
		}
	}
}
