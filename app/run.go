package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// maxURLLen bounds the links an item carries.
const maxURLLen = 2048

// NewRun is a client's request to create an item through the API. Fields
// left empty get their defaults: a fresh id, status working, source api (or
// interactive for a conversation), visibility team for an integration's item
// with a team and private otherwise, started now.
type NewRun struct {
	ID          string     `json:"id"`
	Kind        Kind       `json:"kind"`
	Source      Source     `json:"source"`
	Title       string     `json:"title"`
	Status      Status     `json:"status"`
	Team        string     `json:"team"` // a slug of one of the creator's teams
	Visibility  Visibility `json:"visibility"`
	OpenURL     string     `json:"open_url"`
	ExternalURL string     `json:"external_url"`
	StartedAt   time.Time  `json:"started_at"`
	// Where says where the run runs: its working directory, repository and
	// branch, when the client knows them.
	Where Where `json:"where"`
	// IdempotencyKey makes a create without an id safe to retry.
	IdempotencyKey string `json:"-"`
}

// fingerprint is a digest of the request as the client sent it: a replay
// with the same id or key must carry the same fingerprint.
func (n NewRun) fingerprint() string {
	n.StartedAt = n.StartedAt.UTC().Truncate(time.Microsecond)
	b, _ := json.Marshal(n)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RunChange is a change to an item: each field that is set is applied.
// Credits are the totals so far, not increments, so that a retried change
// counts once.
type RunChange struct {
	Status     *Status
	Title      *string
	Inference  *Credits
	Compute    *Credits
	FinishedAt *time.Time
}

// The times a client reports are kept within RFC 3339's years, 1 to 9999,
// in UTC: both databases store those and read them back, and beyond them a
// time written in one zone may fall outside in UTC (0001-01-01T00:00:00+01:00
// is in year 0).
var (
	earliestTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	latestTime   = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// storableTime reports whether t is within the years a client's time may
// have.
func storableTime(t time.Time) bool { return !t.Before(earliestTime) && !t.After(latestTime) }

// checkTime refuses a client's time outside the years 1 to 9999 in UTC,
// naming field.
func checkTime(field string, t time.Time) error {
	if !t.IsZero() && !storableTime(t) {
		return Errorf(EInvalid, field, "%s must fall in the years 1 to 9999 in UTC", field)
	}
	return nil
}

// CheckExternalURL accepts an empty link or an absolute http(s) URL: the
// place a run was triggered from, which people open in a browser.
func CheckExternalURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURLLen || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EInvalid, "external_url", "external_url must be an absolute http or https URL of at most %d bytes", maxURLLen)
	}
	return nil
}

// DefaultOpenURLSchemes are the schemes an item's open_url may use unless
// the operator names others (AGENTDECK_OPEN_URL_SCHEMES): the web, and the
// deep links of the desktop apps and editors agents run in. The link shows
// as a one-click link to the item's teammates, so the list says what may
// be opened, not what may not: a scheme that hands a click to the operating
// system (search-ms:, ms-msdt:, smb:, intent:…) stays out unless named.
var DefaultOpenURLSchemes = []string{
	"https", "http",
	"agent", // the desktop app's own deep links, as the demo data and the API's examples use
	"claude", "codex", "cursor", "vscode", "vscode-insiders", "windsurf", "zed", "warp", "jetbrains",
}

// neverOpenSchemes run script or read local files: no list may allow them.
var neverOpenSchemes = []string{"javascript", "data", "vbscript", "file", "blob"}

// CheckOpenURLSchemes checks an operator's list of open_url schemes: each a
// well-formed scheme (RFC 3986) and none that runs script or reads local
// files. It returns them in lower case.
func CheckOpenURLSchemes(schemes []string) ([]string, error) {
	out := make([]string, 0, len(schemes))
	for _, sc := range schemes {
		sc = strings.ToLower(strings.TrimSpace(sc))
		if !schemeRe.MatchString(sc) {
			return nil, fmt.Errorf("%q is not a URL scheme", sc)
		}
		if slices.Contains(neverOpenSchemes, sc) {
			return nil, fmt.Errorf("%s: links run script or read local files", sc)
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, errors.New("no scheme given")
	}
	return out, nil
}

var schemeRe = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// CheckOpenURL accepts an empty link, or an absolute URL of at most
// maxURLLen bytes whose scheme is one of schemes (see
// DefaultOpenURLSchemes); an http(s) link must name a host.
func CheckOpenURL(s string, schemes []string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	bad := err != nil || len(s) > maxURLLen || u.Scheme == "" || strings.ContainsAny(s, " \t\r\n") ||
		!slices.Contains(schemes, strings.ToLower(u.Scheme)) || slices.Contains(neverOpenSchemes, strings.ToLower(u.Scheme))
	if !bad && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) {
		bad = u.Host == ""
	}
	if bad {
		return Errorf(EInvalid, "open_url", "open_url must be an absolute URL of at most %d bytes with one of the schemes %s", maxURLLen, strings.Join(schemes, ", "))
	}
	return nil
}

// SetOpenURLSchemes replaces the schemes an item's open_url may use (see
// DefaultOpenURLSchemes); the list is checked by CheckOpenURLSchemes.
func (s *Store) SetOpenURLSchemes(schemes []string) { s.openURLSchemes = slices.Clone(schemes) }
