package views

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// NavCount is how many entries of Needs attention the navigation shows; a
// number above app.AttentionCountCap means more than that.
type NavCount int

// Label is the count as the navigation prints it: "" for none, "99+" past
// the cap.
func (n NavCount) Label() string {
	switch {
	case n <= 0:
		return ""
	case n > app.AttentionCountCap:
		return strconv.Itoa(app.AttentionCountCap) + "+"
	}
	return strconv.Itoa(int(n))
}

// Words is the count for a screen reader: "3 need you", "more than 99
// need you".
func (n NavCount) Words() string {
	switch {
	case n <= 0:
		return "nothing needs you"
	case n > app.AttentionCountCap:
		return fmt.Sprintf("more than %d need you", app.AttentionCountCap)
	}
	return fmt.Sprintf("%d need you", int(n))
}

// AttentionPageSize is how many entries a page of Needs attention shows.
const AttentionPageSize = 50

// AttentionPage is Needs attention: what waits on the viewer, newest first.
type AttentionPage struct {
	Layout
	Entries []app.AttentionEntry
	// LastVisit is the previous visit, since which entries are new.
	LastVisit time.Time
	// MoreURL is the next page; FirstPage says this is the first.
	MoreURL   string
	FirstPage bool
	Now       time.Time
	Loc       *time.Location
	// Digest fingerprints what the page shows, for its live stream.
	Digest string
	// ListOOB marks the list sent over the live stream, or with the nav
	// count after an acknowledgement, to swap out of band.
	ListOOB bool
}

// NewAttentionPage is a page of Needs attention as shown at now: first says
// it is the first page, which alone is kept live.
func NewAttentionPage(page app.AttentionPage, count int, first bool, now time.Time, loc *time.Location) AttentionPage {
	p := AttentionPage{Entries: page.Entries, LastVisit: page.LastVisit, FirstPage: first, Now: now, Loc: loc}
	p.NeedsYou = NavCount(count)
	if page.Next != nil {
		p.MoreURL = "/attention?cursor=" + page.Next.Encode()
	}
	p.Digest = AttentionDigest(count, page.Entries)
	p.AttentionStream = AttentionStreamURL(first, p.Digest)
	return p
}

// NewCount is how many entries are new since the last visit.
func (p AttentionPage) NewCount() int {
	n := 0
	for _, e := range p.Entries {
		if e.New {
			n++
		}
	}
	return n
}

// ListURL is the list of runs Needs attention is drawn from.
func (p AttentionPage) ListURL() string { return ViewURL(app.AttentionFilter()) }

// WaitsFor says what an entry waits for, or why it failed.
func (p AttentionPage) WaitsFor(e app.AttentionEntry) string {
	it := e.Item
	switch {
	case it.Status == app.StatusBlocked && it.Reason != "":
		return "Waiting for " + it.Reason
	case it.Status == app.StatusBlocked:
		return "Waiting for its person"
	case it.Reason == app.ReasonLostContact:
		return "Lost contact: its session went silent"
	case it.Reason != "":
		return "Failed: " + it.Reason
	}
	return "Failed, with no reason given"
}

// AttentionDigest fingerprints the navigation count and the entries shown,
// so that a live stream sends them only when they changed.
func AttentionDigest(count int, entries []app.AttentionEntry) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", count)
	for _, e := range entries {
		fmt.Fprintf(h, "%s %d %s %q %q %t\n", e.Item.ID, e.Since.UnixMicro(), e.Item.Status, e.Item.Reason, e.Item.Title, e.New)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// AttentionStreamURL is the address of the live stream of Needs attention:
// the navigation's count, and with list the first page's entries too; seen
// is the digest of what the page shows.
func AttentionStreamURL(list bool, seen string) string {
	u := "/attention/events/stream?"
	if list {
		u += "list=1&"
	}
	return u + SeenParam + "=" + seen
}

// CountDigest fingerprints the navigation's count alone, for pages that
// show no entries.
func CountDigest(count int) string { return AttentionDigest(count, nil) }
