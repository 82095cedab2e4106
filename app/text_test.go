package app_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/apptest"
)

func TestCleanTextReplacesEachNulAndInvalidByte(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain text, ünïcödé ✓", "plain text, ünïcödé ✓"},
		{"a\x00b", "a\uFFFDb"},
		{"\x00\x00", "\uFFFD\uFFFD"},
		{"bad \xff\xfe bytes", "bad \uFFFD\uFFFD bytes"},
		{"cut \xe2\x9c", "cut \uFFFD\uFFFD"},
		{"\uFFFD stays", "\uFFFD stays"},
	} {
		if got := app.CleanText(c.in); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
		if !app.IsCleanText(app.CleanText(c.in)) {
			t.Errorf("CleanText(%q) is not clean", c.in)
		}
	}
	for _, dirty := range []string{"a\x00", "\xff", "\xe2\x9c"} {
		if app.IsCleanText(dirty) {
			t.Errorf("%q passed as clean text", dirty)
		}
	}
}

func TestCleanDataCleansKeysAndStringsAndRefusesNumbersNoFloatHolds(t *testing.T) {
	for _, c := range []struct {
		in, want, field string // field: the member an error names; "" when accepted
	}{
		{`{"a":1}`, `{"a":1}`, ""},
		{`{ "b" : [1, 2.50, -0, 1e-300, 123456789012345678901234567890], "a" : {"<x>": "&"} }`,
			`{"a":{"<x>":"&"},"b":[1,2.50,-0,1e-300,123456789012345678901234567890]}`, ""},
		{`{"k\u0000":"v\u0000"}`, "{\"k\uFFFD\":\"v\uFFFD\"}", ""},
		{`{"lone":"\ud800"}`, "{\"lone\":\"\uFFFD\"}", ""},
		{`{"n":1e400}`, "", "events[0].data.n"},
		{`{"n":{"deep":[0, 1e-20000]}}`, "", "events[0].data.n.deep[1]"},
		{`{"n":-1E+999}`, "", "events[0].data.n"},
		{`[1]`, "", "events[0].data"},
		{`{"a":1} {"b":2}`, "", "events[0].data"},
		{`{"a":`, "", "events[0].data"},
	} {
		got, err := app.CleanData(c.in, "events[0].data")
		if c.field != "" {
			var e *app.Error
			if !errors.As(err, &e) || e.Code != app.EInvalid || e.Field != c.field {
				t.Errorf("CleanData(%s) = %q, %v; want invalid, naming %s", c.in, got, err, c.field)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CleanData(%s) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestStoredTextFollowsTheTextRuleOnBothDatabases(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()

		// Reported text is cleaned: a stray byte costs one character.
		it, _, err := s.CreateRun(ctx, w.alice, app.NewRun{Kind: app.KindAmbient, Title: "a\x00b\xff",
			Where: app.Where{Cwd: "/tmp/\x00", Repo: "acme/\xfe", Branch: "main\x00"}})
		mustOK(t, err)
		if it.Title != "a\uFFFDb\uFFFD" || it.Where.Cwd != "/tmp/\uFFFD" || it.Where.Repo != "acme/\uFFFD" || it.Where.Branch != "main\uFFFD" {
			t.Errorf("created %q at %+v, want NUL and invalid bytes as U+FFFD", it.Title, it.Where)
		}
		title := "patched\x00"
		it, err = s.UpdateRun(ctx, w.alice, it.ID, app.RunChange{Title: &title})
		mustOK(t, err)
		if it.Title != "patched\uFFFD" {
			t.Errorf("patched title %q, want patched\uFFFD", it.Title)
		}
		_, _, err = s.AppendEvents(ctx, w.alice, it.ID, []*app.Event{
			{Seq: 1, Type: app.EventLog, Text: "before"},
			{Seq: 2, Type: app.EventLog, Text: "a\x00b", Data: `{"stream\u0000":"std\u0000err","n":1.50}`},
			{Seq: 3, Type: app.EventLog, Text: "after\xff"},
		})
		mustOK(t, err)
		_, _, err = s.AppendNumberedEvents(ctx, w.alice, it.ID, "batch-1", []*app.Event{{Type: app.EventLog, Text: "numbered\x00"}}, nil)
		mustOK(t, err)
		page, err := s.Events(ctx, it.ID, app.EventQuery{})
		mustOK(t, err)
		var texts []string
		for _, e := range page.Events {
			texts = append(texts, e.Text)
		}
		if want := []string{"before", "a\uFFFDb", "after\uFFFD", "numbered\uFFFD"}; !equalStrings(texts, want) {
			t.Errorf("stored texts %q, want %q", texts, want)
		}
		if m := page.Events[1].DataMap(); m["stream\uFFFD"] != "std\uFFFDerr" || m["n"] != 1.5 {
			t.Errorf("stored data %s, want its key and value cleaned and its number kept", page.Events[1].Data)
		}

		// Names and keys are refused, and lookups by them find nothing.
		refusals := map[string]error{
			"data number 1e-20000": appendOne(ctx, s, w.alice, it.ID, 10, `{"x":1e-20000}`),
			"data number 1e400":    appendOne(ctx, s, w.alice, it.ID, 11, `{"x":[1e400]}`),
			"team name with NUL":   s.CreateTeam(ctx, &app.Team{Name: "a\x00b"}, w.alice.User.ID),
			"team name not UTF-8":  s.CreateTeam(ctx, &app.Team{Name: "a\xffb"}, w.alice.User.ID),
			"rename with NUL":      s.RenameTeam(ctx, w.alice, w.red.ID, "a\x00b"),
		}
		_, _, refusals["token name with NUL"] = s.CreateAccessToken(ctx, w.alice.User.ID, "a\x00b", time.Time{})
		_, _, refusals["token name not UTF-8"] = s.CreateAccessToken(ctx, w.alice.User.ID, "a\xffb", time.Time{})
		_, _, refusals["create key with NUL"] = s.CreateRun(ctx, w.alice, app.NewRun{Kind: app.KindAmbient, Title: "t", IdempotencyKey: "k\x00"})
		_, _, refusals["batch key not UTF-8"] = s.AppendNumberedEvents(ctx, w.alice, it.ID, "k\xff", []*app.Event{{Type: app.EventLog}}, nil)
		for what, err := range refusals {
			if app.ErrorCode(err) != app.EInvalid {
				t.Errorf("%s: %v, want invalid", what, err)
			}
		}
		if _, err := s.UserByHandle(ctx, "a\x00b"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("a handle with NUL: %v, want not found", err)
		}
		if _, err := s.Membership(ctx, w.alice, "\x00"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("a slug of NUL: %v, want not found", err)
		}
		if _, _, err := s.CreateRun(ctx, w.alice, app.NewRun{Kind: app.KindAmbient, Title: "t", Team: "red\x00"}); app.ErrorCode(err) != app.EUnprocessable {
			t.Errorf("a team slug with NUL: %v, want unprocessable (not a team of yours)", err)
		}
	})
}

func appendOne(ctx context.Context, s *app.Store, v app.Viewer, id string, seq int64, data string) error {
	_, _, err := s.AppendEvents(ctx, v, id, []*app.Event{{Seq: seq, Type: app.EventLog, Data: data}})
	return err
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSummaryOfThousandsOfItemsAtMostCreditsDoesNotOverflow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		// bob fills red with items at the most credits an item may have:
		// twice what overflowed a 64-bit sum before.
		const n = 10_000
		items := make([]*app.Item, n)
		for i := range items {
			items[i] = &app.Item{ID: app.NewItemID(), Kind: app.KindAmbient, Source: app.SourceSlack, Status: app.StatusSuccess,
				Title: "expensive", CreatorID: w.bob.User.ID, TeamID: w.red.ID, Visibility: app.VisibilityTeam,
				Inference: app.MaxCredits, Compute: app.MaxCredits, CreatedAt: w.now, UpdatedAt: w.now}
		}
		for chunk := range slicesChunk(items, 1000) {
			if _, err := s.DB().NewInsert().Model(&chunk).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		f, _ := app.ParseFilter(map[string][]string{"tab": {"all"}})
		q, _, _, err := s.ResolveFilter(ctx, w.alice, f)
		mustOK(t, err)
		sum, err := s.Summary(ctx, q)
		if err != nil {
			t.Fatalf("summary of %d items at the most credits: %v", n, err)
		}
		if sum.Items != n || sum.Credits != app.Credits(math.MaxInt64) {
			t.Errorf("summary %d items, %s credits; want %d items and the largest amount", sum.Items, sum.Credits, n)
		}

		// Below the largest amount the sum is exact.
		it := w.item(t, w.carol, "cheap", func(it *app.Item) { it.Inference, it.Compute = app.MaxCredits, 1 })
		mustOK(t, err)
		f, _ = app.ParseFilter(nil)
		q, _, _, err = s.ResolveFilter(ctx, w.carol, f)
		mustOK(t, err)
		sum, err = s.Summary(ctx, q)
		mustOK(t, err)
		if want := it.Inference + it.Compute; sum.Items != 1 || sum.Credits != want {
			t.Errorf("carol's summary %d items, %s credits; want 1 item, %s", sum.Items, sum.Credits, want)
		}
	})
}

// slicesChunk yields items in chunks of at most n.
func slicesChunk(items []*app.Item, n int) func(func([]*app.Item) bool) {
	return func(yield func([]*app.Item) bool) {
		for len(items) > 0 {
			k := min(n, len(items))
			if !yield(items[:k]) {
				return
			}
			items = items[k:]
		}
	}
}

func TestCreditsAboveTheMostAnItemMayHaveAreRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		if _, err := app.ParseCredits("1000000000"); err == nil {
			t.Error("1,000,000,000 credits parsed")
		}
		if c, err := app.ParseCredits("999999999.999999"); err != nil || c != app.MaxCredits {
			t.Errorf("999,999,999.999999 credits = %v, %v; want the most an item may have", c, err)
		}
		it := &app.Item{Kind: app.KindAmbient, Source: app.SourceCLI, Title: "t", CreatorID: w.alice.User.ID, Inference: app.MaxCredits + 1}
		if err := s.CreateItem(ctx, it); app.ErrorCode(err) != app.EInvalid {
			t.Errorf("an item above the most credits: %v, want invalid", err)
		}
	})
}

func TestConcurrentAppendsInOppositeOrdersNeitherDeadlockNorFail(t *testing.T) {
	apptest.Each(t, func(t *testing.T, s *app.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		// In each round 16 writers send one run's seqs 1..1000 at once, one
		// batch each, half of them in ascending order and half descending:
		// on PostgreSQL most rounds deadlocked before.
		const rounds, writers, seqs = 5, 16, app.MaxEventBatch
		for round := range rounds {
			it := w.item(t, w.alice, fmt.Sprintf("busy %d", round), func(it *app.Item) { it.Status = app.StatusWorking })
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for wr := range writers {
				wg.Go(func() {
					batch := make([]*app.Event, seqs)
					for i := range batch {
						seq := int64(i + 1)
						if wr%2 == 1 {
							seq = seqs - int64(i)
						}
						batch[i] = &app.Event{Seq: seq, Type: app.EventLog, Text: "line"}
					}
					if _, _, err := s.AppendEvents(ctx, w.alice, it.ID, batch); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("round %d: append failed: %v", round+1, err)
			}
			page, err := s.Events(ctx, it.ID, app.EventQuery{Limit: app.MaxEventBatch})
			mustOK(t, err)
			if len(page.Events) != seqs || page.More {
				t.Errorf("round %d: %d events stored (more: %v), want each of %d once", round+1, len(page.Events), page.More, seqs)
			}
		}
	})
}
