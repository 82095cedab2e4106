package handlers

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[string]int{
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
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message, field := http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment.", ""
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
			status = statusOf[code]
			field, message = app.ErrorDetail(err)
		}
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if status == http.StatusNotFound && message == http.StatusText(http.StatusNotFound) {
		message = "There is nothing here, or you may not see it."
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || !acceptsHTML(c.Request()) {
		c.JSON(status, errorJSON{Error: errorDetailJSON{Code: codeFor(status), Message: message, Field: field}})
		return
	}
	page := views.ErrorPage{Layout: s.layout(c, http.StatusText(status), ""), Status: status, Message: sentence(message)}
	if err := s.render(c, status, "error", page); err != nil {
		s.log.Error("render error page", "err", err)
		c.String(status, message)
	}
}

// errorJSON is how every failed API request is answered.
type errorJSON struct {
	Error errorDetailJSON `json:"error"`
}

// errorDetailJSON says what went wrong and, when one input is to blame,
// which (Field).
type errorDetailJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// codeFor names a status for JSON error bodies.
func codeFor(status int) string {
	for code, st := range statusOf {
		if st == status {
			return code
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
