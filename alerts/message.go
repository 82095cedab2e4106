package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// The headers of a webhook's request. The signature is Stripe's and
// Slack's scheme: the time of sending and an HMAC-SHA256, keyed with the
// alert's secret, of that time, a dot and the body. A receiver recomputes
// it over the body as received, compares in constant time, and refuses a
// time more than a few minutes off, so that a request replayed later is
// refused too. The README shows a receiver's check.
const (
	SignatureHeader = "Agentdeck-Signature"
	DeliveryHeader  = "Agentdeck-Delivery"
	EventHeader     = "Agentdeck-Event"
)

// The events a webhook receives.
const (
	EventEntered = "item.entered_view"
	EventTest    = "test"
)

// Sign is the value of the signature header for a body sent at a moment
// with a secret: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(secret string, at time.Time, body []byte) string {
	t := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "."))
	mac.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Payload is the JSON body a webhook receives.
type Payload struct {
	// ID names the delivery: a request sent again (after a timeout, say)
	// carries the same, so that a receiver may ignore a repeat.
	ID    int64        `json:"id"`
	Event string       `json:"event"`
	Alert PayloadAlert `json:"alert"`
	// Item and Change are absent from a test.
	Item   *PayloadItem   `json:"item,omitempty"`
	Change *PayloadChange `json:"change,omitempty"`
}

// PayloadAlert says which alert fired, and what it watches.
type PayloadAlert struct {
	ID      int64  `json:"id"`
	Watches string `json:"watches"`
	URL     string `json:"url"`
}

// PayloadItem is the item that entered the view, as the API shows its main
// fields, with the address of its page.
type PayloadItem struct {
	ID        string      `json:"id"`
	URL       string      `json:"url"`
	Title     string      `json:"title"`
	Kind      app.Kind    `json:"kind"`
	Source    app.Source  `json:"source"`
	Status    app.Status  `json:"status"`
	Reason    string      `json:"reason,omitempty"`
	Creator   string      `json:"creator,omitempty"`
	Team      string      `json:"team,omitempty"`
	Agent     string      `json:"agent,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	Credits   app.Credits `json:"credits"`
}

// PayloadChange is the change of status that took the item into the view;
// From is absent for a new item.
type PayloadChange struct {
	From app.Status `json:"from,omitempty"`
	To   app.Status `json:"to"`
	At   time.Time  `json:"at"`
}

// payloadOf is what a webhook is sent about an outgoing delivery; base is
// the server's public address, for links.
func payloadOf(o app.Outgoing, base string) Payload {
	p := Payload{ID: o.Delivery.ID, Event: EventTest,
		Alert: PayloadAlert{ID: o.Alert.ID, Watches: o.Alert.Name(), URL: base + watchedPath(o.Alert)}}
	if it := o.Item; it != nil {
		p.Event = EventEntered
		p.Item = &PayloadItem{ID: it.ID, URL: base + "/runs/" + it.ID, Title: it.Title, Kind: it.Kind, Source: it.Source,
			Status: it.Status, Reason: it.Reason, Agent: it.AgentName, CreatedAt: it.CreatedAt.UTC(), Credits: it.Credits()}
		if it.Creator != nil {
			p.Item.Creator = it.Creator.Handle
		}
		if it.Team != nil {
			p.Item.Team = it.Team.Slug
		}
		p.Change = &PayloadChange{From: o.Delivery.From, To: o.Delivery.To, At: o.Delivery.ChangedAt.UTC()}
	}
	return p
}

// watchedPath is the address of what an alert watches.
func watchedPath(a *app.Alert) string {
	if a.ViewID == 0 || a.View == nil {
		return "/attention"
	}
	if a.View.Query == "" {
		return "/?tab=personal"
	}
	return "/?" + a.View.Query
}

// webhookBody is the JSON a signed webhook is sent.
func webhookBody(o app.Outgoing, base string) ([]byte, error) {
	return json.Marshal(payloadOf(o, base))
}

// slackBody is the message a Slack incoming webhook is sent: a line of text,
// and the same as a section with a link, in Slack's own markup.
func slackBody(o app.Outgoing, base string) ([]byte, error) {
	p := payloadOf(o, base)
	watched := fmt.Sprintf("<%s|%s>", p.Alert.URL, slackEscape(p.Alert.Watches))
	var text, plain string
	if p.Item == nil {
		plain = "Test from agentdeck: alerts of " + p.Alert.Watches + " will arrive here."
		text = "*Test from agentdeck*: alerts of " + watched + " will arrive here, one for each run that enters it."
	} else {
		it := p.Item
		what := changeLabel(*p.Change)
		plain = what + ": " + it.Title
		var b strings.Builder
		fmt.Fprintf(&b, "*%s*: <%s|%s>", what, it.URL, slackEscape(it.Title))
		if it.Reason != "" {
			fmt.Fprintf(&b, "\n%s", slackEscape(it.Reason))
		}
		var facts []string
		if it.Creator != "" {
			facts = append(facts, "by "+slackEscape(it.Creator))
		}
		facts = append(facts, it.Source.Label())
		if it.Team != "" {
			facts = append(facts, slackEscape(it.Team))
		}
		facts = append(facts, it.Credits.String()+" credits")
		fmt.Fprintf(&b, "\n%s · in %s", strings.Join(facts, " · "), watched)
		text = b.String()
	}
	return json.Marshal(map[string]any{
		"text":   plain,
		"blocks": []any{map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": text}}},
	})
}

// changeLabel says in a word or two what a change made of its item.
func changeLabel(c PayloadChange) string {
	switch {
	case c.To == app.StatusBlocked:
		return "Needs input"
	case c.From == "" && c.To == app.StatusWorking:
		return "New"
	}
	return c.To.Label()
}

// slackEscape escapes the three characters Slack's markup reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
