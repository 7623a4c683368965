package tracker

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// engineActions runs transitions through the engine's use cases: Release
// (the same one /feedback ship and rollback use: history rows, one delivery
// per subscribed thread, idempotency keys) and SetStatus (as /feedback
// status), with a github or linear actor.
type engineActions struct{ e *bot.Engine }

// ForEngine returns the Engine of the webhooks over the board's engine.
func ForEngine(e *bot.Engine) Engine { return engineActions{e} }

// Actor is the actor of a source's transitions: kind github or linear,
// named after the source (the history's actor), with both roles (the
// webhook secret is the authority).
func Actor(source string) bot.Actor {
	kind := bot.ActorGitHub
	if source == SourceLinear {
		kind = bot.ActorLinear
	}
	return bot.ServiceActor(kind, source, true, true)
}

func (a engineActions) Release(ctx context.Context, source, action string, ids []int64, version, note, key string) error {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = a.e.Key(id)
	}
	_, err := a.e.Release(ctx, Actor(source), bot.ReleaseCommand{
		Action: action, Keys: keys, Version: version, Note: note, IdempotencyKey: key, AllowUnknown: true,
	})
	if bot.ErrorCode(err) == bot.ECONFLICT {
		// The key names this delivery's change, already recorded (a resumed
		// delivery whose inputs moved on): nothing to do again.
		return nil
	}
	return err
}

func (a engineActions) SetStatus(ctx context.Context, source string, id int64, to bot.Status, note string) error {
	_, err := a.e.SetStatus(ctx, Actor(source), bot.SetStatusInput{Request: id, Status: to, Note: note})
	if bot.ErrorCode(err) == bot.ECONFLICT {
		return nil // already there (another replica, or a resumed delivery)
	}
	return err
}
