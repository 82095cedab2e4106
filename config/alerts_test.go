package config_test

import (
	"testing"

	"github.com/agentdeck/agentdeck/config"
)

// Alerts call public https addresses only unless private ones are allowed;
// a file of extra certificates is named, and read by the server.
func TestAlertSettingsAreRead(t *testing.T) {
	c, err := config.Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.AllowPrivateWebhooks || c.WebhookCAFile != "" {
		t.Errorf("defaults: private %v, CA file %q; want off and none", c.AllowPrivateWebhooks, c.WebhookCAFile)
	}
	for value, want := range map[string]bool{"1": true, "true": true, "on": true, "0": false, "no": false, "": false} {
		c, err := config.Load(nil, env(map[string]string{"AGENTDECK_ALLOW_PRIVATE_WEBHOOKS": value, "AGENTDECK_WEBHOOK_CA_FILE": "/etc/ca.pem"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.AllowPrivateWebhooks != want || c.WebhookCAFile != "/etc/ca.pem" {
			t.Errorf("AGENTDECK_ALLOW_PRIVATE_WEBHOOKS=%q: private %v, CA file %q", value, c.AllowPrivateWebhooks, c.WebhookCAFile)
		}
	}
}
