package bot

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Adapters show ErrorMessage(err) to the user; bot/web maps the
// codes to HTTP statuses.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EFORBIDDEN    = "forbidden"
	EUNAUTHORIZED = "unauthorized"
	ETOOLARGE     = "too_large"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// Error is an application error whose Message is safe to show to users.
//
// Errors about particular requests also carry a Reason (what exactly went
// wrong within Code) and the IDs of the requests involved, in the order the
// Reason documents. The store fills them in together with a plain Message
// that names raw ids; the engine renders its own sentence, with keys, from
// Reason and IDs (bot/text.go), never by rewriting the store's Message.
type Error struct {
	Code    string
	Message string
	Reason  string
	IDs     []int64
}

// Reasons: finer causes within a code. The IDs an *Error carries for each
// are listed with it.
const (
	// ReasonNoRequest (ENOTFOUND): IDs [id] — there is no such request.
	ReasonNoRequest = "no_request"
	// ReasonAlreadyMerged (ECONFLICT): IDs [src, into] — src is already
	// merged into into.
	ReasonAlreadyMerged = "already_merged"
	// ReasonMergeSelf (ECONFLICT): IDs [src] — merging src into itself.
	ReasonMergeSelf = "merge_self"
	// ReasonMergeCycle (ECONFLICT): IDs [dst, src] — dst is merged into src,
	// so merging src into dst would make a cycle.
	ReasonMergeCycle = "merge_cycle"
	// ReasonNotMerged (ECONFLICT): IDs [src] — unmerge of a request that is
	// not merged.
	ReasonNotMerged = "not_merged"
	// ReasonSameStatus (ECONFLICT): IDs [id] — the request already has the
	// status asked for.
	ReasonSameStatus = "same_status"
	// ReasonCaptured (ECONFLICT): no IDs — the chat message is already
	// captured.
	ReasonCaptured = "captured"
	// ReasonReleaseRecorded (ECONFLICT): no IDs — a release with this
	// idempotency key was recorded before.
	ReasonReleaseRecorded = "release_recorded"
)

// ErrorReason returns the Reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted user-safe message.
func Errorf(code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
// It returns "" for a nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err, or "Internal error.".
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// RetryAfterError reports that a platform rate-limited a call; the caller
// should try again after After. Adapters return it for HTTP 429.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PermanentError marks a platform error that retrying cannot fix (unknown
// channel, missing permission). Deliveries that fail with it are not retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
