package app

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Credits is an exact amount of credits in millionths of a credit. Fixed-point
// integers are exact, sum exactly in SQL on both databases, and never pass
// through a float.
type Credits int64

// CreditScale is the number of decimal places Credits keeps.
const CreditScale = 6

const creditUnit = 1_000_000

// maxCreditDigits bounds the whole part of an amount: 999,999,999 credits,
// ten million US dollars at the default hundred credits a dollar, far
// beyond what one run can cost, and even at a million credits a dollar a
// thousand dollars.
const maxCreditDigits = 9

// MaxCredits is the most one amount may be: an item's inference credits, or
// its compute credits. Every write path holds an item to it, which is what
// bounds the view's sums (see Store.Summary).
const MaxCredits = Credits(1_000_000_000*creditUnit - 1)

// ParseCredits reads a non-negative decimal such as "1.25" or "3". More than
// six decimal places are refused rather than rounded.
func ParseCredits(s string) (Credits, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || hasDot && frac == "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("%q is not a non-negative decimal number", s)
			}
		}
	}
	if len(strings.TrimLeft(whole, "0")) > maxCreditDigits {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if len(frac) > CreditScale {
		if strings.Trim(frac[CreditScale:], "0") != "" {
			return 0, fmt.Errorf("%q has more than %d decimal places", s, CreditScale)
		}
		frac = frac[:CreditScale]
	}
	frac += strings.Repeat("0", CreditScale-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return Credits(w*creditUnit + f), nil
}

// String prints the exact amount with no trailing zeros beyond two places:
// "1.25", "0.50", "3.141593".
func (c Credits) String() string { return string(c.Append(make([]byte, 0, 24))) }

// Append appends the amount as String prints it. Exports print millions
// of amounts, so it builds the text without fmt.
func (c Credits) Append(b []byte) []byte {
	u := uint64(c)
	if c < 0 {
		b = append(b, '-')
		u = uint64(-c)
	}
	b = strconv.AppendUint(b, u/creditUnit, 10)
	b = append(b, '.')
	var frac [6]byte
	f := u % creditUnit
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + f%10)
		f /= 10
	}
	n := 6
	for n > 2 && frac[n-1] == '0' {
		n--
	}
	return append(b, frac[:n]...)
}

// MarshalText gives the amount as String prints it; in JSON that is a
// decimal string, so no client parses it into a float by accident.
func (c Credits) MarshalText() ([]byte, error) { return c.Append(nil), nil }

// UnmarshalJSON accepts a decimal string or a bare JSON number, reading the
// number's text exactly.
func (c *Credits) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseCredits(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Value stores the amount as an integer count of millionths.
func (c Credits) Value() (driver.Value, error) { return int64(c), nil }

// Scan reads an integer count of millionths.
func (c *Credits) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*c = Credits(v)
	case nil:
		*c = 0
	case []byte:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("app: scan credits %q: %w", v, err)
		}
		*c = Credits(n)
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("app: scan credits %q: %w", v, err)
		}
		*c = Credits(n)
	default:
		return fmt.Errorf("app: scan credits from %T", src)
	}
	return nil
}
