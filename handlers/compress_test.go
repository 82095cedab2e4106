package handlers_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Pages and fragments of 1 KiB or more reach a client that accepts gzip
// compressed, and decompress to what a client that does not accept it gets;
// small answers, API answers and error pages stay as they are or decompress
// alike.
func TestPagesAreCompressedForClientsThatAcceptIt(t *testing.T) {
	a := seededApp(t, sqliteStore(t))
	maya := a.signIn(t, "maya")
	get := func(path string, header http.Header, gzipped bool) (*http.Response, string) {
		t.Helper()
		h := http.Header{}
		for k, v := range header {
			h[k] = v
		}
		if gzipped {
			h.Set("Accept-Encoding", "gzip")
		} else {
			// Asked for as is: the transport would otherwise ask for gzip
			// itself and hide the answer's encoding.
			h.Set("Accept-Encoding", "identity")
		}
		resp, body := a.get(t, maya, path, h)
		if resp.Header.Get("Content-Encoding") != "gzip" {
			return resp, body
		}
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp, string(plain)
	}
	for _, c := range []struct {
		path     string
		header   http.Header
		status   int
		compress bool
	}{
		{"/?tab=all", nil, http.StatusOK, true},
		{"/?tab=all&status=failed", htmx("filters"), http.StatusOK, true},
		{"/static/css/app.css", nil, http.StatusOK, true},
		{"/healthz", nil, http.StatusOK, false},
		{"/runs/nope", nil, http.StatusNotFound, true},
		{"/api/v1/openapi.json", nil, http.StatusOK, false},
	} {
		zipped, body := get(c.path, c.header, true)
		plain, want := get(c.path, c.header, false)
		if zipped.StatusCode != c.status || plain.StatusCode != c.status {
			t.Errorf("%s: %d and %d, want %d", c.path, zipped.StatusCode, plain.StatusCode, c.status)
		}
		if got := zipped.Header.Get("Content-Encoding") == "gzip"; got != c.compress {
			t.Errorf("%s: compressed %v, want %v", c.path, got, c.compress)
		}
		if plain.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: compressed for a client that does not accept it", c.path)
		}
		if c.compress && !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: no Vary: Accept-Encoding", c.path)
		}
		if body != want || body == "" {
			t.Errorf("%s: %d bytes decompressed, %d as is", c.path, len(body), len(want))
		}
	}
}
