package app

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// SeedOptions sizes the generated data set.
type SeedOptions struct {
	Users int       // people; the first six have names of their own
	Teams int       // teams; every user joins one or two
	Items int       // items spread over the last Days days
	Days  int       // how far back the items reach
	Now   time.Time // the newest possible creation time
	Seed  uint64    // same seed and Now, same data
	// Contents gives every item its transcript, log and outputs (see
	// seedContents); the demo has them, the benchmarks' millions do not.
	Contents bool
	// Resumable stores the items a chunk per transaction, and an
	// interrupted seed, run again with the same options, goes on from the
	// last chunk stored: for the benchmarks' millions.
	Resumable bool
	// ChunkItems is how many items a chunk holds (seedChunk when 0); each
	// chunk draws from a random source of its own.
	ChunkItems int
}

// DemoSeed is the data set of demo mode: a small company's month.
func DemoSeed(now time.Time) SeedOptions {
	return SeedOptions{Users: 6, Teams: 2, Items: 3000, Days: 30, Now: now, Seed: 2026, Contents: true}
}

var seedPeople = []struct{ handle, name string }{
	{"maya", "Maya Chen"}, {"jonas", "Jonas Weber"}, {"priya", "Priya Raman"},
	{"tomas", "Tomás Ortega"}, {"aiko", "Aiko Tanaka"}, {"sam", "Sam Okafor"},
}

var seedTeams = []struct{ slug, name string }{{"platform", "Platform"}, {"product", "Product"}}

// seedTitles are realistic titles per source; %d is filled with a number.
var seedTitles = map[Source][]string{
	SourceInteractive: {
		"Refactor the billing webhook handler", "Why does the login page flash on load?",
		"Add pagination to the audit log API", "Explain the retry logic in queue/worker.go",
		"Write tests for the CSV importer", "Migrate settings page to the new form library",
		"Speed up the search index rebuild", "Debug memory growth in the ingest service",
		"Draft an RFC for per-team rate limits", "Clean up unused feature flags",
	},
	SourceCLI: {
		"Bump Go to the latest patch release", "Fix golangci-lint warnings in pkg/auth",
		"Regenerate API client from openapi.yaml", "Rename Account to Workspace across services",
		"Convert Makefile targets to scripts", "Update snapshot tests after design refresh",
	},
	SourceAPI: {
		"Summarise incident INC-%d", "Triage support ticket #%d", "Generate release notes for v2.%d",
		"Classify new feedback batch %d", "Draft customer reply for ticket #%d",
	},
	SourceSlack: {
		"Investigate flaky checkout test (#eng-alerts)", "Why is staging returning 502s? (#platform)",
		"Find who owns the payments cron (#help-infra)", "Check error spike after deploy %d (#incidents)",
		"Draft a migration plan for Postgres 17 (#platform)", "Answer: how do feature flags roll out? (#eng)",
	},
	SourceLinear: {
		"ENG-%d: Add retry to webhook delivery", "ENG-%d: Dark mode for the settings page",
		"ENG-%d: Fix timezone bug in reports", "ENG-%d: Remove deprecated v1 endpoints",
		"ENG-%d: Cache avatar images at the edge", "ENG-%d: Validate e-mail on invite",
	},
	SourceGitHubActions: {
		"CI: fix lint failures on PR #%d", "CI: update failing snapshot on PR #%d",
		"Review PR #%d for security issues", "Resolve merge conflicts on PR #%d",
		"Backport fix to release branch (#%d)",
	},
	SourceScheduled: {
		"Nightly dependency update", "Weekly flaky-test report", "Daily error budget summary",
		"Rotate stale preview environments", "Nightly docs link check",
	},
}

// seedRand wraps a deterministic generator with the draws the seed needs.
type seedRand struct{ *rand.Rand }

func (r seedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return len(p), nil
}

// logNormal draws a positive value around median with the given spread.
func (r seedRand) logNormal(median, spread float64) float64 {
	return math.Exp(math.Log(median) + spread*r.NormFloat64())
}

// credits rounds a draw to whole cents of a credit.
func (r seedRand) credits(median, spread float64) Credits {
	return Credits(math.Round(r.logNormal(median, spread)*100)) * (creditUnit / 100)
}

func pick[T any](r seedRand, weights []int, values []T) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return values[i]
		}
		n -= w
	}
	return values[len(values)-1]
}

// seedChunk is how many items one generator draws, and, when seeding is
// resumable, one transaction stores, unless the options say otherwise: each
// chunk has a random source of its own, so that any chunk can be made again
// without the ones before it.
const seedChunk = 100_000

// Seed fills an empty store with deterministic, realistic users, teams and
// items: every source and status, credits and durations with a realistic
// spread, and a few items working right now. It is one transaction unless
// o.Resumable.
func (s *Store) Seed(ctx context.Context, o SeedOptions) error {
	// One connection, so that on PostgreSQL the items can be copied in on
	// the very connection that holds the transaction.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("app: seed: %w", err)
	}
	defer conn.Close()
	o.ChunkItems = cmp.Or(o.ChunkItems, seedChunk)
	if !o.Resumable {
		return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			people, err := s.seedPeople(ctx, tx, o)
			if err != nil {
				return err
			}
			for chunk := range (o.Items + o.ChunkItems - 1) / o.ChunkItems {
				if err := s.seedItems(ctx, conn, tx, o, people, chunk); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var people seededPeople
	err = conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		people, err = s.peopleToResume(ctx, tx, o)
		return err
	})
	if err != nil {
		return err
	}
	count, err := conn.NewSelect().TableExpr("items").Count(ctx)
	if err != nil {
		return fmt.Errorf("app: seed: count items: %w", err)
	}
	stored := int(count)
	if stored == o.Items {
		return nil
	}
	if stored%o.ChunkItems != 0 {
		return fmt.Errorf("app: seed: %d items are stored, not a whole number of chunks of %d: not a resumable seed", stored, o.ChunkItems)
	}
	for chunk := stored / o.ChunkItems; chunk*o.ChunkItems < o.Items; chunk++ {
		err := conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return s.seedItems(ctx, conn, tx, o, people, chunk)
		})
		if err == nil && afterSeedChunk != nil {
			err = afterSeedChunk(chunk)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// afterSeedChunk, set by the tests, runs once each chunk of a resumable seed
// is stored; an error stops the seed there, as an interruption would.
var afterSeedChunk func(chunk int) error

// seededPeople are the users and teams items are made for, and the teams
// (indexes into teams) of each user.
type seededPeople struct {
	users   []*User
	teams   []*Team
	teamsOf [][]int
}

// peopleToResume makes the people of a resumable seed unless an earlier run
// did, and reads them back when it did.
func (s *Store) peopleToResume(ctx context.Context, tx bun.Tx, o SeedOptions) (seededPeople, error) {
	var p seededPeople
	if err := tx.NewSelect().Model(&p.users).Order("id").Scan(ctx); err != nil {
		return p, fmt.Errorf("app: seed: users: %w", err)
	}
	if len(p.users) == 0 {
		return s.seedPeople(ctx, tx, o)
	}
	if err := tx.NewSelect().Model(&p.teams).Order("id").Scan(ctx); err != nil {
		return p, fmt.Errorf("app: seed: teams: %w", err)
	}
	if len(p.users) != o.Users || len(p.teams) != o.Teams {
		return p, fmt.Errorf("app: seed: %d users and %d teams are stored, not %d and %d", len(p.users), len(p.teams), o.Users, o.Teams)
	}
	p.teamsOf = seedMemberships(p.users, p.teams)
	return p, nil
}

// seedPeople stores the users, the teams and their memberships.
func (s *Store) seedPeople(ctx context.Context, tx bun.Tx, o SeedOptions) (seededPeople, error) {
	now := o.Now.UTC().Truncate(time.Second)
	users := make([]*User, o.Users)
	for i := range users {
		u := &User{Handle: fmt.Sprintf("user%03d", i+1), Name: fmt.Sprintf("User %03d", i+1), CreatedAt: now.AddDate(0, 0, -o.Days-30)}
		if i < len(seedPeople) {
			u.Handle, u.Name = seedPeople[i].handle, seedPeople[i].name
		}
		u.Email = u.Handle + "@example.com"
		users[i] = u
	}
	if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
		return seededPeople{}, fmt.Errorf("app: seed users: %w", err)
	}
	teams := make([]*Team, o.Teams)
	for i := range teams {
		t := &Team{Slug: fmt.Sprintf("team-%02d", i+1), Name: fmt.Sprintf("Team %02d", i+1), CreatedAt: now.AddDate(0, 0, -o.Days-30)}
		if i < len(seedTeams) {
			t.Slug, t.Name = seedTeams[i].slug, seedTeams[i].name
		}
		teams[i] = t
	}
	if len(teams) > 0 {
		if _, err := tx.NewInsert().Model(&teams).Exec(ctx); err != nil {
			return seededPeople{}, fmt.Errorf("app: seed teams: %w", err)
		}
	}
	teamsOf := seedMemberships(users, teams)
	var members []*Membership
	hasAdmin := map[int]bool{}
	for ui, ts := range teamsOf {
		for _, ti := range ts {
			role := RoleMember
			if !hasAdmin[ti] {
				role, hasAdmin[ti] = RoleAdmin, true
			}
			members = append(members, &Membership{TeamID: teams[ti].ID, UserID: users[ui].ID, Role: role, CreatedAt: users[ui].CreatedAt})
		}
	}
	if len(members) > 0 {
		if _, err := tx.NewInsert().Model(&members).Exec(ctx); err != nil {
			return seededPeople{}, fmt.Errorf("app: seed memberships: %w", err)
		}
	}
	return seededPeople{users, teams, teamsOf}, nil
}

// seedItems makes and stores one chunk of the items, in tx (on conn).
func (s *Store) seedItems(ctx context.Context, conn bun.Conn, tx bun.Tx, o SeedOptions, p seededPeople, chunk int) error {
	r := seedRand{rand.New(rand.NewPCG(o.Seed, 0x5eed+uint64(chunk)))}
	now := o.Now.UTC().Truncate(time.Second)
	insertItems := func(items []*Item) error { return createItems(ctx, tx, now, items...) }
	if s.dialect == "postgres" {
		insertItems = func(items []*Item) error { return copyItems(ctx, conn, now, items) }
	}
	const batch = 1000
	items := make([]*Item, 0, batch)
	var events []*Event
	longLogs := 0
	span := time.Duration(o.Days) * 24 * time.Hour
	// The rest are stored oldest first, each at a random moment of its own
	// slot of the span, as a real instance stores items as they come: its
	// newest items, the ones every view reads first, lie together at the
	// end of the table rather than scattered all over it.
	slot := max(int64(span)/int64(max(o.Items-8, 1)), 1)
	last := min(o.Items, (chunk+1)*o.ChunkItems) - 1
	for i := chunk * o.ChunkItems; i <= last; i++ {
		// The first items are the newest; a handful of them are still running.
		var age time.Duration
		if i < 8 {
			age = time.Duration(i*4+1)*time.Minute + time.Duration(r.IntN(60))*time.Second
		} else {
			age = time.Duration(slot*int64(o.Items-1-i) + r.Int64N(slot))
		}
		ui := r.IntN(len(p.users))
		if i < 8 {
			ui = i % len(p.users) // everyone has something running right now
		}
		it := seedItem(r, p.users[ui], p.teamsOf[ui], p.teams, now.Add(-age), i < 8)
		if o.Contents {
			long := it.Kind == KindAmbient && it.Status.Final() && longLogs < seedLongLogs
			if long {
				longLogs++
			}
			events = append(events, seedContents(r, it, long)...)
		}
		items = append(items, it)
		if len(items) == batch || i == last {
			if err := insertItems(items); err != nil {
				return fmt.Errorf("app: seed items: %w", err)
			}
			if err := s.seedEvents(ctx, tx, events); err != nil {
				return err
			}
			items, events = items[:0], events[:0]
		}
	}
	return nil
}

// seedEvents stores seeded events, a bounded number per statement, through
// the transaction itself: the statement is in the dialect's own syntax.
func (s *Store) seedEvents(ctx context.Context, tx bun.Tx, events []*Event) error {
	const perStatement = 1000
	for len(events) > 0 {
		n := min(perStatement, len(events))
		if _, err := s.insertEvents(ctx, tx.Tx, events[:n]); err != nil {
			return fmt.Errorf("app: seed events: %w", err)
		}
		events = events[n:]
	}
	return nil
}

// copyItems checks new items and streams them into PostgreSQL with COPY on
// conn, inside the transaction open on it: a million rows load several times
// faster than through multi-row INSERTs. The columns are those of the Item
// model, so the rows stored are the ones createItems would store.
func copyItems(ctx context.Context, conn bun.Conn, now time.Time, items []*Item) error {
	if err := prepareItems(now, items); err != nil {
		return err
	}
	table := conn.Dialect().Tables().Get(reflect.TypeFor[Item]())
	columns := make([]string, len(table.Fields))
	for i, f := range table.Fields {
		columns[i] = f.Name
	}
	rows := make([][]any, len(items))
	for i, it := range items {
		v := reflect.ValueOf(it).Elem()
		row := make([]any, len(table.Fields))
		for j, f := range table.Fields {
			if !f.NullZero || !f.HasZeroValue(v) {
				row[j] = f.Value(v).Interface()
			}
		}
		rows[i] = row
	}
	return conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("app: copy items: a %T is not a pgx connection", driverConn)
		}
		if _, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{table.Name}, columns, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("app: copy %d items: %w", len(items), err)
		}
		return nil
	})
}

// seedMemberships puts every user in one team and every third user in a
// second one, so that teams overlap.
func seedMemberships(users []*User, teams []*Team) [][]int {
	out := make([][]int, len(users))
	if len(teams) == 0 {
		return out
	}
	if len(users) == len(seedPeople) && len(teams) == len(seedTeams) {
		// The demo company: priya and sam are in both teams.
		return [][]int{{0}, {0}, {0, 1}, {1}, {1}, {0, 1}}
	}
	for i := range users {
		out[i] = []int{i % len(teams)}
		if i%3 == 0 && len(teams) > 1 {
			out[i] = append(out[i], (i+1)%len(teams))
		}
	}
	return out
}

func seedItem(r seedRand, creator *User, teamIdx []int, teams []*Team, created time.Time, running bool) *Item {
	kind := pick(r, []int{40, 60}, Kinds)
	source := SourceInteractive
	if kind == KindAmbient {
		source = pick(r, []int{15, 10, 20, 15, 25, 15}, Sources[1:])
	}
	titles := seedTitles[source]
	title := titles[r.IntN(len(titles))]
	ref := 100 + r.IntN(4900) // the ticket, PR or incident number a title names
	if strings.Contains(title, "%d") {
		title = fmt.Sprintf(title, ref)
	}
	it := &Item{
		ID: uuid.Must(uuid.NewRandomFromReader(r)).String(), Kind: kind, Source: source,
		Title: title, CreatorID: creator.ID, CreatedAt: created, UpdatedAt: created,
		Visibility: VisibilityPrivate,
	}
	if len(teamIdx) > 0 && (source.Integration() || r.IntN(10) < 7) {
		it.TeamID = teams[teamIdx[r.IntN(len(teamIdx))]].ID
		if source.Integration() || r.IntN(100) < 15 {
			it.Visibility = VisibilityTeam
		}
	}
	if kind == KindInteractive {
		it.Status = pick(r, []int{3, 8, 10, 9, 70}, Statuses)
		if running {
			it.Status = pick(r, []int{3, 1}, []Status{StatusWorking, StatusBlocked})
		} else if it.Status == StatusWorking {
			it.Status = StatusSuccess
		}
		it.StartedAt = created
		if it.Status.Final() {
			it.FinishedAt = created.Add(time.Duration(r.logNormal(900, 0.8)) * time.Second)
		}
		it.Inference = r.credits(2.5, 0.9)
		it.OpenURL = "agent://conversations/" + it.ID
	} else {
		it.Status = pick(r, []int{84, 16}, []Status{StatusSuccess, StatusFailed})
		if running {
			it.Status = StatusWorking
		}
		it.StartedAt = created.Add(time.Duration(1+r.IntN(20)) * time.Second)
		dur := time.Duration(min(max(r.logNormal(240, 1.0), 8), 7200)) * time.Second
		if it.Status == StatusFailed {
			dur /= 3
		}
		if it.Status == StatusWorking {
			dur = created.Sub(it.StartedAt) // so far
			if dur < 0 {
				dur = 0
			}
		} else {
			it.FinishedAt = it.StartedAt.Add(dur)
		}
		it.Inference = r.credits(3.5, 0.8)
		it.Compute = Credits(math.Round(dur.Minutes()*6)) * (creditUnit / 100)
		it.ExternalURL = seedExternalURL(r, source, ref)
	}
	seedAgent(r, it, ref)
	return it
}

// seedAgents are the agents the seed's runs use, with the models each
// reports, and the repositories they work in.
var (
	seedAgents = []struct {
		name   string
		weight int
		models []string
	}{
		{"claude-code", 55, []string{"claude-sonnet-4-5", "claude-sonnet-4-5,claude-haiku-4-5", "claude-opus-4-1"}},
		{"codex", 30, []string{"gpt-5-codex", "gpt-5"}},
		{"gemini-cli", 15, []string{"gemini-2.5-pro", "gemini-2.5-flash"}},
	}
	seedRepos       = []string{"acme/web", "acme/api", "acme/billing", "acme/infra", "acme/docs"}
	seedPromptTails = []string{
		"Keep the public API unchanged and add tests.", "Look at the logs first, then propose a fix.",
		"Open a pull request when the tests pass.", "Explain what you change and why.",
		"Stay within the existing style; no new dependencies.",
	}
)

// seedAgent says which agent ran most items, where, with which models and
// from what first prompt; some ambient runs are plain commands.
func seedAgent(r seedRand, it *Item, ref int) {
	if it.Kind == KindAmbient && r.IntN(100) < 20 {
		return
	}
	weights := make([]int, len(seedAgents))
	for i, a := range seedAgents {
		weights[i] = a.weight
	}
	a := pick(r, weights, seedAgents)
	it.AgentName, it.AgentSession = a.name, it.ID
	it.Models = a.models[r.IntN(len(a.models))]
	it.Where.Repo = seedRepos[r.IntN(len(seedRepos))]
	switch r.IntN(4) {
	case 0, 1:
		it.Where.Branch = "main"
	case 2:
		it.Where.Branch = fmt.Sprintf("fix/eng-%d", ref)
	default:
		it.Where.Branch = fmt.Sprintf("feat/eng-%d", ref)
	}
	it.FirstPrompt = it.Title + ". " + seedPromptTails[r.IntN(len(seedPromptTails))]
}

func seedExternalURL(r seedRand, s Source, ref int) string {
	switch s {
	case SourceSlack:
		return fmt.Sprintf("https://acme.slack.com/archives/C04ENG%04d/p17%014d", r.IntN(10000), r.Int64N(1e14))
	case SourceLinear:
		return fmt.Sprintf("https://linear.app/acme/issue/ENG-%d", ref)
	case SourceGitHubActions:
		return fmt.Sprintf("https://github.com/acme/web/actions/runs/%d", 9_000_000_000+r.Int64N(1e9))
	}
	return ""
}
