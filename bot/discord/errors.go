package discord

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// maxInlineRetries is how many times the adapter itself retries a call that
// got HTTP 429 (for calls it makes on its own behalf, such as fetching a
// reacted message). Post and Update return *bot.RetryAfterError instead and
// leave the retry to the delivery queue.
const maxInlineRetries = 3

// maxInlineWait caps a single inline wait; longer limits fail the call.
const maxInlineWait = 10 * time.Second

// callRetry calls fn with the request context, retrying on 429 after the
// delay Discord asked for.
func callRetry[T any](ctx context.Context, fn func(opts ...discordgo.RequestOption) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := fn(discordgo.WithContext(ctx))
		var rl *discordgo.RateLimitError
		if err == nil || !errors.As(err, &rl) || attempt >= maxInlineRetries || rl.RateLimit == nil || rl.TooManyRequests == nil || rl.RetryAfter > maxInlineWait {
			return v, err
		}
		t := time.NewTimer(rl.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
	}
}

// callRetry0 is callRetry for calls that return only an error.
func callRetry0(ctx context.Context, fn func(opts ...discordgo.RequestOption) error) error {
	_, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (struct{}, error) {
		return struct{}{}, fn(opts...)
	})
	return err
}

// platformError maps a discordgo error to the errors bot.Platform promises:
// *bot.RetryAfterError for 429, *bot.PermanentError for errors retrying
// cannot fix (4xx but 408/429), the error itself otherwise.
func platformError(err error) error {
	if err == nil {
		return nil
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		after := time.Second
		if rl.RateLimit != nil && rl.TooManyRequests != nil && rl.RetryAfter > 0 {
			after = rl.RetryAfter
		}
		return &bot.RetryAfterError{After: after, Err: err}
	}
	if code := restStatus(err); code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
		return &bot.PermanentError{Err: err}
	}
	return err
}

// restStatus returns the HTTP status of a discordgo REST error, or 0.
func restStatus(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}
