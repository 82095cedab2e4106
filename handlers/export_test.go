package handlers

import (
	"net/http"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"
)

// Routes lists every route of the server, so that tests can cover each one,
// including routes added later.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// SessionCookie is the cookie of the session id, signed with key as a server
// with that session key signs it: for tests that sign people in to a server
// in another process without a sign-in page.
func SessionCookie(key, id string) (*http.Cookie, error) {
	value, err := securecookie.EncodeMulti(sessionName, []byte(id), sessionCodecs([][]byte{[]byte(key)})...)
	if err != nil {
		return nil, err
	}
	return &http.Cookie{Name: sessionName, Value: value, Path: "/"}, nil
}

// SetExportPageSize makes exports read n items at a time, so that a test
// with a few items crosses pages; it returns the undo.
func SetExportPageSize(n int) func() {
	before := exportPageSize
	exportPageSize = n
	return func() { exportPageSize = before }
}
