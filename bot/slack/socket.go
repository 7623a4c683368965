package slack

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket runs a Socket Mode connection until ctx ends. slack-go
// reconnects by itself after a disconnect or refresh request; envelopes Slack
// redelivers on the new connection are de-duplicated by event id.
func (a *Adapter) runSocket(ctx context.Context) error {
	sc := a.newSocket()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errc := make(chan error, 1)
	wg.Go(func() {
		defer cancel()
		errc <- sc.RunContext(ctx)
	})
	for {
		select {
		case <-ctx.Done():
			cancel()
			wg.Wait()
			return <-errc
		case evt := <-sc.Events():
			a.onSocketEvent(sc, evt)
		}
	}
}

// onSocketEvent acknowledges an envelope at once, then queues its handling.
func (a *Adapter) onSocketEvent(sc socketClient, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.log.Debug("slack socket mode connecting")
	case socketmode.EventTypeConnected:
		a.connected.Store(true)
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeHello:
		a.connected.Store(true)
		a.log.Debug("slack socket mode", "type", evt.Type)
	case socketmode.EventTypeDisconnect:
		a.connected.Store(false)
		a.log.Debug("slack socket mode", "type", evt.Type)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError,
		socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack socket mode error", "type", evt.Type, "data", evt.Data)
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack socket mode: invalid app token")
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return
		}
		if cb, ok := evt.Data.(slack.InteractionCallback); ok && isViewSubmission(cb) {
			// The ack carries the answer (field errors keep the modal open).
			req := *evt.Request
			if !a.jobs.submit("", func(ctx context.Context) { a.ackForm(ctx, sc, req, cb) }) {
				_ = sc.Ack(req)
			}
			return
		}
		if err := sc.Ack(*evt.Request); err != nil {
			a.log.Warn("slack socket mode ack failed", "envelope_id", evt.Request.EnvelopeID, "err", err)
		}
		switch d := evt.Data.(type) {
		case slackevents.EventsAPIEvent:
			eventID := ""
			if cb, ok := d.Data.(*slackevents.EventsAPICallbackEvent); ok {
				eventID = cb.EventID
			}
			a.acceptEvent(eventID, d)
		case slack.SlashCommand:
			if !a.seen.SeenAt("env:"+evt.Request.EnvelopeID, a.now()) {
				a.acceptCommand(d)
			}
		case slack.InteractionCallback:
			if !a.seen.SeenAt("env:"+evt.Request.EnvelopeID, a.now()) {
				a.acceptInteraction(d)
			}
		}
	}
}

// ackForm handles a view_submission before acknowledging it, with the
// response_action as the ack's payload. A redelivered envelope is answered
// without handling it again.
func (a *Adapter) ackForm(ctx context.Context, sc socketClient, req socketmode.Request, cb slack.InteractionCallback) {
	var payload []any
	if !a.seen.SeenAt("env:"+req.EnvelopeID, a.now()) {
		// This runs on the socket's reader goroutine, outside the job
		// runner: a panic here is logged once and the form acknowledged.
		func() {
			defer func() {
				if p := recover(); p != nil {
					a.log.Error("panic handling slack form submit", "panic", p, "stack", string(debug.Stack()))
				}
			}()
			if body := a.submitForm(ctx, cb); body != nil {
				payload = append(payload, json.RawMessage(body))
			}
		}()
	}
	if err := sc.Ack(req, payload...); err != nil {
		a.log.Warn("slack socket mode ack failed", "envelope_id", req.EnvelopeID, "err", err)
	}
}
