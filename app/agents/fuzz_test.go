package agents_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
	"github.com/agentdeck/agentdeck/app/apptest"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// otlpSeeds are the recorded exports of the real agents; with the corpus
// in testdata/fuzz/FuzzOTLPLogs they are applied to both databases.
var otlpSeeds = []string{
	"claude_json/otlp_0002_v1_logs.json", "claude_protobuf/otlp_0002_v1_logs.pb", "claude_protobuf/otlp_0003_v1_logs.pb",
	"claude_stopfailure/otlp_0001_v1_logs.json", "codex/otlp_0001_v1_logs.json", "codex/otlp_0003_v1_logs.json",
}

// reportsOfExport decodes a logs export in either encoding and maps it.
func reportsOfExport(body []byte) []agents.Batch {
	var out []agents.Batch
	for _, decode := range []func(plogotlp.ExportRequest, []byte) error{
		plogotlp.ExportRequest.UnmarshalProto, plogotlp.ExportRequest.UnmarshalJSON,
	} {
		req := plogotlp.NewExportRequest()
		if decode(req, body) == nil {
			out = append(out, agents.FromLogs(req.Logs()))
		}
	}
	return out
}

// FuzzOTLPLogs feeds the OTLP logs mapping arbitrary exports in both
// encodings. Whatever decodes as OTLP must map without a panic into reports
// that count every record once and carry no negative usage. (Applying them
// to a store is proved for the whole corpus by
// TestOTLPCorpusAppliesOnBothDatabases: the store's SQLite engine, under the
// fuzzer's coverage instrumentation, runs too slowly to fuzz through.)
func FuzzOTLPLogs(f *testing.F) {
	// The smallest recording seeds the fuzzer with a real export; the
	// larger ones only slow its minimizing (they are all applied below).
	seed, err := os.ReadFile(filepath.Join(recorded, "claude_protobuf/otlp_0003_v1_logs.pb"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, batch := range reportsOfExport(body) {
			if batch.Unrecognised > batch.Records {
				t.Fatalf("%d records, %d unrecognised", batch.Records, batch.Unrecognised)
			}
			for _, r := range batch.Reports {
				if r.Channel != app.ChannelOTLP {
					t.Fatalf("a report on channel %q", r.Channel)
				}
				if u := r.Usage; u != nil && (u.Tokens.Input < 0 || u.Tokens.CachedInput < 0 || u.Tokens.Output < 0 || u.CostUSD != nil && u.CostUSD.Sign() < 0) {
					t.Fatalf("negative usage %+v", u)
				}
			}
		}
	})
}

func TestOTLPCorpusAppliesOnBothDatabases(t *testing.T) {
	var bodies [][]byte
	for _, path := range otlpSeeds {
		b, err := os.ReadFile(filepath.Join(recorded, path))
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	corpus, err := filepath.Glob("testdata/fuzz/FuzzOTLPLogs/*")
	if err != nil || len(corpus) == 0 {
		t.Fatalf("no committed corpus: %v", err)
	}
	for _, path := range corpus {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1\n[]byte("…")
		lines := strings.SplitN(string(raw), "\n", 2)
		quoted := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(lines[1], "[]byte(")), ")")
		body, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		bodies = append(bodies, []byte(body))
	}
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		ctx := context.Background()
		u := &app.User{Handle: "corpus"}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		v, err := s.Viewer(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		applied := 0
		for i, body := range bodies {
			for _, batch := range reportsOfExport(body) {
				res, err := s.Report(ctx, v, batch.Reports)
				if err != nil {
					t.Fatalf("export %d: %v", i, err)
				}
				applied += res.Applied
			}
		}
		if applied == 0 {
			t.Error("nothing of the corpus applied")
		}
	})
}
