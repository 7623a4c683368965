package discord

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// interactionEvent translates an interaction. It returns (nil, nil) for
// interactions the bot does not handle, which are logged and left alone,
// and a user-safe error for invalid ones.
func (a *Adapter) interactionEvent(ctx context.Context, i *discordgo.Interaction) (*bot.Event, error) {
	if i.GuildID == "" || i.Member == nil {
		if i.Type == discordgo.InteractionApplicationCommand || i.Type == discordgo.InteractionMessageComponent {
			return nil, bot.Errorf(bot.EINVALID, "feedbackbot works in servers only.")
		}
		return nil, nil
	}
	channel, _, _ := a.location(ctx, i.ChannelID)
	ev := &bot.Event{
		Platform:  bot.PlatformDiscord,
		Workspace: i.GuildID,
		Channel:   channel,
		User:      a.user(ctx, i.GuildID, i.User, i.Member, i.Member.Permissions),
	}
	switch data := i.Data.(type) {
	case discordgo.ApplicationCommandInteractionData:
		if i.Type != discordgo.InteractionApplicationCommand {
			return nil, nil // autocomplete: none registered
		}
		switch {
		case data.CommandType == discordgo.ChatApplicationCommand && data.Name == CommandName:
			text, err := commandText(data.Options)
			if err != nil {
				return nil, err
			}
			ev.Kind, ev.Text = bot.EventCommand, text
			return ev, nil
		case data.CommandType == discordgo.MessageApplicationCommand && data.Name == MessageCommandName:
			var target *discordgo.Message
			if data.Resolved != nil {
				target = data.Resolved.Messages[data.TargetID]
			}
			if target == nil && data.TargetID != "" {
				m, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
					return a.api.ChannelMessage(i.ChannelID, data.TargetID, opts...)
				})
				if err != nil {
					return nil, fmt.Errorf("fetch message %s: %w", data.TargetID, err)
				}
				target = m
			}
			if target == nil {
				return nil, bot.Errorf(bot.EINVALID, "Pick a message to send to the feedback board.")
			}
			if target.ChannelID == "" {
				target.ChannelID = i.ChannelID
			}
			var member *discordgo.Member
			if data.Resolved != nil && target.Author != nil {
				member = data.Resolved.Members[target.Author.ID]
			}
			ev.Kind, ev.Message = bot.EventCapture, a.message(ctx, i.GuildID, target, member)
			return ev, nil
		}
		return nil, bot.Errorf(bot.EINVALID, "Unknown command %q.", data.Name)
	case discordgo.MessageComponentInteractionData:
		if data.ComponentType != discordgo.ButtonComponent || data.CustomID == "" || i.Message == nil {
			return nil, nil
		}
		if i.Message.ChannelID == "" {
			i.Message.ChannelID = i.ChannelID
		}
		ev.Kind, ev.ActionID = bot.EventButton, data.CustomID
		ev.Message = a.message(ctx, i.GuildID, i.Message, nil)
		return ev, nil
	case discordgo.ModalSubmitInteractionData:
		if data.CustomID == "" {
			return nil, nil
		}
		ev.Kind, ev.FormID, ev.Values = bot.EventFormSubmit, data.CustomID, modalValues(data)
		if i.Message != nil {
			if i.Message.ChannelID == "" {
				i.Message.ChannelID = i.ChannelID
			}
			ev.Message = a.message(ctx, i.GuildID, i.Message, nil)
		}
		return ev, nil
	}
	return nil, nil
}

type result struct {
	resp *bot.Response
	err  error
}

// supported reports whether the adapter handles interactions like i: slash
// and message commands, and buttons. It needs no I/O.
func supported(i *discordgo.Interaction) bool {
	switch d := i.Data.(type) {
	case discordgo.ApplicationCommandInteractionData:
		return i.Type == discordgo.InteractionApplicationCommand
	case discordgo.MessageComponentInteractionData:
		return i.Type == discordgo.InteractionMessageComponent && d.ComponentType == discordgo.ButtonComponent && d.CustomID != "" && i.Message != nil
	case discordgo.ModalSubmitInteractionData:
		return i.Type == discordgo.InteractionModalSubmit && d.CustomID != ""
	}
	return false
}

// onInteraction answers an interaction within Discord's 3 s: directly when
// translating and handling it take less than AckAfter, otherwise after a
// deferral.
func (a *Adapter) onInteraction(ctx context.Context, i *discordgo.Interaction) {
	if !supported(i) {
		a.log.Info("ignoring unsupported interaction", "type", int(i.Type), "id", i.ID)
		return
	}
	wait := a.cfg.AckAfter
	if d, ok := i.Data.(discordgo.MessageComponentInteractionData); ok && bot.IsFormButton(d.CustomID) {
		wait = max(wait, a.cfg.FormAckAfter)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	done := make(chan result, 1)
	go func() {
		// This goroutine is outside spawn's recover: a panic in the
		// translation is logged here, once, and answered "Internal error.".
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("panic handling discord interaction", "id", i.ID, "panic", r, "stack", string(debug.Stack()))
				done <- result{err: bot.Errorf(bot.EINTERNAL, "Internal error.")}
			}
		}()
		ev, err := a.interactionEvent(ctx, i)
		if err != nil || ev == nil {
			if ev == nil && err == nil {
				err = bot.Errorf(bot.EINVALID, "This action is not supported.")
			}
			if bot.ErrorCode(err) == bot.EINTERNAL {
				a.log.Error("translate interaction", "id", i.ID, "err", err)
			}
			done <- result{err: err}
			return
		}
		// The Handler logs its internal errors (bot.Engine.Handle does).
		resp, err := a.h.Handle(ctx, ev)
		done <- result{resp, err}
	}()
	var res result
	deferred := false
	select {
	case res = <-done:
	case <-t.C:
		deferred = true
		a.deferReply(ctx, i)
		res = <-done
	}
	resp := res.resp
	if res.err != nil {
		resp = &bot.Response{Text: bot.ErrorMessage(res.err)}
	}
	if a.answerForm(ctx, i, resp, deferred) {
		return
	}
	if resp != nil && len(resp.FieldErrors) > 0 {
		resp = &bot.Response{Text: fieldErrorsText(resp.FieldErrors)}
	}
	a.reply(ctx, i, resp, deferred)
}

// deferReply acknowledges i: a "thinking…" placeholder for commands, a
// silent acknowledgement for buttons.
func (a *Adapter) deferReply(ctx context.Context, i *discordgo.Interaction) {
	r := &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	}
	if i.Type == discordgo.InteractionMessageComponent {
		r = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	if err := callRetry0(ctx, func(opts ...discordgo.RequestOption) error { return a.api.InteractionRespond(i, r, opts...) }); err != nil {
		a.log.Warn("defer interaction", "id", i.ID, "err", err)
	}
}

// reply sends resp as the answer to i: ephemeral unless resp.Public.
func (a *Adapter) reply(ctx context.Context, i *discordgo.Interaction, resp *bot.Response, deferred bool) {
	button := i.Type == discordgo.InteractionMessageComponent
	var text string
	var comps []discordgo.MessageComponent
	public := false
	if resp != nil {
		text, comps, public = truncate(neutralizeLinks(resp.Text), maxContent), components(a.log, resp.Buttons), resp.Public
	}
	if text == "" && len(comps) == 0 {
		if button {
			// Nothing to say: acknowledge the click without a message.
			if !deferred {
				a.respond(ctx, i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
			}
			return
		}
		// A command with nothing to say (a capture kept while the database
		// is unavailable: the person is told only if it is finally given
		// up). Discord wants an answer, so acknowledge with the ephemeral
		// "thinking…" placeholder and remove it, as Slack shows nothing.
		if !deferred {
			a.deferReply(ctx, i)
		}
		if err := callRetry0(ctx, func(opts ...discordgo.RequestOption) error { return a.api.InteractionResponseDelete(i, opts...) }); err != nil {
			a.log.Warn("delete interaction response", "id", i.ID, "err", err)
		}
		return
	}
	var flags discordgo.MessageFlags
	if !public {
		flags = discordgo.MessageFlagsEphemeral
	}
	switch {
	case !deferred:
		a.respond(ctx, i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: text, Components: comps, Flags: flags, AllowedMentions: noMentions()},
		})
	case button:
		// After a deferred update the answer is a new follow-up message.
		a.followup(ctx, i, &discordgo.WebhookParams{Content: text, Components: comps, Flags: flags, AllowedMentions: noMentions()})
	default:
		// Replace the ephemeral placeholder; a public answer then also goes
		// to the channel as a follow-up.
		if comps == nil {
			comps = []discordgo.MessageComponent{}
		}
		_, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
			return a.api.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &text, Components: &comps, AllowedMentions: noMentions()}, opts...)
		})
		if err != nil {
			a.log.Warn("edit interaction response", "id", i.ID, "err", err)
		}
		if public {
			a.followup(ctx, i, &discordgo.WebhookParams{Content: text, Components: comps, AllowedMentions: noMentions()})
		}
	}
}

func (a *Adapter) respond(ctx context.Context, i *discordgo.Interaction, r *discordgo.InteractionResponse) {
	if err := callRetry0(ctx, func(opts ...discordgo.RequestOption) error { return a.api.InteractionRespond(i, r, opts...) }); err != nil {
		a.log.Warn("respond to interaction", "id", i.ID, "err", err)
	}
}

func (a *Adapter) followup(ctx context.Context, i *discordgo.Interaction, p *discordgo.WebhookParams) {
	_, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
		return a.api.FollowupMessageCreate(i, true, p, opts...)
	})
	if err != nil {
		a.log.Warn("follow up interaction", "id", i.ID, "err", err)
	}
}
