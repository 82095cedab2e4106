package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/markbates/goth"
	"github.com/markbates/goth/gothic"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/gitlab"
	"github.com/markbates/goth/providers/google"
	"github.com/markbates/goth/providers/openidConnect"
	"golang.org/x/oauth2"
)

// provider is one enabled way to sign in. Its goth provider is built at
// first use (OpenID Connect reads the issuer's discovery document then, so
// an issuer that is down delays sign-in, not the start of the server) and
// registered in goth's process-wide registry under a name of this server's
// own, so that several servers in one process never share one.
type provider struct {
	Name  string // in URLs: github, google, gitlab, openid-connect
	Label string
	key   string // what identities are keyed by; for OpenID Connect it names the issuer too
	build func(ctx context.Context) (goth.Provider, error)

	registered string
	mu         sync.Mutex
	built      goth.Provider
}

// goth returns the goth provider, building and registering it on first use.
func (p *provider) goth(ctx context.Context) (goth.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.built != nil {
		return p.built, nil
	}
	gp, err := p.build(ctx)
	if err != nil {
		return nil, err
	}
	gp.SetName(p.registered)
	goth.UseProviders(gp)
	p.built = gp
	return gp, nil
}

// oauthTimeout bounds every call to a provider: discovery, token exchange
// and profile.
const oauthTimeout = 15 * time.Second

// signInWindow is how long a person may take at the provider.
const signInWindow = 10 * time.Minute

// newProviders lists the providers whose variables are set, in the order the
// sign-in page shows them. serverID makes their registered names unique.
func newProviders(cfg config.Config, serverID string) []*provider {
	client := &http.Client{Timeout: oauthTimeout}
	callback := func(name string) string { return cfg.PublicURL() + "/auth/" + name + "/callback" }
	var ps []*provider
	if c := cfg.GitHub; c.Enabled() {
		ps = append(ps, &provider{Name: "github", Label: "GitHub", key: "github", build: func(context.Context) (goth.Provider, error) {
			p := github.New(c.ClientID, c.ClientSecret, callback("github"), "read:user", "user:email")
			p.HTTPClient = client
			return p, nil
		}})
	}
	if c := cfg.Google; c.Enabled() {
		ps = append(ps, &provider{Name: "google", Label: "Google", key: "google", build: func(context.Context) (goth.Provider, error) {
			p := google.New(c.ClientID, c.ClientSecret, callback("google"), "openid", "email", "profile")
			p.HTTPClient = client
			return p, nil
		}})
	}
	if c := cfg.GitLab; c.Enabled() {
		ps = append(ps, &provider{Name: "gitlab", Label: "GitLab", key: "gitlab", build: func(context.Context) (goth.Provider, error) {
			// goth's default profile URL is GitLab's retired v3 API.
			p := gitlab.NewCustomisedURL(c.ClientID, c.ClientSecret, callback("gitlab"),
				gitlab.AuthURL, gitlab.TokenURL, "https://gitlab.com/api/v4/user", "read_user")
			p.HTTPClient = client
			return p, nil
		}})
	}
	if c := cfg.OIDC; c.Enabled() {
		issuer := strings.TrimRight(c.Issuer, "/")
		ps = append(ps, &provider{Name: "openid-connect", Label: "OpenID Connect", key: "openid-connect " + issuer,
			build: func(ctx context.Context) (goth.Provider, error) {
				return discoverOIDC(ctx, client, c, issuer, callback("openid-connect"))
			}})
	}
	for _, p := range ps {
		p.registered = p.Name + "@" + serverID
	}
	return ps
}

// discoverOIDC reads the issuer's discovery document and builds goth's
// OpenID Connect provider from it. The document must speak for the issuer
// configured, as OpenID Connect Discovery requires.
func discoverOIDC(ctx context.Context, client *http.Client, c config.Provider, issuer, callback string) (goth.Provider, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, fmt.Errorf("handlers: OpenID Connect discovery: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("handlers: OpenID Connect discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("handlers: OpenID Connect discovery at %s: status %d", req.URL, resp.StatusCode)
	}
	var doc openidConnect.OpenIDConfig
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("handlers: OpenID Connect discovery at %s: %w", req.URL, err)
	}
	if strings.TrimRight(doc.Issuer, "/") != issuer {
		return nil, fmt.Errorf("handlers: OpenID Connect discovery at %s speaks for issuer %q, not OIDC_ISSUER %q", req.URL, doc.Issuer, issuer)
	}
	if doc.AuthEndpoint == "" || doc.TokenEndpoint == "" {
		return nil, fmt.Errorf("handlers: OpenID Connect discovery at %s names no authorization or token endpoint", req.URL)
	}
	p, err := openidConnect.NewCustomisedURL(c.ClientID, c.ClientSecret, callback,
		doc.AuthEndpoint, doc.TokenEndpoint, doc.Issuer, doc.UserInfoEndpoint, doc.EndSessionEndpoint,
		"openid", "email", "profile")
	if err != nil {
		return nil, fmt.Errorf("handlers: OpenID Connect provider: %w", err)
	}
	p.HTTPClient = client
	return p, nil
}

// Keys of what a sign-in request hands to gothic through its context.
type gothicKey int

const (
	gothicSessions gothicKey = iota // the *sessionStore of the server answering, set by loadSession
	gothicState                     // the state this server generated
)

var gothicOnce sync.Once

// useGothic points gothic's process-wide hooks at ours, once per process:
// its sessions are kept by the store of the server answering the request,
// the state is always the one the server generated (gothic would take a
// client's state parameter), and the provider is only the one the route
// allowed (gothic would look at query parameters too).
func useGothic() {
	gothicOnce.Do(func() {
		gothic.Store = requestSessions{}
		gothic.SetState = func(r *http.Request) string {
			if state, ok := r.Context().Value(gothicState).(string); ok && state != "" {
				return state
			}
			// Never empty: gothic skips its own check when the state is.
			return randomToken()
		}
		gothic.GetProviderName = func(r *http.Request) (string, error) {
			if name, ok := r.Context().Value(gothic.ProviderParamKey).(string); ok && name != "" {
				return name, nil
			}
			return "", errors.New("handlers: no sign-in provider in the request")
		}
	})
}

// requestSessions is gothic's session store: the session store of the
// server answering the request. gothic keeps its store in a package
// variable, and one process may run several servers.
type requestSessions struct{}

var errNoSessionStore = errors.New("handlers: the request carries no session store")

func sessionsOf(r *http.Request) (*sessionStore, error) {
	st, ok := r.Context().Value(gothicSessions).(*sessionStore)
	if !ok {
		return nil, errNoSessionStore
	}
	return st, nil
}

// Get returns the request's gothic session, loading it once per request.
func (rs requestSessions) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(rs, name)
}

// New loads gothic's session, which lives no longer than a sign-in may take.
func (requestSessions) New(r *http.Request, name string) (*sessions.Session, error) {
	st, err := sessionsOf(r)
	if err != nil {
		// gothic ignores this error, so the session must still be usable.
		return sessions.NewSession(requestSessions{}, name), err
	}
	sess, err := st.New(r, name)
	sess.Options.MaxAge = int(signInWindow.Seconds())
	return sess, err
}

// Save saves gothic's session in the server's store.
func (requestSessions) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	st, err := sessionsOf(r)
	if err != nil {
		return err
	}
	return st.Save(r, w, sess)
}

// gothicRequest is the request gothic sees: ours, with the provider's
// registered name and our state in its context, and only the query
// parameters given, so that nothing a client adds reaches gothic.
func (s *Server) gothicRequest(c echo.Context, p *provider, state string, query url.Values) *http.Request {
	ctx := context.WithValue(c.Request().Context(), gothicState, state)
	r := gothic.GetContextWithProvider(c.Request().WithContext(ctx), p.registered)
	u := *r.URL
	u.RawQuery = query.Encode()
	r.URL = &u
	return r
}

// Session values of a sign-in in progress, kept in the session of the
// browser that started it.
const (
	sessSignInProvider = "signin.provider"
	sessSignInState    = "signin.state"
	sessSignInNext     = "signin.next"
	sessSignInUntil    = "signin.until" // Unix seconds
)

// handleOAuthBegin sends the browser to the provider to sign in. The state
// that ties the answer to this browser is generated here, whatever the
// client sent, and kept with the page to return to in the browser's session.
func (s *Server) handleOAuthBegin(c echo.Context) error {
	p, ok := s.provider(c.Param("provider"))
	if !ok {
		return echo.ErrNotFound
	}
	if _, err := p.goth(c.Request().Context()); err != nil {
		s.log.Error("sign-in provider unavailable", "provider", p.Name, "err", err)
		return s.renderSignIn(c, http.StatusBadGateway, c.QueryParam("next"),
			fmt.Sprintf("%s cannot be reached right now. Try again in a moment.", p.Label))
	}
	state := randomToken()
	sess := sessionOf(c)
	sess.Values[sessSignInProvider] = p.Name
	sess.Values[sessSignInState] = state
	sess.Values[sessSignInNext] = safeNext(c.QueryParam("next"))
	sess.Values[sessSignInUntil] = s.store.Now().Add(signInWindow).Unix()
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	authURL, err := gothic.GetAuthURL(c.Response(), s.gothicRequest(c, p, state, nil))
	if err != nil {
		return fmt.Errorf("handlers: begin sign-in with %s: %w", p.Name, err)
	}
	return c.Redirect(http.StatusFound, authURL)
}

// oauthErrorCode accepts the error codes of RFC 6749 and their like, and
// nothing else, so that a link cannot put words on our page.
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,40}$`)

// handleOAuthCallback finishes a sign-in. The sign-in in progress is
// claimed first, by ending the session that holds it: that is atomic, so a
// replayed or concurrent callback finds nothing to claim. Then the state
// must match (in constant time), the provider must confirm the code, and the
// account is looked up by provider and subject. Success signs in, in a new
// session, and returns to the page first asked for.
func (s *Server) handleOAuthCallback(c echo.Context) error {
	p, ok := s.provider(c.Param("provider"))
	if !ok {
		return echo.ErrNotFound
	}
	q := c.QueryParams()
	gr := s.gothicRequest(c, p, "", url.Values{"code": {q.Get("code")}, "state": {q.Get("state")}})
	u, next, status, problem, err := s.completeSignIn(c, p, gr)
	if err != nil {
		return err
	}
	if problem != "" {
		return s.renderSignIn(c, status, next, problem)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// completeSignIn does the work of the callback; a problem is for the person
// signing in, an error is ours.
func (s *Server) completeSignIn(c echo.Context, p *provider, gr *http.Request) (u *app.User, next string, status int, problem string, err error) {
	sess := sessionOf(c)
	started, _ := sess.Values[sessSignInProvider].(string)
	want, _ := sess.Values[sessSignInState].(string)
	next, _ = sess.Values[sessSignInNext].(string)
	until, _ := sess.Values[sessSignInUntil].(int64)
	expired := "This sign-in has expired or was already used. Start again."
	if started != p.Name || want == "" {
		return nil, "", http.StatusBadRequest, expired, nil
	}
	claimed, err := s.sessions.end(c.Request().Context(), sess)
	if err != nil {
		return nil, next, 0, "", err
	}
	if claimed {
		// gothic's own session of this sign-in ends with it, however it
		// goes. Only the request that claimed the sign-in may end it: a
		// losing replay must not pull it from under the winner.
		defer func() {
			if err := gothic.Logout(c.Response(), gr); err != nil {
				s.log.Warn("end gothic session", "err", err)
			}
		}()
	}
	q := c.QueryParams()
	switch {
	case !claimed || s.store.Now().Unix() >= until:
		return nil, next, http.StatusBadRequest, expired, nil
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(want)) != 1:
		return nil, next, http.StatusBadRequest, "This answer does not belong to a sign-in started here. Start again.", nil
	case q.Get("error") != "":
		code := q.Get("error")
		if !oauthErrorCode.MatchString(code) {
			code = "an unknown error"
		}
		if code == "access_denied" {
			return nil, next, http.StatusForbidden, fmt.Sprintf("%s did not sign you in: access was denied there. You can try again.", p.Label), nil
		}
		return nil, next, http.StatusForbidden, fmt.Sprintf("%s did not sign you in (%s). You can try again.", p.Label, code), nil
	case q.Get("code") == "":
		return nil, next, http.StatusBadRequest, fmt.Sprintf("%s sent no sign-in code. Start again.", p.Label), nil
	}
	gu, err := gothic.CompleteUserAuth(c.Response(), gr)
	if err != nil {
		if _, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
			s.log.Warn("provider refused the sign-in code", "provider", p.Name, "err", err)
			return nil, next, http.StatusBadRequest, fmt.Sprintf("%s did not confirm this sign-in. Start again.", p.Label), nil
		}
		s.log.Error("complete sign-in", "provider", p.Name, "err", err)
		return nil, next, http.StatusBadGateway, fmt.Sprintf("Signing in with %s failed on the way back. Try again in a moment.", p.Label), nil
	}
	avatar := gu.AvatarURL
	if !strings.HasPrefix(avatar, "https://") {
		// The Content-Security-Policy loads images over https only.
		avatar = ""
	}
	u, err = s.store.SignIn(c.Request().Context(), app.ExternalAccount{
		Provider: p.key, Subject: gu.UserID, Login: gu.NickName, Name: gu.Name, Email: gu.Email, AvatarURL: avatar,
	})
	if app.ErrorCode(err) == app.EInvalid {
		s.log.Warn("provider named no account", "provider", p.Name, "err", err)
		return nil, next, http.StatusBadGateway, fmt.Sprintf("%s did not say who you are. Try again in a moment.", p.Label), nil
	}
	return u, next, 0, "", err
}

// provider returns the enabled provider of that name: the allow-list.
func (s *Server) provider(name string) (*provider, bool) {
	for _, p := range s.providers {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}
