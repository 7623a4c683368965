package bot

import (
	"strings"
	"unicode"
)

// problemPhrases is the regression signal's word list: a reply in a shipped
// request's thread that contains one of these words or phrases (whole words,
// case-insensitive, ’ read as ') reports a problem. English first, then
// German, French and Spanish, the languages the team's customers write in.
// Keep it data: add a phrase here and a row to TestIsProblemReport. The
// README section "Regression signal" lists it.
var problemPhrases = []string{
	// English
	"broken", "broke", "doesn't work", "doesnt work", "does not work", "don't work", "not working",
	"stopped working", "isn't working", "crash", "crashes", "crashed", "crashing", "error", "errors",
	"bug", "buggy", "regression", "worse", "still", "can't", "cant", "cannot", "fails", "failed",
	"failing", "fail",
	// German
	"kaputt", "funktioniert nicht", "geht nicht", "fehler", "absturz", "stürzt", "immer noch", "schlechter",
	// French
	"cassé", "ne marche pas", "marche pas", "ne fonctionne pas", "plantage", "plante", "erreur", "bogue", "toujours pas", "pire",
	// Spanish
	"roto", "no funciona", "falla", "fallo", "error", "se cuelga", "todavía", "sigue sin", "peor",
}

// problemWords is problemPhrases split into words, once.
var problemWords = func() [][]string {
	out := make([][]string, 0, len(problemPhrases))
	for _, p := range problemPhrases {
		out = append(out, words(p))
	}
	return out
}()

// words lowercases text and splits it into words of letters, digits and
// apostrophes (’ becomes ').
func words(text string) []string {
	text = strings.ToLower(strings.ReplaceAll(text, "’", "'"))
	return strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// IsProblemReport reports whether text contains a word or phrase of the
// problem-word list.
func IsProblemReport(text string) bool {
	ws := words(text)
	for _, p := range problemWords {
		if len(p) == 0 {
			continue
		}
	next:
		for i := 0; i+len(p) <= len(ws); i++ {
			for j := range p {
				if ws[i+j] != p[j] {
					continue next
				}
			}
			return true
		}
	}
	return false
}
