package alerts_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/alerts"
	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook's receiver: a real HTTPS server that keeps every
// request and answers with the status answer gives it, the nth (from 1) to
// its path; answer may hold the request.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(req *http.Request, n int) int
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(req *http.Request, n int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	if r.answer == nil {
		r.answer = func(*http.Request, int) int { return http.StatusOK }
	}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{path: req.URL.Path, header: req.Header.Clone(), body: body})
		n := 0
		for _, g := range r.got {
			if g.path == req.URL.Path {
				n++
			}
		}
		r.mu.Unlock()
		w.WriteHeader(r.answer(req, n))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// requests returns what arrived so far.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// roots trusts the receiver's certificate.
func (r *receiver) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(r.srv.Certificate())
	return pool
}

// fixture is a small company on a store: alice and bob in team red, carol
// alone; bob watches Needs attention through a signed webhook.
type fixture struct {
	s                 *app.Store
	alice, bob, carol app.Viewer
	red               *app.Team
	recv              *receiver
	alert             *app.Alert
}

func newFixture(t *testing.T, s *app.Store, recv *receiver) *fixture {
	t.Helper()
	ctx := context.Background()
	s.SetPrivateDestinations(true)
	fx := &fixture{s: s, recv: recv}
	for _, h := range []string{"alice", "bob", "carol"} {
		mustOK(t, s.CreateUser(ctx, &app.User{Handle: h, Name: h}))
	}
	fx.red = &app.Team{Slug: "red", Name: "Red"}
	mustOK(t, s.CreateTeam(ctx, fx.red, fx.viewer(t, "alice").User.ID))
	mustOK(t, s.AddMember(ctx, fx.red.ID, fx.viewer(t, "bob").User.ID, app.RoleMember))
	fx.alice, fx.bob, fx.carol = fx.viewer(t, "alice"), fx.viewer(t, "bob"), fx.viewer(t, "carol")
	var err error
	fx.alert, err = s.CreateAlert(ctx, fx.bob, app.NewAlert{Destination: app.DestinationWebhook, URL: recv.srv.URL + "/hook"})
	mustOK(t, err)
	return fx
}

func (fx *fixture) viewer(t *testing.T, handle string) app.Viewer {
	t.Helper()
	u, err := fx.s.UserByHandle(context.Background(), handle)
	mustOK(t, err)
	v, err := fx.s.Viewer(context.Background(), u.ID)
	mustOK(t, err)
	return v
}

// run creates a working run of alice's, shared with red.
func (fx *fixture) run(t *testing.T, s *app.Store, title string) *app.Item {
	t.Helper()
	it, _, err := s.CreateRun(context.Background(), fx.alice, app.NewRun{Kind: app.KindAmbient, Title: title, Team: "red", Visibility: app.VisibilityTeam})
	mustOK(t, err)
	return it
}

func setStatus(t *testing.T, s *app.Store, id string, st app.Status) {
	t.Helper()
	mustOK(t, apptest.SetStatus(context.Background(), s, id, st))
}

// options are a worker's for the receiver, with quick retries.
func options(r *receiver) alerts.Options {
	return alerts.Options{BaseURL: "https://deck.example.com", RootCAs: r.roots(), FirstRetry: 20 * time.Millisecond,
		MaxPause: 100 * time.Millisecond, Poll: 50 * time.Millisecond, Lease: 300 * time.Millisecond}
}

// start runs a worker until the test ends or stop is called, which waits
// for it to return.
func start(t *testing.T, s *app.Store, o alerts.Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		alerts.New(s, o).Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, within ten seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited ten seconds for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deliveries lists the states of an alert's deliveries, oldest first.
func deliveries(t *testing.T, s *app.Store, v app.Viewer, a *app.Alert) []*app.Delivery {
	t.Helper()
	ds, err := s.AlertDeliveries(context.Background(), v, a)
	mustOK(t, err)
	slices.Reverse(ds)
	return ds
}

// settled waits until an alert has n deliveries, none still pending, and
// returns them.
func settled(t *testing.T, s *app.Store, v app.Viewer, a *app.Alert, n int) []*app.Delivery {
	t.Helper()
	var ds []*app.Delivery
	defer func() {
		if t.Failed() {
			for _, d := range ds {
				t.Logf("delivery %+v", *d)
			}
		}
	}()
	eventually(t, fmt.Sprintf("%d settled deliveries", n), func() bool {
		ds = deliveries(t, s, v, a)
		return len(ds) == n && !slices.ContainsFunc(ds, func(d *app.Delivery) bool { return d.State == app.DeliveryPending })
	})
	return ds
}

// hmacSHA256 is HMAC (RFC 2104) over SHA-256 written out from its
// definition, independently of crypto/hmac, which the server uses.
func hmacSHA256(key, msg []byte) []byte {
	const block = 64
	if len(key) > block {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	padded := make([]byte, block)
	copy(padded, key)
	inner, outer := make([]byte, block), make([]byte, block)
	for i, b := range padded {
		inner[i], outer[i] = b^0x36, b^0x5c
	}
	ih := sha256.Sum256(append(inner, msg...))
	oh := sha256.Sum256(append(outer, ih[:]...))
	return oh[:]
}

// verify is a receiver's check, as the README describes it: read t and v1
// from the signature header, recompute the HMAC of "t.body" with the
// secret, compare in constant time, and refuse a time more than five
// minutes off.
func verify(header string, body []byte, secret string, now time.Time) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("no time in %q", header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("signed %v from now", d)
	}
	want := hex.EncodeToString(hmacSHA256([]byte(secret), append([]byte(ts+"."), body...)))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return fmt.Errorf("signature %q, want %q", sig, want)
	}
	return nil
}

func TestTheSignatureIsHMACSHA256OfTimeAndBody(t *testing.T) {
	at := time.Unix(1_790_000_000, 0)
	body := []byte(`{"id":1,"event":"test"}`)
	// RFC 4231's first test case checks the independent HMAC itself.
	key := []byte(strings.Repeat("\x0b", 20))
	if got := hex.EncodeToString(hmacSHA256(key, []byte("Hi There"))); got != "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" {
		t.Fatalf("the test's HMAC is wrong: %s", got)
	}
	for _, secret := range []string{"whsec_short", "whsec_" + strings.Repeat("k", 80)} {
		sig := alerts.Sign(secret, at, body)
		if err := verify(sig, body, secret, at.Add(time.Minute)); err != nil {
			t.Errorf("secret of %d bytes: %v", len(secret), err)
		}
		if err := verify(sig, append(body, ' '), secret, at); err == nil {
			t.Errorf("a changed body verifies")
		}
		if err := verify(sig, body, secret+"x", at); err == nil {
			t.Errorf("another secret verifies")
		}
		if err := verify(sig, body, secret, at.Add(6*time.Minute)); err == nil {
			t.Errorf("a signature six minutes old verifies")
		}
	}
}

// An alert fires once for each change that takes an item into its view,
// never for an item already in it, nor for one its owner may not see; the
// webhook's request is signed and says what happened.
func TestAnAlertFiresOncePerChangeIntoItsView(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		recv := newReceiver(t, nil)
		fx := newFixture(t, s, recv)
		ctx := context.Background()
		// A saved view of carol's own slack runs, watched through Slack.
		sv, err := s.SaveView(ctx, fx.carol, app.NewSavedView{Name: "Slack runs", Query: "source=slack"})
		mustOK(t, err)
		slack, err := s.CreateAlert(ctx, fx.carol, app.NewAlert{ViewID: sv.ID, Destination: app.DestinationSlack, URL: recv.srv.URL + "/slack"})
		mustOK(t, err)
		start(t, s, options(recv))

		deploy := fx.run(t, s, "deploy <prod>")
		setStatus(t, s, deploy.ID, app.StatusFailed)
		// Carol's private run fails: bob may not see it.
		mine, _, err := s.CreateRun(ctx, fx.carol, app.NewRun{Kind: app.KindAmbient, Source: app.SourceCLI, Title: "carol's"})
		mustOK(t, err)
		setStatus(t, s, mine.ID, app.StatusFailed)
		// A chat that blocks, goes on and blocks again: two changes in.
		chat, _, err := s.CreateRun(ctx, fx.alice, app.NewRun{Kind: app.KindInteractive, Title: "chat", Team: "red", Visibility: app.VisibilityTeam})
		mustOK(t, err)
		setStatus(t, s, chat.ID, app.StatusBlocked)
		ds := settled(t, s, fx.bob, fx.alert, 2)
		setStatus(t, s, chat.ID, app.StatusWorking)
		setStatus(t, s, chat.ID, app.StatusBlocked)
		// A credits change of a failed run takes it nowhere new.
		credits := app.Credits(2_500_000)
		_, err = s.UpdateRun(ctx, fx.alice, deploy.ID, app.RunChange{Inference: &credits})
		mustOK(t, err)
		// A slack run of carol's is new in her view; it later fails, but
		// was in it already.
		slackRun, _, err := s.CreateRun(ctx, fx.carol, app.NewRun{Kind: app.KindAmbient, Source: app.SourceSlack, Title: "from slack"})
		mustOK(t, err)
		setStatus(t, s, slackRun.ID, app.StatusFailed)

		ds = settled(t, s, fx.bob, fx.alert, 3)
		var got []string
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%s %s->%s %s", d.Item.Title, d.From, d.To, d.State))
		}
		want := []string{"deploy <prod> working->failed sent", "chat working->blocked sent", "chat working->blocked sent"}
		if !slices.Equal(got, want) {
			t.Errorf("bob's deliveries:\n got  %q\n want %q", got, want)
		}
		cs := settled(t, s, fx.carol, slack, 1)
		if cs[0].Item == nil || cs[0].Item.Title != "from slack" || cs[0].From != "" {
			t.Errorf("carol's Slack delivery: %+v, want the new slack run", cs[0])
		}

		var hooks, slacks []received
		for _, r := range recv.requests() {
			if r.header.Get(alerts.SignatureHeader) != "" {
				hooks = append(hooks, r)
			} else {
				slacks = append(slacks, r)
			}
		}
		if len(hooks) != 3 || len(slacks) != 1 {
			t.Fatalf("%d webhook and %d Slack requests, want 3 and 1", len(hooks), len(slacks))
		}
		for _, r := range hooks {
			if err := verify(r.header.Get(alerts.SignatureHeader), r.body, fx.alert.Secret, time.Now()); err != nil {
				t.Errorf("the webhook's signature does not verify: %v", err)
			}
		}
		// Deliveries go out side by side: find the deploy's.
		var p alerts.Payload
		var deployHook received
		for _, h := range hooks {
			mustOK(t, json.Unmarshal(h.body, &p))
			if p.Item != nil && p.Item.ID == deploy.ID {
				deployHook = h
				break
			}
		}
		if p.Event != alerts.EventEntered || p.Item == nil || p.Item.Title != "deploy <prod>" || p.Item.Status != app.StatusFailed ||
			p.Item.Creator != "alice" || p.Item.Team != "red" || p.Change == nil || p.Change.From != app.StatusWorking ||
			p.Item.URL != "https://deck.example.com/runs/"+deploy.ID || p.Alert.Watches != "Needs attention" || p.ID != ds[0].ID {
			t.Errorf("the webhook's payload: %s", deployHook.body)
		}
		if deployHook.header.Get(alerts.DeliveryHeader) != strconv.FormatInt(ds[0].ID, 10) {
			t.Errorf("the delivery header is %q, want %d", deployHook.header.Get(alerts.DeliveryHeader), ds[0].ID)
		}
		var msg struct {
			Text   string `json:"text"`
			Blocks []struct {
				Text struct{ Text string } `json:"text"`
			} `json:"blocks"`
		}
		mustOK(t, json.Unmarshal(slacks[0].body, &msg))
		if msg.Text != "New: from slack" || len(msg.Blocks) != 1 ||
			!strings.Contains(msg.Blocks[0].Text.Text, "|from slack>") || !strings.Contains(msg.Blocks[0].Text.Text, "|Slack runs>") {
			t.Errorf("the Slack message: %s", slacks[0].body)
		}
	})
}

// Slack's markup is escaped in what a run's title says.
func TestSlackMessagesEscapeTitles(t *testing.T) {
	s := apptest.SQLite(t)
	recv := newReceiver(t, nil)
	fx := newFixture(t, s, recv)
	ctx := context.Background()
	a, err := s.CreateAlert(ctx, fx.bob, app.NewAlert{Destination: app.DestinationSlack, URL: recv.srv.URL})
	mustOK(t, err)
	start(t, s, options(recv))
	run := fx.run(t, s, "a <!channel> & <https://evil.example|click>")
	setStatus(t, s, run.ID, app.StatusFailed)
	settled(t, s, fx.bob, a, 1)
	for _, r := range recv.requests() {
		if r.header.Get(alerts.SignatureHeader) == "" && strings.Contains(string(r.body), "<!channel>") {
			t.Errorf("the Slack message lets the title's markup through: %s", r.body)
		}
	}
}

// Replicas on one PostgreSQL send every alert exactly once between them.
func TestTwoReplicasDeliverEachAlertExactlyOnce(t *testing.T) {
	dsn := apptest.PostgresDSN(t)
	one, two := apptest.Open(t, dsn), apptest.Open(t, dsn)
	two.SetPrivateDestinations(true)
	recv := newReceiver(t, nil)
	fx := newFixture(t, one, recv)
	start(t, one, options(recv))
	start(t, two, options(recv))
	const runs = 40
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []*app.Store{one, two}[i%2]
			it := fx.run(t, s, fmt.Sprintf("run %02d", i))
			setStatus(t, s, it.ID, app.StatusFailed)
		}()
	}
	wg.Wait()
	ds := settled(t, one, fx.bob, fx.alert, runs)
	// Both workers keep looking a little longer: nothing more may arrive.
	for range 3 {
		mustOK(t, func() error { _, err := one.QueueAlerts(context.Background()); return err }())
	}
	got := map[string]int{}
	for _, r := range recv.requests() {
		got[r.header.Get(alerts.DeliveryHeader)]++
	}
	if len(got) != runs {
		t.Errorf("%d distinct deliveries arrived, want %d", len(got), runs)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
	for _, d := range ds {
		if d.State != app.DeliverySent || d.Attempts != 1 {
			t.Errorf("delivery %d: %s after %d attempts, want sent after 1", d.ID, d.State, d.Attempts)
		}
	}
}

// A change committed while no server runs, or queued but not yet sent when
// the server stops, is delivered once when a server starts again.
func TestTheOutboxSurvivesARestart(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "restart.db") },
		"postgres": func(t *testing.T) string { return apptest.PostgresDSN(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			for _, queued := range []bool{false, true} {
				t.Run(map[bool]string{false: "stopped after the commit", true: "stopped after queueing"}[queued], func(t *testing.T) {
					dsn := dsns[name](t)
					recv := newReceiver(t, nil)
					before := apptest.Open(t, dsn)
					fx := newFixture(t, before, recv)
					it := fx.run(t, before, "deploy")
					setStatus(t, before, it.ID, app.StatusFailed)
					if queued {
						n, err := before.QueueAlerts(context.Background())
						mustOK(t, err)
						if n == 0 {
							t.Fatal("nothing was queued")
						}
					}
					mustOK(t, before.Close())
					if n := len(recv.requests()); n != 0 {
						t.Fatalf("%d requests before the restart", n)
					}

					after := apptest.Open(t, dsn)
					after.SetPrivateDestinations(true)
					start(t, after, options(recv))
					ds := settled(t, after, fx.bob, fx.alert, 1)
					if ds[0].State != app.DeliverySent || ds[0].Item == nil || ds[0].Item.ID != it.ID {
						t.Errorf("after the restart: %+v", ds[0])
					}
					mustOK(t, func() error { _, err := after.QueueAlerts(context.Background()); return err }())
					if n := len(recv.requests()); n != 1 {
						t.Errorf("%d requests after the restart, want 1", n)
					}
				})
			}
		})
	}
}

// A worker stopped in the middle of a request leaves the delivery to the
// next, which sends it under the same delivery id.
func TestAWorkerStoppedMidRequestLeavesTheDeliveryToAnother(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		hold := make(chan struct{})
		arrived := make(chan struct{}, 1)
		recv := newReceiver(t, func(req *http.Request, n int) int {
			if n == 1 {
				arrived <- struct{}{}
				select {
				case <-hold:
				case <-req.Context().Done():
				}
			}
			return http.StatusOK
		})
		fx := newFixture(t, s, recv)
		stop := start(t, s, options(recv))
		it := fx.run(t, s, "deploy")
		setStatus(t, s, it.ID, app.StatusFailed)
		<-arrived
		stop()
		close(hold)
		start(t, s, options(recv))
		ds := settled(t, s, fx.bob, fx.alert, 1)
		reqs := recv.requests()
		if ds[0].State != app.DeliverySent || len(reqs) != 2 ||
			reqs[0].header.Get(alerts.DeliveryHeader) != reqs[1].header.Get(alerts.DeliveryHeader) {
			t.Errorf("delivery %+v after %d requests", ds[0], len(reqs))
		}
	})
}

// Failures are retried with growing pauses up to the last attempt; a
// refusal (4xx) is not retried; a receiver that recovers gets it.
func TestFailedDeliveriesAreRetriedABoundedNumberOfTimes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		recv := newReceiver(t, func(req *http.Request, n int) int {
			switch req.URL.Path {
			case "/down":
				return http.StatusServiceUnavailable
			case "/gone":
				return http.StatusGone
			}
			if n <= 2 { // flaky: down twice, then up
				return http.StatusBadGateway
			}
			return http.StatusOK
		})
		fx := newFixture(t, s, recv)
		ctx := context.Background()
		made := map[string]*app.Alert{}
		for _, path := range []string{"down", "gone"} {
			a, err := s.CreateAlert(ctx, fx.carol, app.NewAlert{Destination: app.DestinationWebhook, URL: recv.srv.URL + "/" + path})
			mustOK(t, err)
			made[path] = a
		}
		mustOK(t, s.DeleteAlert(ctx, fx.bob, fx.alert.ID))
		flaky, err := s.CreateAlert(ctx, fx.bob, app.NewAlert{Destination: app.DestinationWebhook, URL: recv.srv.URL + "/flaky"})
		mustOK(t, err)
		o := options(recv)
		o.MaxAttempts = 3
		start(t, s, o)
		run, _, err := s.CreateRun(ctx, fx.carol, app.NewRun{Kind: app.KindAmbient, Title: "nightly"})
		mustOK(t, err)
		setStatus(t, s, run.ID, app.StatusFailed)
		shared := fx.run(t, s, "shared")
		setStatus(t, s, shared.ID, app.StatusFailed)

		// carol's alerts: her run failing, and alice's shared run is not hers.
		down := settled(t, s, fx.carol, made["down"], 1)[0]
		if down.State != app.DeliveryFailed || down.Attempts != 3 || !strings.Contains(down.Outcome, "gave up after 3 attempts") {
			t.Errorf("a receiver that stays down: %s after %d attempts (%q), want failed after 3", down.State, down.Attempts, down.Outcome)
		}
		gone := settled(t, s, fx.carol, made["gone"], 1)[0]
		if gone.State != app.DeliveryFailed || gone.Attempts != 1 || !strings.Contains(gone.Outcome, "410") {
			t.Errorf("a receiver that refuses: %s after %d attempts (%q), want failed after 1", gone.State, gone.Attempts, gone.Outcome)
		}
		up := settled(t, s, fx.bob, flaky, 1)[0]
		if up.State != app.DeliverySent || up.Attempts != 3 {
			t.Errorf("a receiver that recovers: %s after %d attempts (%q), want sent on the third", up.State, up.Attempts, up.Outcome)
		}
	})
}

// Whether the owner may see the run, and whether the address is public, is
// decided when the alert is sent, not when it was queued.
func TestVisibilityAndAddressesAreCheckedAtSendTime(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		recv := newReceiver(t, nil)
		fx := newFixture(t, s, recv)
		ctx := context.Background()
		it := fx.run(t, s, "deploy")
		setStatus(t, s, it.ID, app.StatusFailed)
		_, err := s.QueueAlerts(ctx)
		mustOK(t, err)
		// Bob leaves red before the alert goes out.
		mustOK(t, s.RemoveMember(ctx, fx.bob, fx.red.ID, fx.bob.User.ID))
		start(t, s, options(recv))
		d := settled(t, s, fx.viewer(t, "bob"), fx.alert, 1)[0]
		if d.State != app.DeliverySkipped || d.Item != nil {
			t.Errorf("an alert about a run bob may no longer see: %s %q", d.State, d.Outcome)
		}

		// A loopback address, allowed when the alert was made, is not
		// any more when it is sent.
		alice, err := s.CreateAlert(ctx, fx.alice, app.NewAlert{Destination: app.DestinationWebhook, URL: recv.srv.URL})
		mustOK(t, err)
		s.SetPrivateDestinations(false)
		other := fx.run(t, s, "another")
		setStatus(t, s, other.ID, app.StatusFailed)
		d = settled(t, s, fx.alice, alice, 1)[0]
		if d.State != app.DeliveryFailed || !strings.Contains(d.Outcome, "private") {
			t.Errorf("an alert to a loopback address: %s %q, want failed as private", d.State, d.Outcome)
		}
		if n := len(recv.requests()); n != 0 {
			t.Errorf("%d requests reached the receiver", n)
		}
	})
}

// dnsServer answers every A query with 127.0.0.1 and every other with no
// address: a name that looks public and resolves to loopback, as a
// rebinding attacker's does when the alert is sent.
func dnsServer(t *testing.T) *net.Resolver {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	mustOK(t, err)
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			end := 12
			for end < n && q[end] != 0 {
				end += int(q[end]) + 1
			}
			if end+5 > n {
				continue
			}
			question := q[12 : end+5]
			isA := question[len(question)-4] == 0 && question[len(question)-3] == 1
			answers := byte(0)
			if isA {
				answers = 1
			}
			resp := append([]byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, answers, 0, 0, 0, 0}, question...)
			if isA {
				resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
			}
			conn.WriteTo(resp, from)
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", conn.LocalAddr().String())
	}}
}

// A destination whose name looked public when the alert was made, and
// resolves to a loopback address when it is sent, is refused as it is
// dialled; allowed private addresses, the same name is called.
func TestANameThatResolvesToAPrivateAddressIsRefusedWhenDialled(t *testing.T) {
	s := apptest.SQLite(t)
	recv := newReceiver(t, nil)
	fx := newFixture(t, s, recv)
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(recv.srv.Listener.Addr().String())
	// httptest's certificate names example.com.
	s.SetPrivateDestinations(false)
	a, err := s.CreateAlert(ctx, fx.alice, app.NewAlert{Destination: app.DestinationWebhook, URL: "https://example.com:" + port + "/hook"})
	mustOK(t, err)
	mustOK(t, s.DeleteAlert(ctx, fx.bob, fx.alert.ID))
	o := options(recv)
	o.Resolver = dnsServer(t)
	start(t, s, o)
	first := fx.run(t, s, "first")
	setStatus(t, s, first.ID, app.StatusFailed)
	d := settled(t, s, fx.alice, a, 1)[0]
	if d.State != app.DeliveryFailed || !strings.Contains(d.Outcome, "private") || len(recv.requests()) != 0 {
		t.Fatalf("a name resolving to loopback: %s %q, %d requests; want failed as private, none", d.State, d.Outcome, len(recv.requests()))
	}
	s.SetPrivateDestinations(true)
	second := fx.run(t, s, "second")
	setStatus(t, s, second.ID, app.StatusFailed)
	ds := settled(t, s, fx.alice, a, 2)
	if ds[1].State != app.DeliverySent || len(recv.requests()) != 1 {
		t.Errorf("with private addresses allowed: %s %q, %d requests; want sent, one", ds[1].State, ds[1].Outcome, len(recv.requests()))
	}
}
