package handlers

import (
	"bytes"
	"encoding/gob"
	"testing"
)

// A session's decoded values are kept for the next request with the same
// data, but every request gets a map of its own: what one request changes
// before saving reaches no other.
func TestSessionDataIsDecodedOnceAndHandedOutAsCopies(t *testing.T) {
	var data bytes.Buffer
	if err := gob.NewEncoder(&data).Encode(map[any]any{sessCSRF: "token-1"}); err != nil {
		t.Fatal(err)
	}
	var d sessionData
	first, ok := d.values(data.Bytes())
	if !ok || first[sessCSRF] != "token-1" {
		t.Fatalf("first decoding: %v, %t; want the token", first, ok)
	}
	first[sessCSRF] = "changed by the first request"
	first[sessUserID] = int64(7)
	second, ok := d.values(data.Bytes())
	if !ok || second[sessCSRF] != "token-1" || len(second) != 1 {
		t.Fatalf("second decoding: %v, %t; want the data's own values", second, ok)
	}
	if len(d.recent) != 1 {
		t.Errorf("kept %d decodings, want 1", len(d.recent))
	}
	if empty, ok := d.values(nil); !ok || len(empty) != 0 {
		t.Errorf("no data: %v, %t; want no values", empty, ok)
	}
	if _, ok := d.values([]byte("not gob")); ok {
		t.Error("unreadable data was read")
	}
}

// The memory of decoded data stays bounded however many sessions pass.
func TestSessionDataKeepsABoundedNumberOfDecodings(t *testing.T) {
	var d sessionData
	for i := range maxDecodedSessions + 10 {
		var data bytes.Buffer
		if err := gob.NewEncoder(&data).Encode(map[any]any{sessCSRF: i}); err != nil {
			t.Fatal(err)
		}
		if v, ok := d.values(data.Bytes()); !ok || v[sessCSRF] != i {
			t.Fatalf("session %d: %v, %t", i, v, ok)
		}
	}
	if len(d.recent) > maxDecodedSessions {
		t.Errorf("kept %d decodings, more than %d", len(d.recent), maxDecodedSessions)
	}
}
