package handlers_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/alerts"
	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/agentdeck/agentdeck/handlers"
)

// hookReceiver is a webhook's receiver: a real HTTPS server keeping what it
// is sent.
type hookReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.body = append(r.got, req), append(r.body, b)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// payloads decodes what the receiver was sent.
func (r *hookReceiver) payloads(t *testing.T) []alerts.Payload {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]alerts.Payload, len(r.body))
	for i, b := range r.body {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("a request's body is not a payload: %v: %s", err, b)
		}
	}
	return out
}

// trustReceiver writes the receiver's certificate to a file and names it
// as the alerts' extra certificate authority, as an operator would for a
// receiver with a certificate of their own.
func trustReceiver(t *testing.T, r *hookReceiver) func(*config.Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "receiver.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
	if err := os.WriteFile(path, block, 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.WebhookCAFile = path }
}

// runAlerts runs the server's alert worker until the test ends.
func runAlerts(t *testing.T, a *testApp) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Server.RunAlerts(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitForPage polls a page until it shows what ok looks for, within ten
// seconds.
func waitForPage(t *testing.T, a *testApp, c *http.Client, path, what string, ok func(page string) bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, page := a.get(t, c, path, nil)
		if ok(page) {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s never showed %s:\n%s", path, what, page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sentDeliveries counts the deliveries a page lists as sent.
func sentDeliveries(page string) int { return strings.Count(page, `class="delivery__state">sent<`) }

var alertLocation = regexp.MustCompile(`^/alerts/(\d+)$`)

// A person makes an alert of Needs attention with the form, tests it, sees
// a run that blocks arrive, and deletes it; the pages list every delivery
// with how it went.
func TestAlertPagesMakeTestFireAndDeleteAnAlert(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		recv := newHookReceiver(t)
		s.SetPrivateDestinations(true)
		w := newAPIWorld(t, s, trustReceiver(t, recv))
		runAlerts(t, w.testApp)
		maya := w.signIn(t, "maya")
		csrf := sessionCSRFToken(t, w.testApp, maya)

		resp, _ := w.submit(t, maya, "/alerts", url.Values{"csrf": {csrf}, "view": {"attention"}, "destination": {"webhook"},
			"url": {recv.srv.URL + "/agentdeck/secret-path"}}, nil)
		m := alertLocation.FindStringSubmatch(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("creating an alert: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		path := m[0]
		_, page := w.get(t, maya, path, nil)
		if !strings.Contains(page, "Needs attention") || strings.Contains(page, "secret-path") || !strings.Contains(page, "whsec_") {
			t.Errorf("the alert's page should name what it watches, hide the URL's path and show the secret:\n%s", page)
		}
		if _, list := w.get(t, maya, "/alerts", nil); !strings.Contains(list, `href="`+path+`"`) {
			t.Errorf("the alerts page does not list the new alert")
		}

		resp, _ = w.submit(t, maya, path+"/test", url.Values{"csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("testing the alert: %d", resp.StatusCode)
		}
		waitForPage(t, w.testApp, maya, path, "the test sent", func(p string) bool { return sentDeliveries(p) == 1 })
		r := w.as(t, "jonas", http.MethodPost, "/api/v1/runs", map[string]any{"kind": "interactive", "title": "Wants a review", "team": "platform", "visibility": "team"})
		wantStatus(t, "create", r, http.StatusCreated)
		id := r.JSON(t)["id"].(string)
		wantStatus(t, "block", w.as(t, "jonas", http.MethodPatch, "/api/v1/runs/"+id, map[string]any{"status": "blocked"}), http.StatusOK)
		waitForPage(t, w.testApp, maya, path, "the blocked run's alert sent", func(p string) bool {
			return strings.Contains(p, "Wants a review") && sentDeliveries(p) == 2
		})

		got := recv.payloads(t)
		if len(got) != 2 || got[0].Event != alerts.EventTest || got[1].Item == nil || got[1].Item.ID != id {
			t.Fatalf("the receiver got %+v, want the test and then the blocked run", got)
		}
		a, err := s.Alerts(context.Background(), viewerOf(t, s, "maya"))
		mustDo(t, err)
		recv.mu.Lock()
		sig := recv.got[1].Header.Get(alerts.SignatureHeader)
		body := recv.body[1]
		recv.mu.Unlock()
		if want := alerts.Sign(a[0].Secret, signedAt(t, sig), body); sig != want {
			t.Errorf("signature %q, want %q", sig, want)
		}
		if !strings.HasPrefix(got[1].Item.URL, w.URL+"/runs/") {
			t.Errorf("the payload links to %q, not this server", got[1].Item.URL)
		}

		resp, question := w.submit(t, maya, path+"/delete", url.Values{"csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(question, "Delete this alert?") {
			t.Errorf("deleting unconfirmed: %d, want 200 and a question", resp.StatusCode)
		}
		if resp, _ := w.get(t, maya, path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("the alert's page after an unconfirmed delete: %d, want 200", resp.StatusCode)
		}
		resp, _ = w.submit(t, maya, path+"/delete", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/alerts" {
			t.Errorf("deleting the alert: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := w.get(t, maya, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a deleted alert's page: %d, want 404", resp.StatusCode)
		}
	})
}

// signedAt reads the time of a signature header.
func signedAt(t *testing.T, header string) time.Time {
	t.Helper()
	m := regexp.MustCompile(`^t=(\d+),`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("no time in the signature %q", header)
	}
	var sec int64
	for _, c := range m[1] {
		sec = sec*10 + int64(c-'0')
	}
	return time.Unix(sec, 0)
}

// The form refuses what an alert cannot be, and nobody but its owner sees
// an alert.
func TestAlertFormRefusesBadDestinations(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		maya, jonas := w.signIn(t, "maya"), w.signIn(t, "jonas")
		csrf := sessionCSRFToken(t, w.testApp, maya)
		for name, c := range map[string]struct {
			form url.Values
			want string
		}{
			"plain http":     {url.Values{"url": {"http://hooks.example.com/x"}}, "https"},
			"loopback":       {url.Values{"url": {"https://127.0.0.1:8443/x"}}, "private"},
			"private name":   {url.Values{"url": {"https://hooks.internal/x"}}, "private"},
			"metadata":       {url.Values{"url": {"https://169.254.169.254/latest"}}, "private"},
			"credentials":    {url.Values{"url": {"https://me:pw@hooks.example.com/x"}}, "user name"},
			"no url":         {url.Values{"url": {""}}, "required"},
			"unknown kind":   {url.Values{"url": {"https://hooks.example.com/x"}, "destination": {"email"}}, "Slack"},
			"no such view":   {url.Values{"url": {"https://hooks.example.com/x"}, "view": {"999999"}}, "saved view"},
			"malformed view": {url.Values{"url": {"https://hooks.example.com/x"}, "view": {"x"}}, "saved views"},
		} {
			form := url.Values{"csrf": {csrf}, "view": {"attention"}, "destination": {"slack"}}
			for k, v := range c.form {
				form[k] = v
			}
			resp, page := w.submit(t, maya, "/alerts", form, nil)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(page, c.want) {
				t.Errorf("%s: %d, want a 4xx saying %q", name, resp.StatusCode, c.want)
			}
		}
		a, err := s.CreateAlert(context.Background(), viewerOf(t, s, "maya"), app.NewAlert{Destination: app.DestinationSlack, URL: "https://hooks.example.com/x"})
		mustDo(t, err)
		path := "/alerts/" + itoa(a.ID)
		if resp, _ := w.get(t, jonas, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another's alert: %d, want 404", resp.StatusCode)
		}
		resp, _ := w.submit(t, jonas, path+"/delete", url.Values{"csrf": {sessionCSRFToken(t, w.testApp, jonas)}}, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("deleting another's alert: %d, want 404", resp.StatusCode)
		}
		// A second test while one is on its way is refused (no worker runs
		// here, so the first stays on its way).
		resp, _ = w.submit(t, maya, path+"/test", url.Values{"csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a first test: %d", resp.StatusCode)
		}
		if resp, page := w.submit(t, maya, path+"/test", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != http.StatusConflict || !strings.Contains(page, "already on its way") {
			t.Errorf("a second test: %d, want 409 saying one is on its way", resp.StatusCode)
		}
	})
}

// A certificate file for alerts that cannot be used stops the boot rather
// than every alert later.
func TestAWebhookCAFileThatCannotBeUsedStopsTheBoot(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "missing.pem"), notPEM} {
		cfg := config.Config{Command: config.CommandServe, Addr: "127.0.0.1:0", DataDir: t.TempDir(),
			SessionKeys: []string{testSessionKey}, WebhookCAFile: path}
		if _, err := handlers.New(cfg, sqliteStore(t), slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil ||
			!strings.Contains(err.Error(), "AGENTDECK_WEBHOOK_CA_FILE") {
			t.Errorf("a CA file %s: %v, want the boot refused naming AGENTDECK_WEBHOOK_CA_FILE", filepath.Base(path), err)
		}
	}
}
