package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The text rule, the one decision about what text agentdeck stores, on
// SQLite and PostgreSQL alike: valid UTF-8 without NUL. PostgreSQL's text
// cannot hold a NUL byte, its jsonb cannot hold the \u0000 escape, and its
// UTF-8 encoding refuses invalid bytes; SQLite would take all three, so
// without one rule the same report would be kept on one database and lost on
// the other.
//
// How a field comes to follow the rule depends on what it is:
//   - Text that machines report — run titles, log lines and messages, every
//     key and string of an event's data, reasons, prompts, places, profile
//     names from sign-in providers — is cleaned by CleanText: each NUL byte
//     and each invalid byte becomes U+FFFD, so that a stray byte costs one
//     character, never the report.
//   - Text that names or identifies something — team and token names,
//     handles, slugs, idempotency keys — is refused when it is not clean
//     (IsCleanText), since changing it would turn two different names or
//     keys into one. Looking something up by such a name finds nothing.
//
// Length limits apply to the text as stored, after cleaning.

// CleanText returns s as agentdeck stores reported text: invalid UTF-8 and
// NUL bytes each replaced by U+FFFD.
func CleanText(s string) string {
	if IsCleanText(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = invalidBytes(s)
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// invalidBytes replaces each invalid byte of s with U+FFFD. Unlike
// strings.ToValidUTF8, which collapses a run of invalid bytes into one
// replacement, it keeps one per byte, so a stray byte costs exactly one
// character wherever it stands.
func invalidBytes(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsCleanText reports whether s follows the text rule as it is: valid UTF-8
// without NUL bytes.
func IsCleanText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// CleanData applies the text rule to an event's data, a JSON object given as
// its text, and returns the data as stored: every key and every string
// cleaned (CleanText), numbers kept exactly as written, compact. field names
// the data in errors, e.g. "events[3].data". It refuses, as invalid and
// naming the member, a number that a 64-bit float cannot hold (1e400 is
// beyond its range, 1e-20000 below its precision): most clients read JSON
// numbers into one, and PostgreSQL's jsonb refuses the most extreme of them.
func CleanData(data, field string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", Errorf(EInvalid, field, "the data must be a JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return "", Errorf(EInvalid, field, "the data must be one JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", Errorf(EInvalid, field, "the data must be a JSON object")
	}
	return encodeData(obj, field)
}

// encodeData cleans structured data (see CleanData) and encodes it as
// stored. Agents' reports come here as Go values, the API's as JSON text.
func encodeData(obj map[string]any, field string) (string, error) {
	clean, err := cleanValue(obj, field)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Stored data is JSON, not HTML: <, > and & stay as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(clean); err != nil {
		return "", Errorf(EInvalid, field, "the data cannot be stored as JSON")
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// cleanValue applies the text rule to one value of structured data; field
// is its place, for errors.
func cleanValue(v any, field string) (any, error) {
	switch x := v.(type) {
	case string:
		return CleanText(x), nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			c, err := cleanValue(val, field+"."+k)
			if err != nil {
				return nil, err
			}
			out[CleanText(k)] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			c, err := cleanValue(val, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case json.Number:
		if !fitsFloat64(string(x)) {
			return nil, Errorf(EInvalid, CleanText(field), "the number %s is out of range: data numbers must fit a 64-bit float", clip(string(x)))
		}
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, Errorf(EInvalid, CleanText(field), "the number is not finite")
		}
		return x, nil
	}
	return v, nil
}

// fitsFloat64 reports whether a JSON number's text is within a 64-bit
// float's range: not so large it overflows, and not a non-zero number so
// small it rounds to zero.
func fitsFloat64(n string) bool {
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return false
	}
	if f != 0 {
		return true
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(n), "e")
	return strings.Trim(mantissa, "-+0.") == ""
}
