package app

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
)

//go:embed prices.json
var embeddedPrices []byte

// ModelPrice is what a model's tokens cost, in US dollars per million tokens.
type ModelPrice struct {
	Input       *big.Rat
	CachedInput *big.Rat
	Output      *big.Rat
}

// PriceTable prices the tokens of agents that report tokens but no cost. It
// ships embedded with the date its prices were read, and a file can replace
// it (AGENTDECK_PRICES).
type PriceTable struct {
	Date   string
	models map[string]ModelPrice
	// byLength lists the model names longest first, for prefix matching.
	byLength []string
}

// priceFile is the table's JSON form: prices are decimal strings, so that
// they are read exactly.
type priceFile struct {
	Date   string `json:"date"`
	Models map[string]struct {
		Input       string `json:"input"`
		CachedInput string `json:"cached_input"`
		Output      string `json:"output"`
	} `json:"models"`
}

// EmbeddedPrices is the table that ships with agentdeck.
func EmbeddedPrices() *PriceTable {
	t, err := ParsePrices(embeddedPrices)
	if err != nil {
		panic("app: the embedded price table is invalid: " + err.Error())
	}
	return t
}

// LoadPrices reads a price table file in the embedded table's format.
func LoadPrices(path string) (*PriceTable, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("app: read price table: %w", err)
	}
	t, err := ParsePrices(b)
	if err != nil {
		return nil, fmt.Errorf("app: price table %s: %w", path, err)
	}
	return t, nil
}

// ParsePrices reads a price table: {"date": "…", "models": {"name": {"input":
// "1.25", "cached_input": "0.125", "output": "10"}}}, in US dollars per
// million tokens. A model without a cached_input price is charged its input
// price for cached tokens.
func ParsePrices(b []byte) (*PriceTable, error) {
	var f priceFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not a price table: %w", err)
	}
	t := &PriceTable{Date: f.Date, models: map[string]ModelPrice{}}
	for name, p := range f.Models {
		var mp ModelPrice
		for _, part := range []struct {
			field string
			raw   string
			dst   **big.Rat
		}{{"input", p.Input, &mp.Input}, {"cached_input", p.CachedInput, &mp.CachedInput}, {"output", p.Output, &mp.Output}} {
			if part.raw == "" && part.field == "cached_input" {
				continue
			}
			r, ok := parseDecimal(part.raw)
			if !ok {
				return nil, fmt.Errorf("model %q: %s %q is not a non-negative decimal", name, part.field, part.raw)
			}
			*part.dst = r
		}
		if mp.CachedInput == nil {
			mp.CachedInput = mp.Input
		}
		t.models[strings.ToLower(name)] = mp
		t.byLength = append(t.byLength, strings.ToLower(name))
	}
	sort.Slice(t.byLength, func(i, j int) bool {
		if len(t.byLength[i]) != len(t.byLength[j]) {
			return len(t.byLength[i]) > len(t.byLength[j])
		}
		return t.byLength[i] < t.byLength[j]
	})
	return t, nil
}

// Lookup finds a model's price: its exact name, else the longest listed name
// it starts with followed by "-", so that dated releases such as
// "gpt-5-2025-08-07" take their family's price.
func (t *PriceTable) Lookup(model string) (ModelPrice, bool) {
	m := strings.ToLower(model)
	if p, ok := t.models[m]; ok {
		return p, true
	}
	for _, name := range t.byLength {
		if strings.HasPrefix(m, name+"-") {
			return t.models[name], true
		}
	}
	return ModelPrice{}, false
}

// Cost prices tokens of a model in US dollars, exactly; false when the model
// has no price.
func (t *PriceTable) Cost(model string, tok Tokens) (*big.Rat, bool) {
	p, ok := t.Lookup(model)
	if !ok {
		return nil, false
	}
	uncached := max(tok.Input-tok.CachedInput, 0)
	sum := new(big.Rat)
	for _, term := range []struct {
		n     int64
		price *big.Rat
	}{{uncached, p.Input}, {tok.CachedInput, p.CachedInput}, {tok.Output, p.Output}} {
		sum.Add(sum, new(big.Rat).Mul(big.NewRat(term.n, 1), term.price))
	}
	return sum.Quo(sum, big.NewRat(1_000_000, 1)), true
}

// Pricing turns reported money and tokens into credits.
type Pricing struct {
	// CreditsPerUSD converts US dollars to credits (AGENTDECK_CREDITS_PER_USD;
	// 100 by default: one credit is one US cent).
	CreditsPerUSD *big.Rat
	Prices        *PriceTable
}

// DefaultPricing is 100 credits per US dollar and the embedded price table.
func DefaultPricing() Pricing {
	return Pricing{CreditsPerUSD: big.NewRat(100, 1), Prices: EmbeddedPrices()}
}

// Credits converts one usage record to credits: its reported cost when it
// has one, else its tokens at the table's price. Each record is converted and
// rounded half-even to six decimal places before anything is summed, so a
// sum never depends on the order records arrive in. It returns false when
// the model has no price.
func (p Pricing) Credits(u Usage) (Credits, bool) {
	usd := u.CostUSD
	if usd == nil {
		cost, ok := p.Prices.Cost(u.Model, u.Tokens)
		if !ok {
			return 0, false
		}
		usd = cost
	}
	micro := new(big.Rat).Mul(usd, p.CreditsPerUSD)
	micro.Mul(micro, big.NewRat(creditUnit, 1))
	return Credits(roundHalfEven(micro)), true
}

// roundHalfEven rounds a non-negative rational to the nearest integer, ties
// to even.
func roundHalfEven(r *big.Rat) int64 {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	twice := new(big.Int).Mul(m, big.NewInt(2))
	switch twice.Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// parseDecimal reads a non-negative decimal such as "1.25" exactly.
func parseDecimal(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "eE/+-") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok && r.Sign() >= 0
}

// maxRecordUSD bounds the cost one record may report, far above what one
// request of a real agent costs, so that a forged record cannot overflow the
// credits.
const maxRecordUSD = 100_000

// USDFromFloat reads an amount of money an agent reported as a JSON number,
// which may carry binary noise (0.00018399999999999997): its shortest
// decimal form is read exactly, and the rounding to credits removes the
// noise. It refuses what no real record reports: negative, not finite, or
// more than maxRecordUSD.
func USDFromFloat(f float64) (*big.Rat, bool) {
	if !(f >= 0 && f <= maxRecordUSD) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'f', -1, 64))
	return r, ok
}

// USDFromMicros reads an amount reported in millionths of a US dollar.
func USDFromMicros(n int64) (*big.Rat, bool) {
	if n < 0 || n > maxRecordUSD*1_000_000 {
		return nil, false
	}
	return big.NewRat(n, 1_000_000), true
}

// ParseCreditsPerUSD reads AGENTDECK_CREDITS_PER_USD: a positive decimal.
func ParseCreditsPerUSD(s string) (*big.Rat, error) {
	r, ok := parseDecimal(s)
	if !ok || r.Sign() <= 0 {
		return nil, fmt.Errorf("%q is not a positive decimal number", s)
	}
	return r, nil
}
