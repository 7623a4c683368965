package bot_test

import (
	"reflect"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

func TestParseAnnouncement(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want bot.Announcement
	}{
		{"Shipped FB-12 and FB-31 in v2.4", true, bot.Announcement{Action: bot.ActionShipped, Keys: []string{"FB-12", "FB-31"}, Version: "v2.4"}},
		{"Rolling back v2.4 (FB-12)", true, bot.Announcement{Action: bot.ActionRolledBack, Keys: []string{"FB-12"}, Version: "v2.4"}},
		{"🚀 v3.1.0 is out now! Includes fb-7, FB-8 and FB-7 again.", true, bot.Announcement{Action: bot.ActionShipped, Keys: []string{"FB-7", "FB-8"}, Version: "v3.1.0"}},
		{"Release 2.5.1-rc.1: FB-3", true, bot.Announcement{Action: bot.ActionShipped, Keys: []string{"FB-3"}, Version: "2.5.1-rc.1"}},
		{"We reverted FB-9 from today's deploy", true, bot.Announcement{Action: bot.ActionRolledBack, Keys: []string{"FB-9"}}},
		{"Deployed FB-4 to production", true, bot.Announcement{Action: bot.ActionShipped, Keys: []string{"FB-4"}}},
		{"Shipped v2.4 today, no tickets", false, bot.Announcement{}},
		{"Has anyone looked at FB-12?", false, bot.Announcement{Keys: []string{"FB-12"}}},
		{"Shipped XFB-12 and FB-12a", false, bot.Announcement{}},
		{"", false, bot.Announcement{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := bot.ParseAnnouncement("FB", tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, got)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseAnnouncement(f *testing.F) {
	for _, s := range []string{"Shipped FB-12 and FB-31 in v2.4", "Rolling back v2.4 (FB-12)", "FB-99999999999999999999 shipped", "\xff\xfe FB-1 live", "fb-0 released v1..2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, ok := bot.ParseAnnouncement("FB", in)
		if ok && (len(a.Keys) == 0 || (a.Action != bot.ActionShipped && a.Action != bot.ActionRolledBack)) {
			t.Fatalf("ok announcement without keys or action: %+v", a)
		}
	})
}
