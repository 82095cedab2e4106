package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
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

// CheckOpenURL accepts an empty link, an absolute http(s) URL or a desktop
// app's deep link (any scheme but those that run script or read local files).
func CheckOpenURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	bad := err != nil || len(s) > maxURLLen || u.Scheme == "" || strings.ContainsAny(s, " \t\r\n")
	if !bad {
		switch strings.ToLower(u.Scheme) {
		case "javascript", "data", "vbscript", "file", "blob":
			bad = true
		case "http", "https":
			bad = u.Host == ""
		}
	}
	if bad {
		return Errorf(EInvalid, "open_url", "open_url must be an absolute URL or deep link (not javascript:, data:, vbscript: or file:) of at most %d bytes", maxURLLen)
	}
	return nil
}
