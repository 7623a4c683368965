package bot

import "testing"

func TestIsProblemReport(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"It's broken again since the update", true},
		{"SSO doesn't work for me", true},
		{"SSO doesn’t work for me", true}, // typographic apostrophe
		{"login is not working", true},
		{"The app crashes on start", true},
		{"I get an error 500", true},
		{"Found a bug", true},
		{"Looks like a regression", true},
		{"It got worse", true},
		{"Still seeing the loop", true},
		{"I can't sign in", true},
		{"Sign-in fails every time", true},
		{"Das Login ist kaputt", true},
		{"SSO funktioniert nicht", true},
		{"ça ne marche pas", true},
		{"el login no funciona", true},
		{"thanks, works great", false},
		{"Love it!", false},
		{"Thanks for shipping this", false},
		{"debugging is easier now", false}, // "bug" only as a whole word
		{"terrorism", false},               // nor "error" inside a word
		{"", false},
	} {
		if got := IsProblemReport(c.text); got != c.want {
			t.Errorf("IsProblemReport(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
