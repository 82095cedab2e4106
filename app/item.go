package app

import (
	"time"

	"github.com/uptrace/bun"
)

// Kind says whether an item is a conversation or a background run.
type Kind string

// The two kinds of item (§2).
const (
	KindInteractive Kind = "interactive"
	KindAmbient     Kind = "ambient"
)

// Kinds lists every kind, in display order.
var Kinds = []Kind{KindInteractive, KindAmbient}

// Source says where an item was launched from.
type Source string

// The sources of §2. An interactive item always has SourceInteractive; an
// ambient one never does.
const (
	SourceInteractive   Source = "interactive"
	SourceCLI           Source = "cli"
	SourceAPI           Source = "api"
	SourceSlack         Source = "slack"
	SourceLinear        Source = "linear"
	SourceGitHubActions Source = "github_actions"
	SourceScheduled     Source = "scheduled"
)

// Sources lists every source, in display order.
var Sources = []Source{SourceInteractive, SourceCLI, SourceAPI, SourceSlack, SourceLinear, SourceGitHubActions, SourceScheduled}

// Label is the source's human name.
func (s Source) Label() string {
	switch s {
	case SourceInteractive:
		return "Interactive"
	case SourceCLI:
		return "CLI"
	case SourceAPI:
		return "API"
	case SourceSlack:
		return "Slack"
	case SourceLinear:
		return "Linear"
	case SourceGitHubActions:
		return "GitHub Actions"
	case SourceScheduled:
		return "Scheduled"
	}
	return string(s)
}

// Integration reports whether the source is a team integration, whose items
// are team-visible by default.
func (s Source) Integration() bool {
	return s == SourceSlack || s == SourceLinear || s == SourceGitHubActions
}

// Status is one of exactly five states (§2).
type Status string

// The five statuses.
const (
	StatusWorking  Status = "working"
	StatusBlocked  Status = "blocked"
	StatusCanceled Status = "canceled"
	StatusFailed   Status = "failed"
	StatusSuccess  Status = "success"
)

// Statuses lists every status, in display order.
var Statuses = []Status{StatusWorking, StatusBlocked, StatusCanceled, StatusFailed, StatusSuccess}

// Label is the status's human name, shown beside its icon.
func (s Status) Label() string {
	switch s {
	case StatusWorking:
		return "Working"
	case StatusBlocked:
		return "Blocked"
	case StatusCanceled:
		return "Canceled"
	case StatusFailed:
		return "Failed"
	case StatusSuccess:
		return "Success"
	}
	return string(s)
}

// Final reports whether no further status change is allowed.
func (s Status) Final() bool {
	return s == StatusFailed || s == StatusSuccess || s == StatusCanceled
}

// Visibility says who besides the owner may see an item.
type Visibility string

// The two visibilities.
const (
	VisibilityPrivate Visibility = "private"
	VisibilityTeam    Visibility = "team"
)

// DefaultVisibility is team for integrations and private for everything else.
func DefaultVisibility(s Source) Visibility {
	if s.Integration() {
		return VisibilityTeam
	}
	return VisibilityPrivate
}

func oneOf[T ~string](v T, all []T) bool {
	for _, a := range all {
		if a == v {
			return true
		}
	}
	return false
}

// CheckKindSource enforces that interactive items come from the desktop app
// and ambient ones from anywhere else.
func CheckKindSource(k Kind, s Source) error {
	if !oneOf(k, Kinds) {
		return Errorf(EInvalid, "kind", "unknown kind %q", k)
	}
	if !oneOf(s, Sources) {
		return Errorf(EInvalid, "source", "unknown source %q", s)
	}
	if k == KindInteractive && s != SourceInteractive {
		return Errorf(EUnprocessable, "source", "an interactive item must have source %q, not %q", SourceInteractive, s)
	}
	if k == KindAmbient && s == SourceInteractive {
		return Errorf(EUnprocessable, "source", "an ambient run cannot have source %q", s)
	}
	return nil
}

// CheckStatus enforces which statuses a kind may take: blocked and canceled
// are for interactive items only.
func CheckStatus(k Kind, s Status) error {
	if !oneOf(s, Statuses) {
		return Errorf(EInvalid, "status", "unknown status %q", s)
	}
	if k == KindAmbient && (s == StatusBlocked || s == StatusCanceled) {
		return Errorf(EUnprocessable, "status", "an ambient run cannot be %s", s)
	}
	return nil
}

// CheckTransition enforces the status rules of §2 for a change from one status
// to another: working and blocked may become anything the kind allows, and a
// final status never changes. Setting the same status again is a no-op.
func CheckTransition(k Kind, from, to Status) error {
	if err := CheckStatus(k, to); err != nil {
		return err
	}
	if from == to {
		return nil
	}
	if from.Final() {
		return Errorf(EConflict, "status", "the item is already %s; a final status cannot change", from)
	}
	return nil
}

// Item is one row of the management view: a conversation or a background run.
type Item struct {
	bun.BaseModel `bun:"table:items"`

	ID          string     `bun:"id,pk"`
	Kind        Kind       `bun:"kind,notnull"`
	Source      Source     `bun:"source,notnull"`
	Status      Status     `bun:"status,notnull"`
	Title       string     `bun:"title,notnull"`
	CreatorID   int64      `bun:"creator_id,notnull"`
	TeamID      int64      `bun:"team_id,nullzero"`
	Visibility  Visibility `bun:"visibility,notnull"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	StartedAt   time.Time  `bun:"started_at,nullzero"`
	FinishedAt  time.Time  `bun:"finished_at,nullzero"`
	UpdatedAt   time.Time  `bun:"updated_at,notnull"`
	Inference   Credits    `bun:"inference_credits,notnull"`
	Compute     Credits    `bun:"compute_credits,notnull"`
	OpenURL     string     `bun:"open_url,notnull"`
	ExternalURL string     `bun:"external_url,notnull"`
	// CreateKey is the Idempotency-Key the item was created with, and
	// CreateHash the digest of its create request: a replay must match it.
	CreateKey  string `bun:"create_key,nullzero"`
	CreateHash string `bun:"create_hash,nullzero"`

	// What an agent reported of its session (§10); empty for items that no
	// agent reports.
	AgentName      string    `bun:"agent_name,notnull"`
	AgentSession   string    `bun:"agent_session,notnull"`
	Models         string    `bun:"models,notnull"` // comma-separated, in the order first seen
	Tokens         Tokens    `bun:"embed:"`
	UnpricedModels string    `bun:"unpriced_models,notnull"` // comma-separated; set, the credits are unknown
	Where          Where     `bun:"embed:"`
	Reason         string    `bun:"reason,notnull"`
	FirstPrompt    string    `bun:"first_prompt,notnull"`
	HeardAt        time.Time `bun:"heard_at,nullzero"`
	StatusAt       time.Time `bun:"status_at,nullzero"`
	LastSeq        int64     `bun:"last_seq,notnull"`
	TranscriptRank int       `bun:"transcript_rank,notnull"`

	Creator *User `bun:"rel:belongs-to,join:creator_id=id"`
	Team    *Team `bun:"rel:belongs-to,join:team_id=id"`
}

// Credits is the one combined number the list shows.
func (it *Item) Credits() Credits { return it.Inference + it.Compute }

// HasDuration reports whether the item shows a duration: ambient runs only.
func (it *Item) HasDuration() bool { return it.Kind == KindAmbient && !it.StartedAt.IsZero() }

// Duration is finished − started, or the time elapsed so far while working.
func (it *Item) Duration(now time.Time) time.Duration {
	if !it.HasDuration() {
		return 0
	}
	end := it.FinishedAt
	if end.IsZero() {
		end = now
	}
	if end.Before(it.StartedAt) {
		return 0
	}
	return end.Sub(it.StartedAt)
}

// Validate checks an item's own fields against the rules of §2 before it is
// stored.
func (it *Item) Validate() error {
	if err := CheckKindSource(it.Kind, it.Source); err != nil {
		return err
	}
	if err := CheckStatus(it.Kind, it.Status); err != nil {
		return err
	}
	if it.Visibility != VisibilityPrivate && it.Visibility != VisibilityTeam {
		return Errorf(EInvalid, "visibility", "unknown visibility %q", it.Visibility)
	}
	if it.Visibility == VisibilityTeam && it.TeamID == 0 {
		return Errorf(EUnprocessable, "visibility", "a team-visible item needs a team")
	}
	if it.Title == "" {
		return Errorf(EInvalid, "title", "a title is required")
	}
	if len(it.Title) > 300 {
		return Errorf(EInvalid, "title", "the title is longer than 300 bytes")
	}
	if it.Inference < 0 || it.Compute < 0 {
		return Errorf(EInvalid, "credits", "credits cannot be negative")
	}
	if it.Inference > MaxCredits || it.Compute > MaxCredits {
		return Errorf(EInvalid, "credits", "credits are at most %s", MaxCredits)
	}
	if it.Kind == KindInteractive && it.Compute != 0 {
		return Errorf(EUnprocessable, "credits.compute", "interactive items consume inference credits only")
	}
	return nil
}
