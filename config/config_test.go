package config_test

import (
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/config"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
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
