// Package alerts sends the alerts app queues: to Slack incoming webhooks,
// and to webhooks of one's own as signed JSON. A Worker in every replica
// reads the store's log of status changes into deliveries (app.QueueAlerts)
// and sends the deliveries that are due, each claimed by one worker at a
// time, retrying failures with growing pauses for a bounded number of
// attempts. Every request is checked as it is made: the destination must be
// https, and every address its name resolves to public, unless private
// destinations are allowed.
package alerts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

// Options tune a Worker; the zero value of each field keeps its default.
type Options struct {
	// BaseURL is the server's public address, for the links alerts carry.
	BaseURL string
	// RootCAs are the certificates a destination's may chain to; nil
	// trusts the system's.
	RootCAs *x509.CertPool
	// Resolver looks destinations' names up; nil uses the system's.
	Resolver *net.Resolver
	Log      *slog.Logger
	// FirstRetry is the pause after a first failed attempt (10s); each
	// next pause is three times longer, up to MaxPause (30m).
	FirstRetry, MaxPause time.Duration
	// MaxAttempts bounds the attempts at one delivery (8: about an hour
	// and a half of retries with the default pauses).
	MaxAttempts int
	// Timeout bounds one request (10s); Lease the time a claimed delivery
	// is left to its worker before another may try it (1m).
	Timeout, Lease time.Duration
	// Poll is how often the worker looks for work when nothing wakes it
	// (5s): the store's hints wake it at once, this covers any it missed.
	Poll time.Duration
}

func (o Options) withDefaults() Options {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&o.FirstRetry, 10*time.Second)
	set(&o.MaxPause, 30*time.Minute)
	set(&o.Timeout, 10*time.Second)
	set(&o.Lease, time.Minute)
	set(&o.Poll, 5*time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return o
}

// Worker queues and sends a store's alerts.
type Worker struct {
	store  *app.Store
	opts   Options
	client *http.Client
	wake   chan struct{}
}

// New makes a worker for a store; Run runs it.
func New(store *app.Store, o Options) *Worker {
	w := &Worker{store: store, opts: o.withDefaults(), wake: make(chan struct{}, 1)}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Resolver: w.opts.Resolver, Control: w.checkAddress}
	w.client = &http.Client{
		Timeout: w.opts.Timeout,
		Transport: &http.Transport{
			// No proxy: the address dialled must be the destination's own,
			// for its check to mean anything.
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSClientConfig:     &tls.Config{RootCAs: w.opts.RootCAs, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     time.Minute,
		},
		// A redirect is an answer, not a new destination: it could lead
		// anywhere the check has not seen.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w
}

// errPrivateAddress refuses a connection to an address alerts may not call.
var errPrivateAddress = errors.New("the destination resolves to a private, loopback or link-local address")

// checkAddress runs as each connection is dialled, on the address the name
// resolved to: a name that resolves to a private address now, whatever it
// resolved to when the alert was made, is refused.
func (w *Worker) checkAddress(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("alerts: dial %q: not an address", address)
	}
	if !w.store.PrivateDestinations() && app.PrivateAddress(ip) {
		return errPrivateAddress
	}
	return nil
}

// Wake asks the worker to look for work now, as when a test was queued.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// concurrency is how many deliveries one worker sends at once, so that one
// slow receiver does not hold the others back.
const concurrency = 4

// pruneEvery and keepDeliveries bound the deliveries kept: those done more
// than a month ago are forgotten, looked for every hour.
const (
	pruneEvery     = time.Hour
	keepDeliveries = 30 * 24 * time.Hour
)

// Run queues and sends alerts until ctx ends: whenever the store announces
// a change, when woken, when the next retry is due, and every Poll.
func (w *Worker) Run(ctx context.Context) {
	var hints <-chan app.Hint
	var sub *app.Subscription
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastPrune := time.Time{}
	for {
		if sub == nil {
			var err error
			if sub, err = w.store.Hub().Subscribe(ctx, 256); err != nil {
				w.opts.Log.Warn("alerts: listen for changes", "err", err)
				sub = nil
			} else {
				hints = sub.C
			}
		}
		w.work(ctx)
		if time.Since(lastPrune) > pruneEvery {
			lastPrune = time.Now()
			if _, err := w.store.PruneDeliveries(ctx, w.store.Now().Add(-keepDeliveries)); err != nil && ctx.Err() == nil {
				w.opts.Log.Warn("alerts: prune deliveries", "err", err)
			}
		}
		timer.Reset(w.untilDue(ctx))
		select {
		case <-ctx.Done():
			return
		case _, ok := <-hints:
			if !ok {
				sub, hints = nil, nil // dropped for falling behind: listen again
			}
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// untilDue is how long to wait for the next delivery due, at most Poll.
func (w *Worker) untilDue(ctx context.Context) time.Duration {
	due, err := w.store.NextDeliveryDue(ctx)
	if err != nil || due.IsZero() {
		return w.opts.Poll
	}
	return min(max(due.Sub(w.store.Now()), 10*time.Millisecond), w.opts.Poll)
}

// work queues what the logged changes fire, then sends what is due, until
// there is nothing more of either.
func (w *Worker) work(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := w.store.QueueAlerts(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.opts.Log.Warn("alerts: queue", "err", err)
			}
			break
		}
		if n == 0 {
			break
		}
	}
	for ctx.Err() == nil {
		ds, err := w.store.ClaimDeliveries(ctx, 2*concurrency, w.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				w.opts.Log.Warn("alerts: claim deliveries", "err", err)
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		var wg sync.WaitGroup
		slots := make(chan struct{}, concurrency)
		for _, d := range ds {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				w.deliver(ctx, d)
			}()
		}
		wg.Wait()
	}
}

// deliver makes one attempt at a delivery and records how it went. A worker
// stopped mid-attempt records nothing: the delivery is tried again, by
// whichever worker comes first, once its lease has passed.
func (w *Worker) deliver(ctx context.Context, d *app.Delivery) {
	attempt := w.attempt(ctx, d)
	if ctx.Err() != nil {
		return
	}
	if err := w.store.FinishDelivery(context.WithoutCancel(ctx), d.ID, attempt); err != nil {
		w.opts.Log.Warn("alerts: record a delivery", "delivery", d.ID, "err", err)
	}
}

// attempt sends a delivery once and says how it went.
func (w *Worker) attempt(ctx context.Context, d *app.Delivery) app.Attempt {
	out, err := w.store.Outgoing(ctx, d)
	switch {
	case errors.Is(err, app.ErrNotForOwner):
		return app.Attempt{State: app.DeliverySkipped, Outcome: "Not sent: its owner may no longer see this run or view."}
	case errors.Is(err, app.ErrNotFound):
		return app.Attempt{State: app.DeliverySkipped, Outcome: "Not sent: the run is gone."}
	case err != nil:
		return w.retry(d, "could not read the alert: internal error")
	}
	status, err := w.send(ctx, out)
	switch {
	case err == nil && status >= 200 && status < 300:
		return app.Attempt{State: app.DeliverySent, Outcome: fmt.Sprintf("HTTP %d", status)}
	case errors.Is(err, errPrivateAddress), errors.Is(err, errRefusedDestination):
		return app.Attempt{State: app.DeliveryFailed, Outcome: "Not sent: " + err.Error() + "."}
	case err != nil:
		return w.retry(d, describe(err))
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return w.retry(d, fmt.Sprintf("HTTP %d", status))
	}
	return app.Attempt{State: app.DeliveryFailed, Outcome: fmt.Sprintf("HTTP %d: the receiver refused it", status)}
}

// retry schedules the next attempt after a failed one, three times later
// than the one before, or gives up after the last.
func (w *Worker) retry(d *app.Delivery, why string) app.Attempt {
	if d.Attempts >= w.opts.MaxAttempts {
		return app.Attempt{State: app.DeliveryFailed, Outcome: fmt.Sprintf("%s; gave up after %d attempts", why, d.Attempts)}
	}
	pause := w.opts.FirstRetry
	for range d.Attempts - 1 {
		if pause *= 3; pause >= w.opts.MaxPause {
			pause = w.opts.MaxPause
			break
		}
	}
	return app.Attempt{State: app.DeliveryPending, Outcome: why + "; trying again", RetryAt: w.store.Now().Add(pause)}
}

// describe says in a few words why a request failed, without its URL, which
// for Slack is a secret.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "the destination's name does not resolve"
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return "the destination's certificate is not trusted"
	}
	return "could not connect"
}

// errRefusedDestination refuses a destination that breaks the rules as they
// stand when it is called.
var errRefusedDestination = errors.New("the destination is not an https URL alerts may call")

// maxAnswer is how much of a receiver's answer is read: enough to reuse the
// connection, never a flood.
const maxAnswer = 64 << 10

// send makes the request of a delivery and returns the receiver's status.
func (w *Worker) send(ctx context.Context, o app.Outgoing) (int, error) {
	dest, err := app.CheckDestination(o.Alert.URL, w.store.PrivateDestinations())
	if err != nil {
		if _, public := app.CheckDestination(o.Alert.URL, true); public == nil {
			return 0, errPrivateAddress
		}
		return 0, errRefusedDestination
	}
	var body []byte
	if o.Alert.Destination == app.DestinationSlack {
		body, err = slackBody(o, w.opts.BaseURL)
	} else {
		body, err = webhookBody(o, w.opts.BaseURL)
	}
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, strings.NewReader(string(body)))
	if err != nil {
		return 0, errRefusedDestination
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "agentdeck-alerts")
	if o.Alert.Destination == app.DestinationWebhook {
		event := EventEntered
		if o.Item == nil {
			event = EventTest
		}
		req.Header.Set(EventHeader, event)
		req.Header.Set(DeliveryHeader, fmt.Sprint(o.Delivery.ID))
		req.Header.Set(SignatureHeader, Sign(o.Alert.Secret, time.Now(), body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return 0, errPrivateAddress
		}
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	return resp.StatusCode, nil
}
