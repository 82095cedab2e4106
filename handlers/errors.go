package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// statusOf is the one table from domain error codes to HTTP statuses. A
// code it lacks is a fault of ours, answered 500 and logged (handleError);
// a test keeps it total over app.Codes.
var statusOf = map[app.Code]int{
	app.EInvalid:       http.StatusBadRequest,
	app.EUnauthorized:  http.StatusUnauthorized,
	app.EForbidden:     http.StatusForbidden,
	app.ENotFound:      http.StatusNotFound,
	app.EConflict:      http.StatusConflict,
	app.ETooLarge:      http.StatusRequestEntityTooLarge,
	app.EUnprocessable: http.StatusUnprocessableEntity,
	app.ERateLimited:   http.StatusTooManyRequests,
	app.EInternal:      http.StatusInternalServerError,
}

// handleError answers every failed request: the status from statusOf (or
// Echo's own), a page for people, and the cause in the log for a 5xx only.
// Whatever the error, the answer is a status from 400 to 599: an unmapped
// code or an error of no known kind is a 500, logged, and the answer names
// the request's id so that whoever saw it can quote it.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message, field := http.StatusInternalServerError, internalMessage, ""
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			message = m
		} else {
			message = http.StatusText(status)
		}
	default:
		if code := app.ErrorCode(err); code != app.EInternal {
			if st, ok := statusOf[code]; ok {
				status = st
				field, message = app.ErrorDetail(err)
			} else {
				err = fmt.Errorf("handlers: error code %q has no status: %w", code, err)
			}
		}
	}
	if status < 400 || status > 599 {
		err = fmt.Errorf("handlers: status %d is not an error's: %w", status, err)
		status, message, field = http.StatusInternalServerError, internalMessage, ""
	}
	id := requestID(c)
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", id, "err", err)
	}
	if status == http.StatusNotFound && message == http.StatusText(http.StatusNotFound) {
		message = "There is nothing here, or you may not see it."
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || !acceptsHTML(c.Request()) {
		c.JSON(status, errorJSON{Error: errorDetailJSON{Code: codeFor(status), Message: message, Field: field, RequestID: id}})
		return
	}
	shown := sentence(message)
	if status >= 500 {
		shown += " If it keeps happening, quote request id " + id + "."
	}
	page := views.ErrorPage{Layout: s.layout(c, http.StatusText(status), ""), Status: status, Message: shown}
	if err := s.render(c, status, views.PageError, page); err != nil {
		s.log.Error("render error page", "err", err)
		c.String(status, message)
	}
}

// errorJSON is how every failed API request is answered.
type errorJSON struct {
	Error errorDetailJSON `json:"error"`
}

// internalMessage is all a client learns of a fault of ours.
const internalMessage = "Something went wrong on our side. Try again in a moment."

// errorDetailJSON says what went wrong and, when one input is to blame,
// which (Field). RequestID names the request in the server's log.
type errorDetailJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// codeFor names a status for JSON error bodies.
func codeFor(status int) string {
	for code, st := range statusOf {
		if st == status {
			return string(code)
		}
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

func acceptsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return a == "" || strings.Contains(a, "text/html") || strings.Contains(a, "*/*") || r.Header.Get("HX-Request") == "true"
}

// sentence makes a domain message, written to be embedded, stand alone on a
// page: a capital first letter and a full stop.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r, size := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[size:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
