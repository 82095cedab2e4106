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

// rateLimiter is the one rate limit of the server, whatever it counts by: a
// token bucket per key — a client address for sign-ins, an access token and
// its user for the API. Buckets not used for a while are dropped, so the
// map stays small.
type rateLimiter struct {
	burst int
	every time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

// newRateLimiter allows each key a burst of requests, then one every every.
func newRateLimiter(burst int, every time.Duration) *rateLimiter {
	return &rateLimiter{burst: max(1, burst), every: every, buckets: map[string]*bucket{}}
}

// wait reports how long the key must wait before its next request is
// allowed; zero means now, and counts the request.
func (l *rateLimiter) wait(key string, now time.Time) time.Duration {
	return waitAll(now, l.reserve(key, now))
}

// reserve takes a request from key's bucket, to be given back by waitAll
// when the request may not go.
func (l *rateLimiter) reserve(key string, now time.Time) *rate.Reservation {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		// A bucket that has been idle this long is full again; dropping it changes nothing.
		idle := l.every * time.Duration(l.burst)
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.limiter.ReserveN(now, 1)
}

// waitAll is how long a request counted against several buckets must wait:
// the longest wait of any. When it must wait, every bucket gets its request
// back, so that a refused request costs no allowance.
func waitAll(now time.Time, rs ...*rate.Reservation) time.Duration {
	var delay time.Duration
	for _, r := range rs {
		delay = max(delay, r.DelayFrom(now))
	}
	if delay > 0 {
		for _, r := range rs {
			r.CancelAt(now)
		}
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
