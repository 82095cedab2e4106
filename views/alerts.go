package views

import (
	"net/url"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// AlertsPage lists the viewer's alerts and makes new ones.
type AlertsPage struct {
	Layout
	Alerts []*app.Alert
	// Views are the saved views one may watch; Chosen is the view the form
	// has chosen ("attention" for Needs attention).
	Views  []*app.SavedView
	Chosen string
	// URL and Destination are what the form was sent with, shown again
	// with Error when it was refused.
	URL         string
	Destination string
	Error       string
	Max         int
}

// AlertPage is one alert: what it watches, where it goes, and its latest
// deliveries with how they went.
type AlertPage struct {
	Layout
	Alert      *app.Alert
	Deliveries []*app.Delivery
	Error      string
	Now        time.Time
	Loc        *time.Location
	// Fragment marks the deliveries sent alone, as the page asks for
	// them while some are on their way.
	Fragment bool
}

// Pending reports whether a delivery is still on its way, so that the page
// asks again for how it went.
func (p AlertPage) Pending() bool {
	for _, d := range p.Deliveries {
		if d.State == app.DeliveryPending {
			return true
		}
	}
	return false
}

// WatchedURL is the list of what the alert watches.
func (p AlertPage) WatchedURL() string {
	if p.Alert.ViewID == 0 || p.Alert.View == nil {
		return "/attention"
	}
	return SavedViewURL(p.Alert.View)
}

// ShownURL is the destination as the page shows it: its host, and of its
// path only the end, since a Slack webhook's path is its secret.
func ShownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	path := u.EscapedPath()
	if len(path) > 8 {
		path = "/…" + path[len(path)-4:]
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+path, "/")
}
