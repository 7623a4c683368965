package discord

import (
	"context"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Discord's limits on a modal: title 1-45 characters, at most 5 text
// inputs, labels 1-45, values and max_length up to 4000, placeholders 100.
const (
	maxModalTitle  = 45
	maxModalInputs = 5
	maxInputLabel  = 45
	maxInputValue  = 4000
	maxPlaceholder = 100
)

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// modal renders f as a Discord modal (interaction response type 9). The
// form id is the custom_id; each field is a text input whose custom_id is
// the field id.
func modal(f *bot.Form) *discordgo.InteractionResponse {
	var rows []discordgo.MessageComponent
	for i, fl := range f.Fields {
		if i == maxModalInputs {
			break
		}
		style := discordgo.TextInputShort
		if fl.Multiline {
			style = discordgo.TextInputParagraph
		}
		max := fl.MaxLength
		if max <= 0 || max > maxInputValue {
			max = maxInputValue
		}
		value := fl.Value
		if len([]rune(value)) > max {
			value = string([]rune(value)[:max])
		}
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{
				CustomID: fl.ID, Label: clipRunes(fl.Label, maxInputLabel), Style: style, Value: value,
				Placeholder: clipRunes(fl.Placeholder, maxPlaceholder), Required: !fl.Optional, MaxLength: max,
			},
		}})
	}
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{CustomID: f.ID, Title: clipRunes(f.Title, maxModalTitle), Components: rows},
	}
}

// modalValues reads a modal submit's values, by text input custom_id.
func modalValues(d discordgo.ModalSubmitInteractionData) map[string]string {
	out := map[string]string{}
	var walk func(cs []discordgo.MessageComponent)
	walk = func(cs []discordgo.MessageComponent) {
		for _, c := range cs {
			switch c := c.(type) {
			case *discordgo.ActionsRow:
				walk(c.Components)
			case discordgo.ActionsRow:
				walk(c.Components)
			case *discordgo.TextInput:
				out[c.CustomID] = c.Value
			case discordgo.TextInput:
				out[c.CustomID] = c.Value
			}
		}
	}
	walk(d.Components)
	return out
}

// fieldErrorsText turns a refused form's field errors into one message
// (Discord modals cannot show errors on their fields).
func fieldErrorsText(errs map[string]string) string {
	ids := make([]string, 0, len(errs))
	for id := range errs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	b.WriteString("Nothing was saved:")
	for _, id := range ids {
		b.WriteString("\n• " + id + ": " + errs[id])
	}
	return b.String()
}

// answerForm answers i with resp's form when it can (the first answer to a
// command or a button), and reports whether it did.
func (a *Adapter) answerForm(ctx context.Context, i *discordgo.Interaction, resp *bot.Response, deferred bool) bool {
	if resp == nil || resp.Form == nil || deferred {
		return false
	}
	if i.Type != discordgo.InteractionMessageComponent && i.Type != discordgo.InteractionApplicationCommand {
		return false
	}
	a.respond(ctx, i, modal(resp.Form))
	return true
}
