package handlers

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/agentdeck/agentdeck/alerts"
	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/views"
	"github.com/labstack/echo/v4"
)

// newAlertWorker makes the worker that sends alerts, trusting for
// destinations' certificates the system's roots and those of
// AGENTDECK_WEBHOOK_CA_FILE.
func newAlertWorker(cfg config.Config, store *app.Store, s *Server) (*alerts.Worker, error) {
	o := alerts.Options{BaseURL: cfg.PublicURL(), Log: s.log}
	if cfg.WebhookCAFile != "" {
		pem, err := os.ReadFile(cfg.WebhookCAFile)
		if err != nil {
			return nil, fmt.Errorf("AGENTDECK_WEBHOOK_CA_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("AGENTDECK_WEBHOOK_CA_FILE: %s holds no PEM certificate", cfg.WebhookCAFile)
		}
		o.RootCAs = pool
	}
	return alerts.New(store, o), nil
}

// RunAlerts queues and sends alerts until ctx ends. Serve runs it; whoever
// serves the handler on an http.Server of their own (as tests do) runs it
// themselves, in one goroutine per server.
func (s *Server) RunAlerts(ctx context.Context) { s.alerts.Run(ctx) }

// handleAlerts lists the viewer's alerts, with the form that makes one; a
// saved view may be chosen in advance (?view=ID).
func (s *Server) handleAlerts(c echo.Context) error {
	return s.renderAlerts(c, http.StatusOK, alertForm{View: c.QueryParam("view")}, "")
}

// alertForm is what the new alert form was sent with.
type alertForm struct{ View, Destination, URL string }

func (s *Server) renderAlerts(c echo.Context, status int, form alertForm, problem string) error {
	ctx := c.Request().Context()
	v := viewerOf(c)
	list, err := s.store.Alerts(ctx, v)
	if err != nil {
		return err
	}
	saved, err := s.store.SavedViews(ctx, v)
	if err != nil {
		return err
	}
	if form.View == "" {
		form.View = "attention"
	}
	return s.render(c, status, views.PageAlerts, views.AlertsPage{Layout: s.layout(c, "Alerts", "alerts"), Alerts: list,
		Views: saved, Chosen: form.View, URL: form.URL, Destination: form.Destination, Error: problem, Max: app.MaxAlertsPerUser})
}

// handleAlertCreate makes an alert, then opens it.
func (s *Server) handleAlertCreate(c echo.Context) error {
	form := alertForm{View: c.FormValue("view"), Destination: c.FormValue("destination"), URL: c.FormValue("url")}
	n := app.NewAlert{Destination: app.Destination(form.Destination), URL: form.URL}
	if form.View != "attention" {
		id, err := strconv.ParseInt(form.View, 10, 64)
		if err != nil || id <= 0 {
			return s.renderAlerts(c, http.StatusBadRequest, form, "Choose Needs attention or one of your saved views.")
		}
		n.ViewID = id
	}
	a, err := s.store.CreateAlert(c.Request().Context(), viewerOf(c), n)
	if err != nil {
		switch code := app.ErrorCode(err); code {
		case app.EInvalid, app.EUnprocessable, app.ENotFound:
			_, msg := app.ErrorDetail(err)
			return s.renderAlerts(c, statusOf[code], form, sentence(msg))
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/alerts/"+strconv.FormatInt(a.ID, 10))
}

// alertOf is the viewer's alert the path names; anyone else's, and a path
// that names none, is not found.
func (s *Server) alertOf(c echo.Context) (*app.Alert, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, app.ErrNotFound
	}
	return s.store.Alert(c.Request().Context(), viewerOf(c), id)
}

// handleAlertShow shows an alert and its latest deliveries; htmx gets the
// deliveries alone.
func (s *Server) handleAlertShow(c echo.Context) error {
	return s.renderAlert(c, http.StatusOK, "")
}

func (s *Server) renderAlert(c echo.Context, status int, problem string) error {
	a, err := s.alertOf(c)
	if err != nil {
		return err
	}
	v := viewerOf(c)
	ds, err := s.store.AlertDeliveries(c.Request().Context(), v, a)
	if err != nil {
		return err
	}
	data := views.AlertPage{Alert: a, Deliveries: ds, Error: problem, Now: s.store.Now(),
		Loc: viewerZone(c)}
	if isFragmentRequest(c.Request()) {
		return s.render(c, status, views.AlertDeliveries, data)
	}
	data.Layout = s.layout(c, a.Name()+" · Alerts", "alerts")
	return s.render(c, status, views.PageAlert, data)
}

// handleAlertTest sends a sample through an alert, then shows the alert,
// where the sample's delivery appears with how it went.
func (s *Server) handleAlertTest(c echo.Context) error {
	a, err := s.alertOf(c)
	if err != nil {
		return err
	}
	if _, err := s.store.TestAlert(c.Request().Context(), viewerOf(c), a.ID); err != nil {
		if app.ErrorCode(err) == app.EConflict {
			_, msg := app.ErrorDetail(err)
			return s.renderAlert(c, http.StatusConflict, sentence(msg))
		}
		return err
	}
	s.alerts.Wake()
	return c.Redirect(http.StatusSeeOther, "/alerts/"+strconv.FormatInt(a.ID, 10))
}

// handleAlertDelete deletes an alert.
func (s *Server) handleAlertDelete(c echo.Context) error {
	a, err := s.alertOf(c)
	if err != nil {
		return err
	}
	if ok, err := s.confirmed(c, "Delete this alert? It sends nothing more.", "Delete the alert", "/alerts/"+strconv.FormatInt(a.ID, 10)); !ok {
		return err
	}
	if err := s.store.DeleteAlert(c.Request().Context(), viewerOf(c), a.ID); err != nil && !errors.Is(err, app.ErrNotFound) {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/alerts")
}
