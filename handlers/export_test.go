package handlers

import "github.com/labstack/echo/v4"

// Routes lists every route of the server, so that tests can cover each one,
// including routes added later.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }
