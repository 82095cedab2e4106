package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Reconnection backoff of the listener connection.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// postgresHub spreads hints across every replica on one PostgreSQL database:
// Publish sends a NOTIFY per throttled hint (coalesceWindow), and one
// dedicated listener connection per process, open while anyone subscribes,
// hands what it hears to the process's subscribers. A replica's own hints
// come back to it through the same path.
type postgresHub struct {
	db                          *bun.DB
	dsn                         string
	schema                      string
	itemsChannel, eventsChannel string
	sessionsChannel             string
	identityChannel             string
	fan                         fanout
	co                          *coalescer
	// connected is true while the listener connection listens: only then
	// does this process hear every replica's hints.
	connected atomic.Bool

	mu       sync.Mutex // guards listener and closed
	listener *listener
	closed   bool
}

// listener is the running listener goroutine.
type listener struct {
	stop context.CancelFunc
	done chan struct{}
}

// newPostgresHub names its channels after the schema, so that stores in
// different schemas of one database (as the tests use) do not hear each
// other; a hash keeps the name within PostgreSQL's 63 bytes.
// Every hint goes to observe (which may be nil) before any subscriber.
func newPostgresHub(db *bun.DB, dsn, schema string, observe func([]Hint)) *postgresHub {
	sum := sha256.Sum256([]byte(schema))
	suffix := hex.EncodeToString(sum[:6])
	h := &postgresHub{db: db, dsn: dsn, schema: schema, itemsChannel: "agentdeck_items_" + suffix, eventsChannel: "agentdeck_events_" + suffix,
		sessionsChannel: "agentdeck_sessions_" + suffix, identityChannel: "agentdeck_identity_" + suffix, fan: fanout{observe: observe}}
	h.co = newCoalescer(coalesceLead, coalesceWindow, h.notify)
	return h
}

func (h *postgresHub) Publish(hints ...Hint) { h.co.add(hints...) }

// hearsAll reports whether the listener listens, so that every replica's
// hints reach this process.
func (h *postgresHub) hearsAll() bool { return h.connected.Load() }

// notify sends the hints, one notification each, in one statement, so that
// every replica hears them in the order they were published. A failure loses
// only hints; it is logged.
func (h *postgresHub) notify(hints []Hint) {
	channels := make([]string, 0, len(hints))
	payloads := make([]string, 0, len(hints))
	for _, hint := range hints {
		channel, payload := h.itemsChannel, hint.ItemID
		switch {
		case hint.SessionEnded != "":
			channel, payload = h.sessionsChannel, hint.SessionEnded
		case hint.SessionChanged != "":
			channel, payload = h.identityChannel, "s:"+hint.SessionChanged
		case hint.UserChanged != 0:
			channel, payload = h.identityChannel, "u:"+strconv.FormatInt(hint.UserChanged, 10)
		case hint.TeamChanged != 0:
			channel, payload = h.identityChannel, "t:"+strconv.FormatInt(hint.TeamChanged, 10)
		case hint.SavedViewsChanged:
			channel, payload = h.identityChannel, "v:"
		case hint.Events:
			channel = h.eventsChannel
		}
		channels, payloads = append(channels, channel), append(payloads, payload)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A transaction's notifications arrive in the order it sent them.
	_, err := h.db.ExecContext(ctx, "SELECT pg_notify(channel, payload) FROM unnest(?::text[], ?::text[]) AS hint(channel, payload)",
		pgdialect.Array(channels), pgdialect.Array(payloads))
	if err != nil {
		slog.Warn("app: notify changes", "hints", len(hints), "err", err)
	}
}

func (h *postgresHub) Subscribe(ctx context.Context, buffer int) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrHubClosed
	}
	if h.listener == nil {
		// Listen before returning, so that no hint published after Subscribe
		// returns can be missed.
		conn, err := h.connect(ctx)
		if err != nil {
			return nil, err
		}
		lctx, stop := context.WithCancel(context.Background())
		l := &listener{stop: stop, done: make(chan struct{})}
		h.connected.Store(true)
		go h.listen(lctx, conn, l.done)
		h.listener = l
	}
	return h.fan.add(buffer, h.unsubscribe)
}

// unsubscribe ends s; the last subscriber out closes the listener. The
// store's cache subscribes for as long as the store is open, so that is at
// its close.
func (h *postgresHub) unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fan.remove(s) == 0 && h.listener != nil {
		h.stopListener()
	}
}

// stopListener stops the listener goroutine and waits for it; h.mu is held.
func (h *postgresHub) stopListener() {
	h.listener.stop()
	<-h.listener.done
	h.listener = nil
	h.connected.Store(false)
}

func (h *postgresHub) Close() error {
	h.co.close()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.listener != nil {
		h.stopListener()
	}
	h.fan.closeAll()
	return nil
}

// connect opens the listener connection and listens on every channel.
func (h *postgresHub) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(h.dsn)
	if err != nil {
		return nil, fmt.Errorf("app: listen for changes: %w", err)
	}
	// Name the connection so that an operator can tell it apart.
	cfg.RuntimeParams["application_name"] = listenerName(h.schema)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("app: listen for changes: %w", err)
	}
	var sql strings.Builder
	for _, channel := range []string{h.itemsChannel, h.eventsChannel, h.sessionsChannel, h.identityChannel} {
		sql.WriteString("LISTEN " + pgx.Identifier{channel}.Sanitize() + ";")
	}
	if _, err := conn.Exec(ctx, sql.String()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("app: listen for changes: %w", err)
	}
	return conn, nil
}

// listen hands every notification to the subscribers until ctx ends. When the
// connection breaks it reconnects with backoff and then asks every subscriber
// to re-sync, since notifications sent meanwhile are lost.
func (h *postgresHub) listen(ctx context.Context, conn *pgx.Conn, done chan<- struct{}) {
	defer close(done)
	for {
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				break
			}
			if hint, ok := h.hintOf(n.Channel, n.Payload); ok {
				h.fan.deliver([]Hint{hint})
			}
		}
		// Until it listens again, hints are lost: nothing kept in memory
		// can be trusted.
		h.connected.Store(false)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(closeCtx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if conn = h.reconnect(ctx); conn == nil {
			return
		}
		h.connected.Store(true)
		h.fan.deliver([]Hint{{}})
	}
}

// reconnect retries with growing pauses until it listens again, or returns
// nil once ctx ends.
func (h *postgresHub) reconnect(ctx context.Context) *pgx.Conn {
	backoff := listenBackoffMin
	timer := time.NewTimer(backoff)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		conn, err := h.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		slog.Warn("app: reconnect the change listener", "retry_in", backoff, "err", err)
		backoff = min(backoff*2, listenBackoffMax)
		timer.Reset(backoff)
	}
}

// listenerName is the application_name of the listener connection of a
// schema's stores, within PostgreSQL's 63 bytes.
func listenerName(schema string) string {
	name := "agentdeck listen " + schema
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

// hintOf reads a notification; an empty item payload asks for a re-sync.
func (h *postgresHub) hintOf(channel, payload string) (Hint, bool) {
	switch channel {
	case h.itemsChannel:
		return Hint{ItemID: payload}, true
	case h.eventsChannel:
		return Hint{ItemID: payload, Events: true}, payload != ""
	case h.sessionsChannel:
		return Hint{SessionEnded: payload}, payload != ""
	case h.identityChannel:
		return identityHint(payload)
	}
	return Hint{}, false
}

// identityHint reads an identity notification: "s:" and a session's key,
// "u:" or "t:" and a user's or a team's id, or "v:" alone for saved views.
func identityHint(payload string) (Hint, bool) {
	kind, name, ok := strings.Cut(payload, ":")
	if kind == "v" && ok {
		return Hint{SavedViewsChanged: true}, true
	}
	if !ok || name == "" {
		return Hint{}, false
	}
	if kind == "s" {
		return Hint{SessionChanged: name}, true
	}
	id, err := strconv.ParseInt(name, 10, 64)
	if err != nil || id == 0 {
		return Hint{}, false
	}
	switch kind {
	case "u":
		return Hint{UserChanged: id}, true
	case "t":
		return Hint{TeamChanged: id}, true
	}
	return Hint{}, false
}
