package eval

import "github.com/feedbackbot/feedbackbot/bot"

// docOf maps corpus line i to the request the index sees: internal id i+1,
// title to Title, body to Description.
func docOf(i int, d doc) bot.Doc {
	return bot.Doc{ID: int64(i) + 1, Title: d.Title, Description: d.Body, Active: true}
}
