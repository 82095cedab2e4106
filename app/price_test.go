package app

import (
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

func TestCreditsFromMoneyAreRoundedHalfEvenPerRecord(t *testing.T) {
	p := DefaultPricing()
	usd := func(f float64) *big.Rat {
		r, ok := USDFromFloat(f)
		if !ok {
			t.Fatalf("USDFromFloat(%v) refused", f)
		}
		return r
	}
	micros := func(n int64) *big.Rat {
		r, ok := USDFromMicros(n)
		if !ok {
			t.Fatalf("USDFromMicros(%d) refused", n)
		}
		return r
	}
	cases := []struct {
		name string
		cost *big.Rat
		want string
	}{
		{"float noise is rounded away", usd(0.00018399999999999997), "0.0184"},
		{"the same cost in micro-dollars", micros(184), "0.0184"},
		{"an exact binary fraction", usd(0.25), "25.00"},
		{"a tie rounds to even (down)", big.NewRat(25, 1_000_000_000), "0.000002"}, // 2.5 millionths of a credit
		{"a tie rounds to even (up)", big.NewRat(75, 1_000_000_000), "0.000008"},   // 7.5 millionths
		{"below a tie rounds down", big.NewRat(24, 1_000_000_000), "0.000002"},     // 2.4 millionths
		{"above a tie rounds up", big.NewRat(26, 1_000_000_000), "0.000003"},       // 2.6 millionths
		{"a whole dollar", usd(1), "100.00"},
	}
	for _, c := range cases {
		got, ok := p.Credits(Usage{CostUSD: c.cost})
		if !ok || got.String() != c.want {
			t.Errorf("%s: %s credits (%v), want %s", c.name, got, ok, c.want)
		}
	}
	half, _ := ParseCreditsPerUSD("0.5")
	p.CreditsPerUSD = half
	if got, _ := p.Credits(Usage{CostUSD: usd(3)}); got.String() != "1.50" {
		t.Errorf("at 0.5 credits per dollar, $3 is %s credits, want 1.50", got)
	}
}

func TestUSDRefusesWhatNoRecordReports(t *testing.T) {
	for _, f := range []float64{-0.01, 1e300, maxRecordUSD + 1} {
		if _, ok := USDFromFloat(f); ok {
			t.Errorf("USDFromFloat(%v) was accepted", f)
		}
	}
	if _, ok := USDFromMicros(-1); ok {
		t.Error("negative micro-dollars were accepted")
	}
}

func TestPriceTablePricesTokensExactly(t *testing.T) {
	table := EmbeddedPrices()
	if table.Date == "" {
		t.Fatal("the embedded price table has no date")
	}
	p := DefaultPricing()
	// gpt-5: $1.25 per million input, $0.125 cached, $10 output.
	u := Usage{Model: "gpt-5", Tokens: Tokens{Input: 1_000_000, CachedInput: 200_000, Output: 10_000}}
	got, ok := p.Credits(u)
	// 800,000 × 1.25 + 200,000 × 0.125 + 10,000 × 10 = 1.0 + 0.025 + 0.1 = $1.125.
	if !ok || got.String() != "112.50" {
		t.Errorf("gpt-5 tokens cost %s credits (%v), want 112.50", got, ok)
	}
	if got2, _ := p.Credits(Usage{Model: "gpt-5-2025-08-07", Tokens: u.Tokens}); got2 != got {
		t.Errorf("a dated release priced %s, its family %s", got2, got)
	}
	if got3, _ := p.Credits(Usage{Model: "gpt-5-mini", Tokens: u.Tokens}); got3 == got {
		t.Error("gpt-5-mini took gpt-5's price: prefix matching must prefer the longest name")
	}
	if _, ok := p.Credits(Usage{Model: "no-such-model", Tokens: u.Tokens}); ok {
		t.Error("a model missing from the table was priced")
	}
	if c, ok := p.Credits(Usage{Model: "no-such-model", CostUSD: big.NewRat(1, 100)}); !ok || c.String() != "1.00" {
		t.Errorf("a reported cost of a model without a price gave %s (%v), want 1.00: reported money needs no table", c, ok)
	}
}

func TestPriceTableFileReplacesTheEmbeddedOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prices.json")
	os.WriteFile(path, []byte(`{"date": "2026-12-01", "models": {"house-model": {"input": "2", "output": "4"}}}`), 0o600)
	table, err := LoadPrices(path)
	if err != nil {
		t.Fatal(err)
	}
	p := Pricing{CreditsPerUSD: big.NewRat(100, 1), Prices: table}
	// No cached price: cached tokens cost the input price.
	got, ok := p.Credits(Usage{Model: "house-model", Tokens: Tokens{Input: 500_000, CachedInput: 250_000, Output: 250_000}})
	if !ok || got.String() != "200.00" {
		t.Errorf("house-model: %s (%v), want 200.00", got, ok)
	}
	if _, ok := p.Credits(Usage{Model: "gpt-5", Tokens: Tokens{Input: 1}}); ok {
		t.Error("the replaced table still priced gpt-5")
	}
	for _, bad := range []string{`{"models": {"m": {"input": "-1", "output": "1"}}}`, `{"models": {"m": {"input": "1e3", "output": "1"}}}`, `not json`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := LoadPrices(path); err == nil {
			t.Errorf("price table %s was accepted", bad)
		}
	}
}
