package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Limits on what one report may carry; longer text is clipped, not refused,
// since an exporter cannot fix what its agent said.
const (
	maxPromptLen   = 4096
	maxSessionLen  = 200
	maxAgentLen    = 64
	maxWhereLen    = 1024
	maxRecordKey   = 200
	maxRecordToken = 10_000_000_000 // tokens one record may report
	// maxRecordCredits bounds one record's credits, so that no number of
	// records can overflow an item's sum.
	maxRecordCredits = Credits(1_000_000 * creditUnit)
)

// ReportResult says what became of a batch of reports.
type ReportResult struct {
	Applied  int // applied, or recognised as applied before
	Rejected int // refused: they name no session
	// Problem says why the first refused report was refused.
	Problem string
}

// SetPricing replaces how reported money and tokens become credits.
func (s *Store) SetPricing(p Pricing) { s.pricing = p }

// Pricing is how reported money and tokens become credits.
func (s *Store) Pricing() Pricing { return s.pricing }

// Report applies what agents said about their sessions (§10) for the viewer,
// the owner of the token they report with. Reports that name the same
// session, or the same agentdeck run, meet on one item: found by the run's
// id, else by (owner, agent, session id), else created. A session that a run
// claims after it was first reported on its own is merged into the run, so
// one session is one item however many channels report it. Everything is
// applied in one transaction, and each record that counts (a transcript
// entry, a usage record) is stored under its key, so a batch received twice
// counts once.
func (s *Store) Report(ctx context.Context, v Viewer, reports []Report) (ReportResult, error) {
	return s.report(ctx, v, reports, nil)
}

// ReportExport is Report for an OTLP export sent with a token: it also adds
// the export's records, and those no adapter recognised, to the token's
// tally shown on the tokens page, in the same transaction.
func (s *Store) ReportExport(ctx context.Context, v Viewer, tokenID int64, reports []Report, records, unrecognised int) (ReportResult, error) {
	return s.report(ctx, v, reports, func(tx bun.Tx) error {
		_, err := tx.NewUpdate().Model((*AccessToken)(nil)).
			Set("otlp_records = otlp_records + ?", records).
			Set("unrecognised_records = unrecognised_records + ?", unrecognised).
			Where("id = ?", tokenID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("app: count OTLP records of token %d: %w", tokenID, err)
		}
		return nil
	})
}

// report applies reports and then runs also, when given, in their
// transaction.
func (s *Store) report(ctx context.Context, v Viewer, reports []Report, also func(bun.Tx) error) (ReportResult, error) {
	var res ReportResult
	groups := groupReports(reports, &res)
	if len(groups) == 0 && also == nil {
		return res, nil
	}
	now := s.Now()
	var touched applied
	grouped := res
	err := s.inTx(ctx, func(tx bun.Tx) error {
		res = grouped // a transaction run again counts afresh
		var err error
		if touched, err = s.applyGroups(ctx, tx, v, groups, now, &res); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	if err != nil {
		return ReportResult{}, err
	}
	touched.announce(s)
	return res, nil
}

// applied lists the items a transaction changed, to announce after it
// commits.
type applied struct {
	changed, appended []string
}

func (a applied) announce(s *Store) {
	s.itemChanged(a.changed...)
	for _, id := range a.appended {
		s.eventsAppended(id)
	}
}

// applyGroups applies each session's reports inside tx, counting them in res.
func (s *Store) applyGroups(ctx context.Context, tx bun.Tx, v Viewer, groups []*reportGroup, now time.Time, res *ReportResult) (applied, error) {
	var out applied
	for _, g := range groups {
		it, merged, err := s.sessionItem(ctx, tx, v, g, now)
		if errors.Is(err, errNoSession) {
			res.Rejected += len(g.reports)
			if res.Problem == "" {
				res.Problem = noSessionProblem
			}
			continue
		}
		if err != nil {
			return out, err
		}
		wrote, err := s.applyReports(ctx, tx, it, g.reports, now)
		if err != nil {
			return out, err
		}
		res.Applied += len(g.reports)
		out.changed = append(out.changed, it.ID)
		out.changed = append(out.changed, merged...)
		if wrote {
			out.appended = append(out.appended, it.ID)
		}
	}
	return out, nil
}

// noSessionProblem says why a report was refused.
const noSessionProblem = "a record names no session (session.id, conversation.id or gen_ai.conversation.id)"

// errNoSession marks reports that name neither a run nor a session.
var errNoSession = errors.New("app: the report names no session")

// reportGroup is the reports of one batch that speak of one session.
type reportGroup struct {
	runID, agent, session string
	reports               []Report
}

// groupReports splits a batch by the session it speaks of, keeping the
// batch's order of first appearance.
func groupReports(reports []Report, res *ReportResult) []*reportGroup {
	var groups []*reportGroup
	index := map[string]*reportGroup{}
	for _, r := range reports {
		r.Agent = ClipText(CleanText(strings.TrimSpace(r.Agent)), maxAgentLen)
		r.Session = ClipText(CleanText(strings.TrimSpace(r.Session)), maxSessionLen)
		if !storableTime(r.At) {
			// An agent's clock that far off says nothing of when.
			r.At = time.Time{}
		}
		if !validItemID(r.RunID) {
			r.RunID = ""
		}
		key := "session\x00" + r.Agent + "\x00" + r.Session
		if r.RunID != "" {
			key = "run\x00" + r.RunID
		} else if r.Agent == "" || r.Session == "" {
			res.Rejected++
			if res.Problem == "" {
				res.Problem = noSessionProblem
			}
			continue
		}
		g := index[key]
		if g == nil {
			g = &reportGroup{runID: r.RunID}
			index[key] = g
			groups = append(groups, g)
		}
		if g.session == "" && r.Agent != "" && r.Session != "" {
			g.agent, g.session = r.Agent, r.Session
		}
		g.reports = append(g.reports, r)
	}
	return groups
}

// sessionItem finds, locked for the transaction, the item a group of reports
// speaks of, creating it when the session is new. It also returns the ids
// of items merged into it.
func (s *Store) sessionItem(ctx context.Context, tx bun.Tx, v Viewer, g *reportGroup, now time.Time) (*Item, []string, error) {
	if g.runID != "" {
		it, err := s.ownRun(ctx, tx, v, g.runID, true)
		if err == nil {
			var merged []string
			if g.session != "" && it.AgentSession == "" {
				merged, err = s.claimSession(ctx, tx, it, g.agent, g.session)
			}
			return it, merged, err
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		// A run that is not the token's own: the session reports on its own.
	}
	if g.agent == "" || g.session == "" {
		return nil, nil, errNoSession
	}
	it, err := s.agentItem(ctx, tx, v.User.ID, g.agent, g.session)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return it, nil, err
	}
	first := g.reports[0]
	it = &Item{
		ID: NewItemID(), Kind: KindInteractive, Source: SourceInteractive, Status: StatusWorking,
		Title: placeholderTitle(g.agent), CreatorID: v.User.ID, Visibility: VisibilityPrivate,
		CreatedAt: now, StartedAt: now, UpdatedAt: now, HeardAt: now,
		AgentName: g.agent, AgentSession: g.session,
	}
	if first.Ambient {
		it.Kind, it.Source = KindAmbient, SourceCLI
		if first.Source != "" && first.Source != SourceInteractive && oneOf(first.Source, Sources) {
			it.Source = first.Source
		}
		it.Visibility = DefaultVisibility(it.Source)
		if it.Visibility == VisibilityTeam && it.TeamID == 0 {
			it.Visibility = VisibilityPrivate
		}
	}
	if err := prepareItem(it, now); err != nil {
		return nil, nil, err
	}
	if _, err := tx.NewInsert().Model(it).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("app: create the item of %s session %s: %w", g.agent, g.session, err)
	}
	// Inserted, or created by a concurrent report a moment ago: read it back
	// locked either way.
	it, err = s.agentItem(ctx, tx, v.User.ID, g.agent, g.session)
	return it, nil, err
}

// agentItem loads, locked for the transaction, the owner's item of an
// agent's session.
func (s *Store) agentItem(ctx context.Context, db bun.IDB, creatorID int64, agent, session string) (*Item, error) {
	it := new(Item)
	q := db.NewSelect().Model(it).
		Where("creator_id = ?", creatorID).Where("agent_name = ?", agent).Where("agent_session = ?", session)
	if s.dialect == "postgres" {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("app: the item of %s session %s: %w", agent, session, notFound(err))
	}
	return it, nil
}

// claimSession makes a run the item of an agent's session. When the session
// was already reported on its own (its channels spoke before the run named
// it), that item is merged into the run: its events follow the run's, its
// usage records join the run's, and it is deleted.
func (s *Store) claimSession(ctx context.Context, tx bun.Tx, run *Item, agent, session string) ([]string, error) {
	run.AgentName, run.AgentSession = agent, session
	other, err := s.agentItem(ctx, tx, run.CreatorID, agent, session)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	base, err := s.lastSeq(ctx, tx, run)
	if err != nil {
		return nil, err
	}
	var moved int64
	if err := tx.NewSelect().Model((*Event)(nil)).ColumnExpr("COUNT(*)").Where("item_id = ?", other.ID).Scan(ctx, &moved); err != nil {
		return nil, fmt.Errorf("app: count the events of %s: %w", other.ID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (item_id, seq, type, role, text, data, key, created_at)
		SELECT ?, ? + ROW_NUMBER() OVER (ORDER BY seq), type, role, text, data, key, created_at
		FROM events WHERE item_id = ? ON CONFLICT DO NOTHING`, run.ID, base, other.ID)
	if err != nil {
		return nil, fmt.Errorf("app: move the events of %s into %s: %w", other.ID, run.ID, err)
	}
	run.LastSeq = base + moved
	_, err = tx.ExecContext(ctx, `INSERT INTO usage_records (item_id, channel, key, model, credits, input_tokens, cached_input_tokens, output_tokens, created_at)
		SELECT ?, channel, key, model, credits, input_tokens, cached_input_tokens, output_tokens, created_at
		FROM usage_records WHERE item_id = ? ON CONFLICT DO NOTHING`, run.ID, other.ID)
	if err != nil {
		return nil, fmt.Errorf("app: move the usage of %s into %s: %w", other.ID, run.ID, err)
	}
	for _, m := range other.ModelList() {
		run.Models = addToList(run.Models, m)
	}
	run.Where = mergeWhere(run.Where, other.Where)
	if run.FirstPrompt == "" {
		run.FirstPrompt = other.FirstPrompt
	}
	run.TranscriptRank = max(run.TranscriptRank, other.TranscriptRank)
	if other.HeardAt.After(run.HeardAt) {
		run.HeardAt = other.HeardAt
	}
	if _, err := tx.NewDelete().Model((*Item)(nil)).Where("id = ?", other.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("app: delete %s, merged into %s: %w", other.ID, run.ID, err)
	}
	if err := s.recountUsage(ctx, tx, run); err != nil {
		return nil, err
	}
	return []string{other.ID}, nil
}

// lastSeq is the greatest sequence number the item's events use. Once the
// server has numbered an item's events, items.last_seq is kept at least as
// great as every seq it stores (AppendEvents keeps it so for clients' seqs
// too), and is all there is to read; before, the events are asked.
func (s *Store) lastSeq(ctx context.Context, db bun.IDB, it *Item) (int64, error) {
	if it.LastSeq > 0 {
		return it.LastSeq, nil
	}
	var stored int64
	err := db.NewSelect().Model((*Event)(nil)).ColumnExpr("COALESCE(MAX(seq), 0)").Where("item_id = ?", it.ID).Scan(ctx, &stored)
	if err != nil {
		return 0, fmt.Errorf("app: last event of %s: %w", it.ID, err)
	}
	return max(stored, it.LastSeq), nil
}

// mergeWhere fills what a is missing from b.
func mergeWhere(a, b Where) Where {
	a.Cwd = cmp.Or(a.Cwd, b.Cwd)
	a.Repo = cmp.Or(a.Repo, b.Repo)
	a.Branch = cmp.Or(a.Branch, b.Branch)
	return a
}

// applyReports applies one session's reports, in the agent's time order, to
// its locked item and writes what changed. It reports whether events were
// written.
func (s *Store) applyReports(ctx context.Context, tx bun.Tx, it *Item, reports []Report, now time.Time) (bool, error) {
	slices.SortStableFunc(reports, func(a, b Report) int {
		if a.At.IsZero() || b.At.IsZero() {
			return 0
		}
		return a.At.Compare(b.At)
	})
	var entries []*Event
	var usage []Usage
	var usageChannels []Channel
	for _, r := range reports {
		it.HeardAt = now
		it.Where = mergeWhere(cleanWhere(r.Where), it.Where)
		if r.Model != "" {
			it.Models = addToList(it.Models, r.Model)
		}
		if p := strings.TrimSpace(r.Prompt); p != "" && it.FirstPrompt == "" {
			it.FirstPrompt = ClipText(CleanText(p), maxPromptLen)
			if it.Title == placeholderTitle(it.AgentName) {
				it.Title = promptTitle(p)
			}
		}
		if status, reason, change := NextStatus(it, r); change {
			it.Status, it.Reason = status, reason
			it.FinishedAt = time.Time{}
			if status.Final() {
				it.FinishedAt = now
			}
		}
		if r.Signal != SignalNone && !r.At.IsZero() && r.At.After(it.StatusAt) {
			it.StatusAt = r.At.UTC().Truncate(time.Microsecond)
		}
		if r.Entry != nil && r.Channel.transcriptRank() >= it.TranscriptRank {
			it.TranscriptRank = r.Channel.transcriptRank()
			entries = append(entries, entryEvent(r.Entry, now))
		}
		if r.Usage != nil && r.Usage.Key != "" {
			usage = append(usage, *r.Usage)
			usageChannels = append(usageChannels, r.Channel)
		}
	}
	if err := s.addUsage(ctx, tx, it, usage, usageChannels, now); err != nil {
		return false, err
	}
	wrote := false
	if len(entries) > 0 {
		base, err := s.lastSeq(ctx, tx, it)
		if err != nil {
			return false, err
		}
		for i, e := range entries {
			e.ItemID, e.Seq = it.ID, base+int64(i)+1
		}
		it.LastSeq = base + int64(len(entries))
		n, err := s.insertEvents(ctx, tx.Tx, entries)
		if err != nil {
			return false, fmt.Errorf("app: add %d transcript entries to %s: %w", len(entries), it.ID, err)
		}
		wrote = n > 0
	}
	it.UpdatedAt = now
	_, err := tx.NewUpdate().Model(it).Column(
		"status", "reason", "title", "first_prompt", "finished_at", "updated_at", "heard_at", "status_at",
		"models", "cwd", "repo", "branch", "transcript_rank", "last_seq", "agent_name", "agent_session",
		"inference_credits", "input_tokens", "cached_input_tokens", "output_tokens", "unpriced_models",
	).WherePK().Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("app: apply reports to %s: %w", it.ID, err)
	}
	return wrote, nil
}

// cleanWhere makes reported places storable.
func cleanWhere(w Where) Where {
	clean := func(s string) string { return ClipText(CleanText(strings.TrimSpace(s)), maxWhereLen) }
	return Where{Cwd: clean(w.Cwd), Repo: clean(w.Repo), Branch: clean(w.Branch)}
}

// entryEvent makes a transcript entry a message event.
func entryEvent(e *Entry, now time.Time) *Event {
	ev := &Event{Type: EventMessage, Role: e.Role, Text: ClipText(CleanText(e.Text), MaxEventText), CreatedAt: now}
	if !oneOf(ev.Role, MessageRoles) {
		ev.Role = RoleAgent
	}
	if e.Key != "" {
		ev.Key = ClipText(CleanText(e.Key), maxRecordKey)
	}
	if len(e.Data) > 0 {
		// Data that cannot be stored (a number no float holds) is left
		// out rather than costing the entry: an exporter cannot fix it.
		if data, err := encodeData(e.Data, "data"); err == nil && len(data) <= MaxEventData {
			ev.Data = data
		}
	}
	return ev
}

// usageRow is one usage record as stored: priced (credits nil when its
// model has no price) and bound to its channel.
type usageRow struct {
	channel Channel
	key     string
	model   string
	credits *int64
	tokens  Tokens
	// total replaces the record of the same key instead of being skipped
	// when one is stored.
	total bool
}

// usageAccount is one channel's running sums of an item's usage records.
type usageAccount struct {
	Channel        string `bun:"channel"`
	Credits        int64  `bun:"credits"`
	Tokens         `bun:"embed:"`
	UnpricedModels string `bun:"unpriced_models"`
}

// addUsage prices and stores usage records under their keys, skipping those
// stored already (a Total record replaces its predecessor), adds what is new
// to the channels' running accounts, and sets the item's credits and tokens
// from them. Its cost grows with the records that arrive, not with those
// the session has.
func (s *Store) addUsage(ctx context.Context, tx bun.Tx, it *Item, usage []Usage, channels []Channel, now time.Time) error {
	var rows []usageRow
	for i, u := range usage {
		if u.Model == "" {
			// A turn's usage that names no model (codex exec --json) is
			// the session's model's.
			if models := it.ModelList(); len(models) > 0 {
				u.Model = models[0]
			}
		}
		t := u.Tokens
		if t.Input < 0 || t.CachedInput < 0 || t.Output < 0 || t.Input > maxRecordToken || t.CachedInput > maxRecordToken || t.Output > maxRecordToken {
			continue
		}
		t.CachedInput = min(t.CachedInput, t.Input)
		row := usageRow{channel: channels[i], key: ClipText(CleanText(u.Key), maxRecordKey), model: ClipText(CleanText(u.Model), 100), tokens: t, total: u.Total}
		if c, ok := s.pricing.Credits(u); ok {
			if c > maxRecordCredits {
				continue
			}
			n := int64(c)
			row.credits = &n
		}
		rows = append(rows, row)
	}
	return s.storeUsage(ctx, tx, it, rows, now)
}

// storeUsage stores priced usage rows and brings the accounts and the item
// up to date.
func (s *Store) storeUsage(ctx context.Context, tx bun.Tx, it *Item, rows []usageRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	accounts, err := s.usageAccounts(ctx, tx, it.ID)
	if err != nil {
		return err
	}
	changed := map[string]bool{}
	add := func(r usageRow, sign int64) {
		a := accounts[string(r.channel)]
		if a == nil {
			a = &usageAccount{Channel: string(r.channel)}
			accounts[a.Channel] = a
		}
		if r.credits != nil {
			a.Credits = max(a.Credits+sign**r.credits, 0)
		} else if sign > 0 {
			a.UnpricedModels = addToList(a.UnpricedModels, cmp.Or(r.model, "unnamed"))
		}
		a.Input = max(a.Input+sign*r.tokens.Input, 0)
		a.CachedInput = max(a.CachedInput+sign*r.tokens.CachedInput, 0)
		a.Output = max(a.Output+sign*r.tokens.Output, 0)
		changed[a.Channel] = true
	}
	var additive []usageRow
	for _, r := range rows {
		if !r.total {
			additive = append(additive, r)
			continue
		}
		// A total replaces the previous total of its key: the account
		// loses the old figures and gains the new.
		var old struct {
			Credits *int64 `bun:"credits"`
			Tokens
			Model string `bun:"model"`
		}
		err := tx.NewSelect().TableExpr("usage_records").Column("credits", "input_tokens", "cached_input_tokens", "output_tokens", "model").
			Where("item_id = ?", it.ID).Where("channel = ?", string(r.channel)).Where("key = ?", r.key).Scan(ctx, &old)
		switch {
		case err == nil:
			add(usageRow{channel: r.channel, credits: old.Credits, tokens: old.Tokens, model: old.Model}, -1)
		case !errors.Is(notFound(err), ErrNotFound):
			return fmt.Errorf("app: read the usage of %s: %w", it.ID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO usage_records (item_id, channel, key, model, credits, input_tokens, cached_input_tokens, output_tokens, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, channel, key) DO UPDATE SET model = excluded.model, credits = excluded.credits,
			input_tokens = excluded.input_tokens, cached_input_tokens = excluded.cached_input_tokens,
			output_tokens = excluded.output_tokens, created_at = excluded.created_at`,
			it.ID, string(r.channel), r.key, r.model, r.credits, r.tokens.Input, r.tokens.CachedInput, r.tokens.Output, now)
		if err != nil {
			return fmt.Errorf("app: record the usage of %s: %w", it.ID, err)
		}
		add(r, 1)
	}
	if len(additive) > 0 {
		inserted, err := s.insertUsage(ctx, tx, it.ID, additive, now)
		if err != nil {
			return err
		}
		for _, r := range inserted {
			add(r, 1)
		}
	}
	for ch := range changed {
		a := accounts[ch]
		_, err := tx.ExecContext(ctx, `INSERT INTO usage_accounts (item_id, channel, credits, input_tokens, cached_input_tokens, output_tokens, unpriced_models)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, channel) DO UPDATE SET credits = excluded.credits,
			input_tokens = excluded.input_tokens, cached_input_tokens = excluded.cached_input_tokens,
			output_tokens = excluded.output_tokens, unpriced_models = excluded.unpriced_models`,
			it.ID, ch, a.Credits, a.Input, a.CachedInput, a.Output, a.UnpricedModels)
		if err != nil {
			return fmt.Errorf("app: account the usage of %s: %w", it.ID, err)
		}
	}
	showBestAccount(it, accounts)
	return nil
}

// insertUsage writes additive usage rows in one statement, skipping those
// whose key is stored, and returns the rows it wrote.
func (s *Store) insertUsage(ctx context.Context, tx bun.Tx, itemID string, rows []usageRow, now time.Time) ([]usageRow, error) {
	args := make([]any, 0, 9*len(rows))
	for _, r := range rows {
		var credits any
		if r.credits != nil {
			credits = *r.credits
		}
		args = append(args, itemID, string(r.channel), r.key, r.model, credits, r.tokens.Input, r.tokens.CachedInput, r.tokens.Output, now)
	}
	sql := "INSERT INTO usage_records (item_id, channel, key, model, credits, input_tokens, cached_input_tokens, output_tokens, created_at) VALUES " +
		s.valueRows(len(rows), 9) + " ON CONFLICT DO NOTHING RETURNING channel, key"
	res, err := tx.Tx.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("app: record the usage of %s: %w", itemID, err)
	}
	defer res.Close()
	byKey := make(map[string]usageRow, len(rows))
	for _, r := range rows {
		byKey[string(r.channel)+"\x00"+r.key] = r
	}
	var inserted []usageRow
	for res.Next() {
		var channel, key string
		if err := res.Scan(&channel, &key); err != nil {
			return nil, fmt.Errorf("app: record the usage of %s: %w", itemID, err)
		}
		inserted = append(inserted, byKey[channel+"\x00"+key])
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("app: record the usage of %s: %w", itemID, err)
	}
	return inserted, nil
}

// usageAccounts reads an item's accounts, one per channel.
func (s *Store) usageAccounts(ctx context.Context, db bun.IDB, itemID string) (map[string]*usageAccount, error) {
	var list []*usageAccount
	err := db.NewSelect().TableExpr("usage_accounts").
		Column("channel", "credits", "input_tokens", "cached_input_tokens", "output_tokens", "unpriced_models").
		Where("item_id = ?", itemID).Scan(ctx, &list)
	if err != nil {
		return nil, fmt.Errorf("app: read the usage accounts of %s: %w", itemID, err)
	}
	out := make(map[string]*usageAccount, len(list))
	for _, a := range list {
		out[a.Channel] = a
	}
	return out, nil
}

// showBestAccount sets the item's credits and tokens from its accounts.
// Each channel that reports a session's spend is a full account of the same
// spend, told another way (OTLP per request, the agent's output per session,
// the API as a total), so the channels are not added up: the item shows the
// account with the most credits, the most complete so far.
func showBestAccount(it *Item, accounts map[string]*usageAccount) {
	var best *usageAccount
	for _, a := range accounts {
		if best == nil || a.Credits > best.Credits ||
			a.Credits == best.Credits && (a.Input+a.Output > best.Input+best.Output ||
				a.Input+a.Output == best.Input+best.Output && a.Channel < best.Channel) {
			best = a
		}
	}
	if best == nil {
		return
	}
	it.Inference = Credits(min(best.Credits, int64(MaxCredits)))
	it.Tokens = best.Tokens
	it.UnpricedModels = best.UnpricedModels
}

// recountUsage rebuilds an item's accounts from all of its usage records:
// after records of another item were merged into it.
func (s *Store) recountUsage(ctx context.Context, tx bun.Tx, it *Item) error {
	var rows []struct {
		Channel  string `bun:"channel"`
		Model    string `bun:"model"`
		Unpriced bool   `bun:"unpriced"`
		Credits  int64  `bun:"credits"`
		Tokens
	}
	err := tx.NewSelect().TableExpr("usage_records").
		Column("channel", "model").
		ColumnExpr("CASE WHEN credits IS NULL THEN 1 ELSE 0 END AS unpriced").
		ColumnExpr("CAST(COALESCE(SUM(credits), 0) AS BIGINT) AS credits").
		ColumnExpr("CAST(SUM(input_tokens) AS BIGINT) AS input_tokens").
		ColumnExpr("CAST(SUM(cached_input_tokens) AS BIGINT) AS cached_input_tokens").
		ColumnExpr("CAST(SUM(output_tokens) AS BIGINT) AS output_tokens").
		Where("item_id = ?", it.ID).
		GroupExpr("channel, model, CASE WHEN credits IS NULL THEN 1 ELSE 0 END").
		OrderExpr("channel, model").
		Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("app: count the usage of %s: %w", it.ID, err)
	}
	accounts := map[string]*usageAccount{}
	for _, r := range rows {
		a := accounts[r.Channel]
		if a == nil {
			a = &usageAccount{Channel: r.Channel}
			accounts[r.Channel] = a
		}
		a.Credits += r.Credits
		a.Tokens = a.Tokens.plus(r.Tokens)
		if r.Unpriced {
			a.UnpricedModels = addToList(a.UnpricedModels, cmp.Or(r.Model, "unnamed"))
		}
	}
	if _, err := tx.NewDelete().TableExpr("usage_accounts").Where("item_id = ?", it.ID).Exec(ctx); err != nil {
		return fmt.Errorf("app: recount the usage of %s: %w", it.ID, err)
	}
	for _, a := range accounts {
		_, err := tx.ExecContext(ctx, `INSERT INTO usage_accounts (item_id, channel, credits, input_tokens, cached_input_tokens, output_tokens, unpriced_models)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, it.ID, a.Channel, a.Credits, a.Input, a.CachedInput, a.Output, a.UnpricedModels)
		if err != nil {
			return fmt.Errorf("app: recount the usage of %s: %w", it.ID, err)
		}
	}
	showBestAccount(it, accounts)
	return nil
}

// CloseSilentSessions applies the liveness rule (§10) at the store's now: a
// working session of an agent that has said nothing for StaleAfter failed
// with the reason "lost contact"; a blocked one silent for AbandonAfter is
// canceled as "abandoned". Both finish when they were last heard of, and a
// later signal may still move them on (Item.Revivable). It returns how many
// items it closed. Replicas may run it at once: each item is closed once.
func (s *Store) CloseSilentSessions(ctx context.Context, l Liveness) (int, error) {
	now := s.Now()
	var closed []string
	for _, rule := range []struct {
		from, to Status
		reason   string
		silent   time.Duration
	}{
		{StatusWorking, StatusFailed, ReasonLostContact, l.StaleAfter},
		{StatusBlocked, StatusCanceled, ReasonAbandoned, l.AbandonAfter},
	} {
		if rule.silent <= 0 {
			continue
		}
		rows, err := s.db.QueryContext(ctx, `UPDATE items SET status = ?, reason = ?, finished_at = heard_at, updated_at = ?
			WHERE agent_name <> '' AND status = ? AND heard_at < ? RETURNING id`,
			string(rule.to), rule.reason, now, string(rule.from), now.Add(-rule.silent))
		if err != nil {
			return len(closed), fmt.Errorf("app: close silent sessions: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return len(closed), fmt.Errorf("app: close silent sessions: %w", err)
			}
			closed = append(closed, id)
		}
		if err := rows.Close(); err != nil {
			return len(closed), fmt.Errorf("app: close silent sessions: %w", err)
		}
	}
	s.itemChanged(closed...)
	return len(closed), nil
}
