package handlers

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Sign-in requests (/auth/…) per client address: a burst, then one every
// few seconds. A person signing in needs two or three.
const (
	signInBurst = 20
	signInEvery = 3 * time.Second
)

// rateLimiter gives each client address a token bucket. Buckets of addresses
// not seen for a while are dropped, so the map stays small.
type rateLimiter struct {
	burst int
	every time.Duration

	mu        sync.Mutex
	clients   map[string]*clientBucket
	lastSweep time.Time
}

type clientBucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

func newRateLimiter(burst int, every time.Duration) *rateLimiter {
	return &rateLimiter{burst: burst, every: every, clients: map[string]*clientBucket{}}
}

// wait reports how long the client must wait before its next request is
// allowed; zero means now, and counts the request.
func (l *rateLimiter) wait(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		// A bucket that has been idle this long is full again; dropping it changes nothing.
		idle := l.every * time.Duration(l.burst)
		for k, b := range l.clients {
			if now.Sub(b.seen) > idle {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.clients[client]
	if !ok {
		b = &clientBucket{limiter: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.clients[client] = b
	}
	b.seen = now
	r := b.limiter.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay > 0 {
		r.CancelAt(now)
	}
	return delay
}

// limitSignIns answers 429 with Retry-After to a client that signs in too
// often. The client is the address Echo's IPExtractor names.
func (s *Server) limitSignIns(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if d := s.signIns.wait(c.RealIP(), time.Now()); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return app.Errorf(app.ERateLimited, "", "Too many sign-in attempts from your address. Try again in %d seconds.", secs)
		}
		return next(c)
	}
}
