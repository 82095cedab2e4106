package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "agentdeck ") {
		t.Errorf("version printed %q", out.String())
	}
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "AGENTDECK_DATA_DIR" {
			return dir
		}
		return ""
	}
	for i := range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"bogus"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("got %v", err)
	}
}
