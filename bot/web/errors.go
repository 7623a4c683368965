package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/feedbackbot/feedbackbot/bot"
)

// statusByCode is the one table from bot error codes to HTTP statuses.
var statusByCode = map[string]int{
	bot.EINVALID:      http.StatusBadRequest,
	bot.ENOTFOUND:     http.StatusNotFound,
	bot.ECONFLICT:     http.StatusConflict,
	bot.EFORBIDDEN:    http.StatusForbidden,
	bot.EUNAUTHORIZED: http.StatusUnauthorized,
	bot.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	bot.EUNAVAILABLE:  http.StatusServiceUnavailable,
	bot.EINTERNAL:     http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status for a bot error code (500 for unknown
// codes).
func HTTPStatus(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorOf normalises err: request-body size errors become ETOOLARGE.
func errorOf(err error) (code, message string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bot.ETOOLARGE, "The request body is too large."
	}
	return bot.ErrorCode(err), bot.ErrorMessage(err)
}

// logError logs internal errors in full; others are the caller's business.
func (s *Server) logError(r *http.Request, code string, err error) {
	if code == bot.EINTERNAL {
		s.log.Error("http request failed", "method", r.Method, "route", routeOf(r), "err", err)
	}
}

// writeError answers with the JSON error shape and the status mapped from
// the error's code.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := errorOf(err)
	s.logError(r, code, err)
	writeJSON(w, HTTPStatus(code), errorBody{Error: errorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		slog.Error("encode json response", "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"Internal error."}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
