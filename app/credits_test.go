package app_test

import (
	"encoding/json"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

func TestParseCredits(t *testing.T) {
	good := map[string]string{
		"0": "0.00", "1": "1.00", "1.5": "1.50", "0.25": "0.25", "12.345678": "12.345678",
		"007.10": "7.10", "3.1400000": "3.14", "999999999.999999": "999999999.999999",
	}
	for in, want := range good {
		c, err := app.ParseCredits(in)
		if err != nil || c.String() != want {
			t.Errorf("ParseCredits(%q) = %s, %v; want %s", in, c, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.", ".5", "1.2.3", "1e3", "0x10", "1,5", "1.0000001", "1000000000", "NaN", " "} {
		if c, err := app.ParseCredits(in); err == nil {
			t.Errorf("ParseCredits(%q) = %s, want an error", in, c)
		}
	}
}

func TestCreditsJSONAcceptsNumbersAndStringsExactly(t *testing.T) {
	var v struct{ A, B app.Credits }
	if err := json.Unmarshal([]byte(`{"A": 0.1, "B": "0.2"}`), &v); err != nil {
		t.Fatal(err)
	}
	if sum := v.A + v.B; sum.String() != "0.30" {
		t.Errorf("0.1 + 0.2 = %s, want exactly 0.30", sum)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"A":"0.10","B":"0.20"}` {
		t.Errorf("marshalled as %s", out)
	}
	for _, bad := range []string{`{"A": -1}`, `{"A": 1e2}`, `{"A": true}`, `{"A": "abc"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}
