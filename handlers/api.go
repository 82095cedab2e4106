package handlers

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentdeck/agentdeck/app"
	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
)

// maxAPIBody bounds every API request body.
const maxAPIBody = 1 << 20

// Context key of the token a request authenticated with.
const ctxToken = "token"

// apiAuth lets through only requests with a valid personal access token in
// "Authorization: Bearer …" and hands the token's user to the handler as the
// viewer. Session cookies mean nothing here, which is also why the API needs
// no CSRF check: a browser never sends the token by itself.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		if h == "" {
			return app.Errorf(app.EUnauthorized, "Authorization", "missing token: send Authorization: Bearer <personal access token>")
		}
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return app.Errorf(app.EUnauthorized, "Authorization", "malformed token: the Authorization header must read Bearer <token>")
		}
		v, tok, err := s.store.Authenticate(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			return err
		}
		c.Set(ctxViewer, v)
		c.Set(ctxToken, tok)
		return next(c)
	}
}

// tokenLimiter is the API's rate limit: perSecond requests for each access
// token (bursts of twice that), and twice that for all of one user's
// tokens together, so that minting tokens does not multiply what one person
// may send, while one runaway script still leaves its user's other tokens
// half the allowance.
type tokenLimiter struct {
	perToken, perUser *rateLimiter
}

// perUserTokens is how many tokens' worth of requests one user may send.
const perUserTokens = 2

func newTokenLimiter(perSecond float64) *tokenLimiter {
	every := time.Duration(float64(time.Second) / perSecond)
	burst := max(1, int(2*perSecond))
	return &tokenLimiter{
		perToken: newRateLimiter(burst, every),
		perUser:  newRateLimiter(perUserTokens*burst, every/perUserTokens),
	}
}

// wait reports how long the token must wait before its next request; zero
// means it may go now (and the request is counted against the token and
// its user).
func (l *tokenLimiter) wait(tok *app.AccessToken, now time.Time) time.Duration {
	return waitAll(now, l.perToken.reserve(strconv.FormatInt(tok.ID, 10), now), l.perUser.reserve(strconv.FormatInt(tok.UserID, 10), now))
}

// apiRateLimit refuses a token's requests beyond its rate with 429 and a
// Retry-After header saying when to come back.
func (s *Server) apiRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := c.Get(ctxToken).(*app.AccessToken)
		if d := s.limiter.wait(tok, time.Now()); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return app.Errorf(app.ERateLimited, "", "too many requests with this token, or with all of its user's tokens; retry in %d s", secs)
		}
		return next(c)
	}
}

// readBody reads a request body of at most maxAPIBody bytes.
func readBody(c echo.Context) ([]byte, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, maxAPIBody)
	b, err := io.ReadAll(r)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, app.Errorf(app.ETooLarge, "body", "the body is larger than %d bytes", maxAPIBody)
	}
	if err != nil {
		return nil, app.Errorf(app.EInvalid, "body", "the body could not be read")
	}
	return b, nil
}

// decodeStrict reads a JSON object into v. It refuses what a lenient decoder
// would let through — unknown fields, duplicate fields, invalid UTF-8, a
// number where a string belongs — and names the offending field.
func decodeStrict(b []byte, v any) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return app.Errorf(app.EInvalid, "body", "a JSON body is required")
	}
	err := json.Unmarshal(b, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		field := fieldOf(syn.JSONPointer)
		if !utf8.Valid(b) {
			return app.Errorf(app.EInvalid, field, "the text is not valid UTF-8")
		}
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return app.Errorf(app.EInvalid, field, "the field appears twice")
		}
		return app.Errorf(app.EInvalid, field, "the body is not valid JSON: %v", syn.Err)
	}
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		field := fieldOf(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, json.ErrUnknownName):
			return app.Errorf(app.EInvalid, field, "unknown field %q", lastToken(sem.JSONPointer))
		case sem.GoType != nil && sem.Err == nil || errors.Is(sem.Err, strconv.ErrSyntax) || errors.Is(sem.Err, strconv.ErrRange):
			return app.Errorf(app.EInvalid, field, "%s must be %s", field, describeKind(sem))
		case sem.Err != nil:
			return app.Errorf(app.EInvalid, field, "%s: %v", field, sem.Err)
		}
		return app.Errorf(app.EInvalid, field, "%s has the wrong type", field)
	}
	return app.Errorf(app.EInvalid, "body", "the body is not valid JSON")
}

// fieldOf prints a JSON Pointer the way the API's documentation names
// fields: "/events/3/seq" is "events[3].seq"; the whole body is "body".
func fieldOf(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func lastToken(p jsontext.Pointer) string {
	last := ""
	for tok := range p.Tokens() {
		last = tok
	}
	return last
}

// describeKind says in words what type a field wanted.
func describeKind(sem *json.SemanticError) string {
	if sem.GoType == nil {
		return "of another type"
	}
	switch sem.GoType.Kind().String() {
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		if sem.GoType.String() == "time.Time" {
			return "an RFC 3339 time"
		}
		return "an object"
	}
	return "of another type"
}

// checkQuery refuses query parameters outside allowed, naming the first.
func checkQuery(c echo.Context, allowed ...string) error {
	for k := range c.QueryParams() {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return app.Errorf(app.EInvalid, k, "unknown parameter %q", k)
		}
	}
	return nil
}

// queryLimit reads the limit parameter: 1 to most, def when absent.
func queryLimit(c echo.Context, def, most int) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		return 0, app.Errorf(app.EInvalid, "limit", "limit must be an integer from 1 to %d", most)
	}
	return n, nil
}
