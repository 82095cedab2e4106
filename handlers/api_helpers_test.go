package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/config"
)

// apiWorld is a real server over a small company: maya and jonas in team
// platform, tomas in team product, each with an access token.
type apiWorld struct {
	*testApp
	spec   *openAPI
	users  map[string]*app.User
	tokens map[string]string
	teams  map[string]*app.Team
	now    time.Time
}

func newAPIWorld(t *testing.T, s *app.Store, configure func(*config.Config)) *apiWorld {
	t.Helper()
	ctx := context.Background()
	w := &apiWorld{users: map[string]*app.User{}, tokens: map[string]string{}, teams: map[string]*app.Team{},
		now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	s.SetClock(func() time.Time { return w.now })
	for _, h := range []string{"maya", "jonas", "tomas"} {
		u := &app.User{Handle: h, Name: h}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		w.users[h] = u
		_, secret, err := s.CreateAccessToken(ctx, u.ID, "test", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[h] = secret
	}
	w.teams["platform"] = &app.Team{Slug: "platform", Name: "Platform"}
	w.teams["product"] = &app.Team{Slug: "product", Name: "Product"}
	for slug, admin := range map[string]string{"platform": "maya", "product": "tomas"} {
		if err := s.CreateTeam(ctx, w.teams[slug], w.users[admin].ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddMember(ctx, w.teams["platform"].ID, w.users["jonas"].ID, app.RoleMember); err != nil {
		t.Fatal(err)
	}
	w.testApp = newTestApp(t, s, configure)
	w.spec = loadOpenAPI(t, w.testApp)
	return w
}

// apiResponse is an API answer, checked against the OpenAPI document.
type apiResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r apiResponse) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// errorField is the field an error response names.
func (r apiResponse) errorField(t testing.TB) string {
	t.Helper()
	e, _ := r.JSON(t)["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// call sends one API request as the holder of token ("" for none) and checks
// the answer against the OpenAPI document. body is sent as is when it is a
// string or []byte, else as JSON.
func (w *apiWorld) call(t testing.TB, token, method, path string, body any, header http.Header) apiResponse {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, w.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.spec.checkResponse(method, path, resp.StatusCode, resp.Header.Get("Content-Type"), raw); err != nil {
		t.Errorf("response does not follow the OpenAPI document: %v", err)
	}
	return apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// as is call with a user's token.
func (w *apiWorld) as(t testing.TB, handle, method, path string, body any) apiResponse {
	t.Helper()
	return w.call(t, w.tokens[handle], method, path, body, nil)
}

// wantStatus fails the test unless r has the status; the body is shown.
func wantStatus(t testing.TB, what string, r apiResponse, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
