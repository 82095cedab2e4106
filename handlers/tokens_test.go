package handlers_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

var shownToken = regexp.MustCompile(`<code data-token>(adk_[0-9A-Za-z]+)</code>`)

func TestTokensAreCreatedShownOnceUsedAndRevoked(t *testing.T) {
	eachStore(t, func(t *testing.T, s *app.Store) {
		w := newAPIWorld(t, s, nil)
		maya := w.signIn(t, "maya")
		csrf := w.csrfFrom(t, maya, "/settings/tokens")
		post := func(c *http.Client, path string, form url.Values) (*http.Response, string) {
			t.Helper()
			resp, err := c.PostForm(w.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp, string(b)
		}

		resp, body := post(maya, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"laptop"}, "expires": {"30"}})
		m := shownToken.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("create: status %d, token shown: %v", resp.StatusCode, m != nil)
		}
		secret := m[1]
		wantStatus(t, "the new token on the API", w.call(t, secret, "GET", "/api/v1/runs", nil, nil), http.StatusOK)

		_, list := w.get(t, maya, "/settings/tokens", nil)
		if strings.Contains(list, secret) {
			t.Error("the token list shows the whole secret again")
		}
		if !strings.Contains(list, secret[:12]+"…") || !strings.Contains(list, "laptop") {
			t.Error("the token list does not show the new token's name and prefix")
		}

		resp, body = post(maya, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"  "}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "needs a name") {
			t.Errorf("nameless token: status %d, want 400 saying it needs a name", resp.StatusCode)
		}
		resp, _ = post(maya, "/settings/tokens", url.Values{"name": {"forged"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("create without the CSRF token: status %d, want 403", resp.StatusCode)
		}

		tokens, err := s.AccessTokens(t.Context(), w.users["maya"].ID)
		if err != nil {
			t.Fatal(err)
		}
		var laptop *app.AccessToken
		for _, tk := range tokens {
			if tk.Name == "laptop" {
				laptop = tk
			}
		}
		if laptop == nil || laptop.ExpiresAt.Sub(w.now).Hours() != 30*24 {
			t.Fatalf("stored token = %+v, want laptop expiring in 30 days", laptop)
		}
		jonas := w.signIn(t, "jonas")
		resp, _ = post(jonas, "/settings/tokens/"+itoa(laptop.ID)+"/revoke", url.Values{"csrf": {w.csrfFrom(t, jonas, "/settings/tokens")}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("jonas revoking maya's token: status %d, want 404", resp.StatusCode)
		}
		wantStatus(t, "after a stranger's revoke", w.call(t, secret, "GET", "/api/v1/runs", nil, nil), http.StatusOK)
		resp, body = post(maya, "/settings/tokens/"+itoa(laptop.ID)+"/revoke", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Revoke") {
			t.Errorf("an unconfirmed revoke: status %d, want 200 and a question", resp.StatusCode)
		}
		wantStatus(t, "after an unconfirmed revoke", w.call(t, secret, "GET", "/api/v1/runs", nil, nil), http.StatusOK)
		resp, _ = post(maya, "/settings/tokens/"+itoa(laptop.ID)+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("revoke: status %d, want 303", resp.StatusCode)
		}
		if r := w.call(t, secret, "GET", "/api/v1/runs", nil, nil); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "revoked") {
			t.Errorf("revoked token: %d %s, want 401 revoked", r.Status, r.Body)
		}
	})
}
