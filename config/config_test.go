package config_test

import (
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/config"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Command != "serve" || c.Addr != "127.0.0.1:8080" || c.DataDir != "data" || c.Demo {
		t.Errorf("defaults: %+v", c)
	}
	if c.DSN() != "data/agentdeck.db" || c.PublicURL() != "http://127.0.0.1:8080" || c.Secure() {
		t.Errorf("derived: dsn %q, url %q, secure %v", c.DSN(), c.PublicURL(), c.Secure())
	}
}

func TestFlagsOverrideTheEnvironment(t *testing.T) {
	c, err := config.Load([]string{"serve", "--addr", "127.0.0.1:9999", "--demo"}, env(map[string]string{"AGENTDECK_ADDR": "127.0.0.1:1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || !c.Demo || c.DSN() != "data/demo.db" {
		t.Errorf("got addr %q demo %v dsn %q", c.Addr, c.Demo, c.DSN())
	}
}

func TestDemoOnlyOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true,
		"0.0.0.0:8080": false, "192.168.1.5:8080": false, ":8080": false,
	} {
		_, err := config.Load([]string{"--demo", "--addr", addr}, env(nil))
		if (err == nil) != ok {
			t.Errorf("demo on %s: err %v, want allowed=%v", addr, err, ok)
		}
	}
	_, err := config.Load([]string{"--demo", "--addr", "0.0.0.0:8080"},
		env(map[string]string{"AGENTDECK_DEMO_ON_PUBLIC_ADDRESS_I_UNDERSTAND_ANYONE_CAN_SIGN_IN": "1"}))
	if err != nil {
		t.Errorf("the explicit setting must allow it: %v", err)
	}
}

func TestBadConfigurationIsRefusedClearly(t *testing.T) {
	cases := []struct {
		args []string
		vars map[string]string
		says string
	}{
		{[]string{"frobnicate"}, nil, "unknown command"},
		{[]string{"serve", "--nope"}, nil, "flag provided but not defined"},
		{nil, map[string]string{"AGENTDECK_ADDR": "8080"}, "HOST:PORT"},
		{nil, map[string]string{"AGENTDECK_BASE_URL": "example.com"}, "absolute http(s) URL"},
		{nil, map[string]string{"OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"}, "OIDC_ISSUER"},
	}
	for _, c := range cases {
		_, err := config.Load(c.args, env(c.vars))
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%v %v: error %v, want one saying %q", c.args, c.vars, err, c.says)
		}
	}
}

func TestSessionKeys(t *testing.T) {
	dir := t.TempDir()
	c, _ := config.Load(nil, env(map[string]string{"AGENTDECK_DATA_DIR": dir}))
	first, err := c.LoadSessionKeys()
	if err != nil || len(first) != 1 {
		t.Fatalf("generated keys: %v %v", first, err)
	}
	again, _ := c.LoadSessionKeys()
	if string(again[0]) != string(first[0]) {
		t.Errorf("the generated key must be kept in the data dir")
	}
	c, _ = config.Load(nil, env(map[string]string{"AGENTDECK_SESSION_KEYS": strings.Repeat("n", 32) + ", " + strings.Repeat("o", 32)}))
	keys, err := c.LoadSessionKeys()
	if err != nil || len(keys) != 2 || keys[0][0] != 'n' {
		t.Errorf("configured keys: %q %v", keys, err)
	}
	c, _ = config.Load(nil, env(map[string]string{"AGENTDECK_SESSION_KEYS": "short"}))
	if _, err := c.LoadSessionKeys(); err == nil {
		t.Errorf("a short key must be refused")
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := config.Load(nil, env(map[string]string{"AGENTDECK_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,,fd00::/8, ::1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range cfg.TrustedProxies {
		got = append(got, n.String())
	}
	if want := "10.0.0.0/8 192.0.2.1/32 fd00::/8 ::1/128"; strings.Join(got, " ") != want {
		t.Errorf("trusted proxies %v, want %s", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "192.0.2.300"} {
		if _, err := config.Load(nil, env(map[string]string{"AGENTDECK_TRUSTED_PROXIES": bad})); err == nil || !strings.Contains(err.Error(), "AGENTDECK_TRUSTED_PROXIES") {
			t.Errorf("AGENTDECK_TRUSTED_PROXIES=%s: %v, want an error naming the variable", bad, err)
		}
	}
	cfg, err = config.Load(nil, env(nil))
	if err != nil || len(cfg.TrustedProxies) != 0 {
		t.Errorf("unset: %v, %v; want no trusted proxy", cfg.TrustedProxies, err)
	}
}

func TestAgentSettings(t *testing.T) {
	c, err := config.Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.CreditsPerUSD.RatString() != "100" || c.StaleAfter.String() != "30m0s" || c.AbandonAfter.String() != "24h0m0s" || c.PricesFile != "" {
		t.Errorf("defaults: %s credits per dollar, stale after %v, abandoned after %v, prices %q", c.CreditsPerUSD.RatString(), c.StaleAfter, c.AbandonAfter, c.PricesFile)
	}
	c, err = config.Load(nil, env(map[string]string{
		"AGENTDECK_CREDITS_PER_USD": "2.5", "AGENTDECK_STALE_AFTER": "90s", "AGENTDECK_ABANDON_AFTER": "2h", "AGENTDECK_PRICES": "/etc/prices.json",
	}))
	if err != nil || c.CreditsPerUSD.RatString() != "5/2" || c.StaleAfter.String() != "1m30s" || c.AbandonAfter.String() != "2h0m0s" || c.PricesFile != "/etc/prices.json" {
		t.Errorf("set: %+v %v", c, err)
	}
	for name, bad := range map[string]string{
		"AGENTDECK_CREDITS_PER_USD": "-1", "AGENTDECK_STALE_AFTER": "soon", "AGENTDECK_ABANDON_AFTER": "-5m",
	} {
		if _, err := config.Load(nil, env(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v, want an error naming the variable", name, bad, err)
		}
	}
	for _, bad := range []string{"0", "1e3", "1/3", "abc"} {
		if _, err := config.Load(nil, env(map[string]string{"AGENTDECK_CREDITS_PER_USD": bad})); err == nil {
			t.Errorf("AGENTDECK_CREDITS_PER_USD=%s was accepted", bad)
		}
	}
}

func TestTheLimitsOfClientsAreRead(t *testing.T) {
	c, err := config.Load(nil, env(map[string]string{
		"AGENTDECK_MAX_TOKENS_PER_USER": "7", "AGENTDECK_MAX_CONNS_PER_ADDRESS": "64", "AGENTDECK_BODY_TIMEOUT": "5s",
		"AGENTDECK_OPEN_URL_SCHEMES": " HTTPS, vscode ,,house-ide",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxTokensPerUser != 7 || c.ConnsPerAddress != 64 || c.BodyTimeout.String() != "5s" ||
		strings.Join(c.OpenURLSchemes, "|") != "https|vscode|house-ide" {
		t.Errorf("got tokens %d, conns %d, body timeout %s, schemes %q", c.MaxTokensPerUser, c.ConnsPerAddress, c.BodyTimeout, c.OpenURLSchemes)
	}
	c, err = config.Load(nil, env(nil))
	if err != nil || c.MaxTokensPerUser != 0 || c.ConnsPerAddress != 0 || c.BodyTimeout != 0 || c.OpenURLSchemes != nil {
		t.Errorf("unset, they keep the defaults (zero): %+v, %v", c, err)
	}
	for name, bad := range map[string]string{"AGENTDECK_MAX_TOKENS_PER_USER": "0", "AGENTDECK_MAX_CONNS_PER_ADDRESS": "lots", "AGENTDECK_BODY_TIMEOUT": "-1s"} {
		if _, err := config.Load(nil, env(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v, want one naming it", name, bad, err)
		}
	}
}
