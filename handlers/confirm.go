package handlers

import (
	"net/http"

	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// confirmField is the form field that says a destructive request was
// confirmed. Without JavaScript the server asks (confirmed renders a page
// with the question); with it, the button asks first (hx-confirm) and sends
// the field itself.
const confirmField = "confirm"

// confirmed reports whether a destructive request was confirmed. When it was
// not, it answers with a page that asks the question, whose button sends the
// same request again, confirmed; the handler then returns err as it is.
func (s *Server) confirmed(c echo.Context, question, button, back string) (ok bool, err error) {
	if c.FormValue(confirmField) == "yes" {
		return true, nil
	}
	form, err := c.FormParams()
	if err != nil {
		return false, err
	}
	page := views.ConfirmPage{Layout: s.layout(c, question, ""), Question: question, Button: button,
		Action: c.Request().URL.Path, Back: back}
	for name, values := range form {
		if name == "csrf" || name == confirmField {
			continue
		}
		for _, v := range values {
			page.Fields = append(page.Fields, views.Field{Name: name, Value: v})
		}
	}
	return false, s.render(c, http.StatusOK, views.PageConfirm, page)
}
