package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
	"github.com/agentdeck/agentdeck/config"
	"github.com/labstack/echo/v4"
)

func TestEveryErrorCodeHasItsOwnStatus(t *testing.T) {
	seen := map[int]app.Code{}
	for _, code := range app.Codes {
		status, ok := statusOf[code]
		if !ok || status < 400 || status > 599 {
			t.Errorf("code %q has status %d, want one from 400 to 599", code, status)
		}
		if other, dup := seen[status]; dup {
			t.Errorf("codes %q and %q share status %d", other, code, status)
		}
		seen[status] = code
	}
	if len(statusOf) != len(app.Codes) {
		t.Errorf("statusOf maps %d codes, app.Codes lists %d", len(statusOf), len(app.Codes))
	}
}

func TestAnErrorOfNoKnownKindIsALogged500WithTheRequestsID(t *testing.T) {
	var logs bytes.Buffer
	cfg := config.Config{Command: config.CommandServe, Addr: "127.0.0.1:0", DataDir: t.TempDir(), SessionKeys: []string{strings.Repeat("k", 40)}}
	s, err := New(cfg, apptest.SQLite(t), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for name, failure := range map[string]error{
		"a code no table maps":        app.Errorf(app.Code("made_up"), "x", "a code added without a status"),
		"an error of no kind":         errors.New("the database went away"),
		"an HTTP error with status 0": &echo.HTTPError{Code: 0, Message: "no status"},
		"an HTTP error with status 2": echo.NewHTTPError(http.StatusOK, "not an error's status"),
	} {
		logs.Reset()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/runs", nil)
		rec := httptest.NewRecorder()
		c := s.echo.NewContext(req, rec)
		c.Set(ctxRequestID, "0123456789abcdef")
		s.handleError(failure, c)
		var body errorJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: answer %q is not an error's JSON", name, rec.Body)
		}
		if rec.Code != http.StatusInternalServerError || body.Error.RequestID != "0123456789abcdef" || body.Error.Message != internalMessage {
			t.Errorf("%s: status %d, %+v; want 500 with the request's id and nothing of the cause", name, rec.Code, body.Error)
		}
		if line := logs.String(); !strings.Contains(line, "request_id=0123456789abcdef") || !strings.Contains(line, "level=ERROR") {
			t.Errorf("%s: logged %q, want an error naming the request", name, line)
		}
	}
}

func TestAClientAddressHoldsAtMostItsShareOfConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	limited := newConnLimiter(ln, 2, nil)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	accept := func() net.Conn {
		c, err := limited.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dial()
	first := accept()
	dial()
	accept()
	// A third connection is closed on arrival, and Accept waits for the
	// next one it may return.
	next := make(chan net.Conn, 1)
	go func() { next <- accept() }()
	refused := dial()
	var b [1]byte
	if n, err := refused.Read(b[:]); err == nil {
		t.Fatalf("the connection over the limit read %d bytes, want it closed", n)
	}
	// Closing one, even twice, gives its place back, once.
	first.Close()
	first.Close()
	dial()
	fourth := <-next
	defer fourth.Close()
	if got := limited.open[mustPrefix(t, fourth)]; got != 2 {
		t.Errorf("the address holds %d connections, want 2", got)
	}

	// A trusted proxy speaks for many clients: it is not limited.
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	proxied := newConnLimiter(ln, 1, []*net.IPNet{loopback})
	for range 3 {
		dial()
		c, err := proxied.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
}

func mustPrefix(t *testing.T, c net.Conn) netip.Prefix {
	t.Helper()
	p, ok := (&connLimiter{}).clientOf(c)
	if !ok {
		t.Fatalf("%s is not counted", c.RemoteAddr())
	}
	return p
}
