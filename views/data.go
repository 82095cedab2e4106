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
	// NeedsYou counts Needs attention for the navigation, which
	// AttentionStream (its live stream) keeps true.
	NeedsYou        NavCount
	AttentionStream string
}

// TabLink is one of the view's tabs. A saved view's tab (Saved) shows how
// many of its runs are working and have failed, and names the team it is
// shared with.
type TabLink struct {
	Label           string
	URL             string
	Active          bool
	Saved           bool
	Working, Failed int64
	Team            string
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
	// Menus are the filter form's menus; Highlight the searched words the
	// rows mark.
	Menus     []Menu
	Highlight []string
	// TabsURL refreshes the tabs' counts; SaveQuery is what saving the
	// view keeps, and Teams those it may be shared with.
	TabsURL   string
	SaveQuery string
	Teams     []*app.Team
	// CreatorNote explains a creator filter that names others on Personal,
	// which lists only one's own runs.
	CreatorNote *CreatorNote
}

// CreatorNote says why others' names match nothing on Personal, with the
// two ways out.
type CreatorNote struct {
	Names            string
	AllURL, ClearURL string
}

// ConfirmPage asks before a destructive action: its button sends the same
// request again, confirmed, with the fields it had.
type ConfirmPage struct {
	Layout
	Question, Button string
	Action, Back     string
	Fields           []Field
}

// Field is one form field carried along.
type Field struct{ Name, Value string }

// SavedViewsPage lists the saved views a person sees.
type SavedViewsPage struct {
	Layout
	Views []*app.SavedView
	Error string
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
	Item      *app.Item
	Now       time.Time
	Loc       *time.Location
	Highlight []string // searched words to mark in the title
}

// TokensPage lists the viewer's access tokens; NewToken is the secret of a
// token just created, shown this once.
type TokensPage struct {
	Layout
	Tokens       []*app.AccessToken
	Expiries     []int // days; 0 is never
	NewToken     string
	NewTokenName string
	Name         string // the name typed, kept when the form is refused
	Error        string
	Now          time.Time
	Loc          *time.Location // the viewer's zone, for times
	APIURL       string         // where scripts reach this server
	// Wiring is what connects an agent to this server, for copy and paste:
	// the snippets `agentdeck connect` merges into the agents' settings,
	// with the new token in them when there is one.
	Wiring []Snippet
}

// Snippet is a piece of configuration to copy into a file.
type Snippet struct {
	Title string
	Path  string // the file it belongs in
	Text  string
}

// RunPage is an item's shared session (§5): its header, transcript, log and
// outputs. Base is the page's own address (/runs/ID, or /share/TOKEN when
// read through a share link), which the log's paging links extend.
type RunPage struct {
	Layout
	Item         *app.Item
	Base         string
	ViaShare     bool // read through a share link: no owner controls
	Messages     []*app.Event
	MoreMessages bool // the transcript goes on beyond what is shown
	Logs         []*app.Event
	EarlierLogs  int64 // the seq of the first line shown when earlier lines exist, else 0
	LogsFrom     int64 // the log was read before this seq; 0 is its end
	Outputs      []*app.Event
	IsOwner      bool
	Share        *app.ShareLink // the live share link, for the owner
	NewShareURL  string         // a share link just created, shown once
	Now          time.Time
	Loc          *time.Location
	// TailURL is the live tail's address while the item works and the page
	// shows the end of its session; empty otherwise.
	TailURL string
}

// TeamsPage lists the viewer's teams and offers to create one.
type TeamsPage struct {
	Layout
	Memberships []*app.Membership
	Name        string // the create form's name, shown again after a problem
	Error       string
}

// TeamPage is one team: its members and, for its admins, the forms that
// manage it.
type TeamPage struct {
	Layout
	Team    *app.Team
	Role    app.Role // the viewer's
	Members []*app.Membership
	Invites []*app.Invite // the working invite links; admins only
	// NewInviteURL is the invite link just made: the only time it is shown.
	NewInviteURL string
	Error        string
	Now          time.Time
	Loc          *time.Location // the viewer's zone, for times
}

// Admin reports whether the viewer administers the team.
func (p TeamPage) Admin() bool { return p.Role == app.RoleAdmin }

// InvitePage asks whether to join the team of an invite link.
type InvitePage struct {
	Layout
	Token   string
	Team    *app.Team
	Expires time.Time
	Member  bool // the viewer is in the team already
}
