package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes the API under /api/v1; tests check real
// responses against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// handleOpenAPI serves the API's OpenAPI description, to anyone.
func (s *Server) handleOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/json", openAPIDocument)
}
