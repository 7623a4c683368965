package commands

import (
	"github.com/feedbackbot/feedbackbot/bot"
)

// help: /feedback help (and /feedback alone), generated from Verbs.
func (r *Runner) help() *bot.Response {
	return reply(HelpText(r.e.Config().KeyPrefix))
}
