package views

import (
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// Layout is what every page's frame needs.
type Layout struct {
	Title string
	User  *app.User // nil when signed out
	CSRF  string    // the token forms and htmx requests send back
	Demo  bool      // demo mode: say so in the header
	Nav   string    // the active top-level section
}

// TabLink is one of the view's tabs.
type TabLink struct {
	Label  string
	URL    string
	Active bool
}

// ViewPage is the management view (§3).
type ViewPage struct {
	Layout
	Filter    app.Filter
	Tabs      []TabLink
	Teammates []*app.User
	Summary   app.Summary
	Items     []*app.Item
	MoreURL   string   // the next page; empty on the last one
	Notices   []string // parameters that could not be used
	Now       time.Time
	Loc       *time.Location
	// Fragment is set when only the results are rendered, for htmx; the
	// tabs then follow out of band.
	Fragment bool
	// FiltersOOB makes a fragment also refresh the filter form, when the
	// change came from a chip, a tab or Clear rather than from the form.
	FiltersOOB bool
	// LiveURL is the /events address that keeps this view live; Digest
	// fingerprints the results shown, which it carries.
	LiveURL string
	Digest  string
	// ResultsOOB and SummaryOOB mark the results and the summary sent
	// over the live stream, to be swapped out of band.
	ResultsOOB bool
	SummaryOOB bool
}

// SignInPage lists the ways to sign in.
type SignInPage struct {
	Layout
	Providers []Provider
	DemoUsers []*app.User
	Next      string // where to go after signing in
	Error     string
}

// Provider is one enabled OAuth provider.
type Provider struct {
	Name  string // the route name: github, google, gitlab, openid-connect
	Label string
}

// ErrorPage explains a failed request.
type ErrorPage struct {
	Layout
	Status  int
	Message string
}

// RowData is one row of the table with the clock and zone it is shown in.
type RowData struct {
	Item *app.Item
	Now  time.Time
	Loc  *time.Location
}
