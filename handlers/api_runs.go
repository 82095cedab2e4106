package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/app/agents"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
)

// itemJSON is an item as the API shows it (§9).
type itemJSON struct {
	ID          string      `json:"id"`
	Kind        app.Kind    `json:"kind"`
	Source      app.Source  `json:"source"`
	Status      app.Status  `json:"status"`
	Title       string      `json:"title"`
	Creator     string      `json:"creator"`
	Team        *string     `json:"team"`
	Visibility  string      `json:"visibility"`
	OpenURL     string      `json:"open_url"`
	ExternalURL string      `json:"external_url"`
	CreatedAt   time.Time   `json:"created_at"`
	StartedAt   *time.Time  `json:"started_at"`
	FinishedAt  *time.Time  `json:"finished_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	DurationMS  *int64      `json:"duration_ms"`
	Credits     creditsJSON `json:"credits"`
	// What an agent reported of its session (§10); omitted when unknown.
	Agent  *agentJSON  `json:"agent,omitempty"`
	Tokens *app.Tokens `json:"tokens,omitempty"`
	Where  *app.Where  `json:"where,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

// creditsJSON is the credit split with its total, as decimal strings.
// UnpricedModels names the models whose tokens had no price: while it is
// set, the credits are unknown, not zero.
type creditsJSON struct {
	Inference      app.Credits `json:"inference"`
	Compute        app.Credits `json:"compute"`
	Total          app.Credits `json:"total"`
	UnpricedModels []string    `json:"unpriced_models,omitempty"`
}

// agentJSON names the agent of a session and the models it used.
type agentJSON struct {
	Name      string   `json:"name"`
	SessionID string   `json:"session_id,omitempty"`
	Models    []string `json:"models,omitempty"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toItemJSON(it *app.Item, now time.Time) itemJSON {
	out := itemJSON{
		ID: it.ID, Kind: it.Kind, Source: it.Source, Status: it.Status, Title: it.Title,
		Visibility: string(it.Visibility), OpenURL: it.OpenURL, ExternalURL: it.ExternalURL,
		CreatedAt: it.CreatedAt, StartedAt: optionalTime(it.StartedAt), FinishedAt: optionalTime(it.FinishedAt),
		UpdatedAt: it.UpdatedAt,
		Credits:   creditsJSON{Inference: it.Inference, Compute: it.Compute, Total: it.Credits()},
	}
	if it.Creator != nil {
		out.Creator = it.Creator.Handle
	}
	if it.Team != nil {
		out.Team = &it.Team.Slug
	}
	if it.HasDuration() {
		ms := it.Duration(now).Milliseconds()
		out.DurationMS = &ms
	}
	out.Credits.UnpricedModels = it.UnpricedModelList()
	if it.AgentName != "" {
		out.Agent = &agentJSON{Name: it.AgentName, SessionID: it.AgentSession, Models: it.ModelList()}
	}
	if !it.Tokens.IsZero() {
		out.Tokens = &it.Tokens
	}
	if !it.Where.IsZero() {
		out.Where = &it.Where
	}
	if it.Status == app.StatusFailed || it.Status == app.StatusCanceled || it.Status == app.StatusBlocked {
		out.Reason = it.Reason
	}
	return out
}

// handleAPIRunCreate creates an item: 201 with the item, or 200 with the
// stored item when the same request is replayed (same id, or same
// Idempotency-Key).
func (s *Server) handleAPIRunCreate(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var n app.NewRun
	if err := decodeStrict(body, &n); err != nil {
		return err
	}
	n.IdempotencyKey = c.Request().Header.Get("Idempotency-Key")
	it, created, err := s.store.CreateRun(c.Request().Context(), viewerOf(c), n)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Response().Header().Set("Location", "/api/v1/runs/"+it.ID)
	}
	return c.JSON(status, toItemJSON(it, s.store.Now()))
}

// runPatch is the body of PATCH /runs/{id}; absent fields stay as they are.
type runPatch struct {
	Status  *app.Status `json:"status"`
	Title   *string     `json:"title"`
	Credits *struct {
		Inference *app.Credits `json:"inference"`
		Compute   *app.Credits `json:"compute"`
	} `json:"credits"`
	FinishedAt *time.Time `json:"finished_at"`
}

// change is the patch as the store applies it.
func (p runPatch) change() app.RunChange {
	ch := app.RunChange{Status: p.Status, Title: p.Title, FinishedAt: p.FinishedAt}
	if p.Credits != nil {
		ch.Inference, ch.Compute = p.Credits.Inference, p.Credits.Compute
	}
	return ch
}

// handleAPIRunUpdate changes an item's status, title, credits or finish
// time under the rules of §2.
func (s *Server) handleAPIRunUpdate(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var p runPatch
	if err := decodeStrict(body, &p); err != nil {
		return err
	}
	it, err := s.store.UpdateRun(c.Request().Context(), viewerOf(c), c.Param("id"), p.change())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toItemJSON(it, s.store.Now()))
}

// handleAPIRunShow returns one item the token's user may see.
func (s *Server) handleAPIRunShow(c echo.Context) error {
	if err := checkQuery(c); err != nil {
		return err
	}
	it, err := s.store.Item(c.Request().Context(), viewerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toItemJSON(it, s.store.Now()))
}

// runListJSON is a page of items with the cursor of the next.
type runListJSON struct {
	Runs []itemJSON `json:"runs"`
	Next *string    `json:"next"`
}

// handleAPIRunList lists items with the view's filters (§4). Unlike the
// view, which ignores what it cannot use, the API refuses it with 400.
func (s *Server) handleAPIRunList(c echo.Context) error {
	ctx := c.Request().Context()
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return app.Errorf(app.EInvalid, "query", "the query string is malformed")
	}
	format, err := exportFormat(c.Request(), q)
	if err != nil {
		return err
	}
	if format != "" {
		// An export is the whole set: no page size applies.
		q.Del("limit")
		query, err := s.exportQuery(ctx, viewerOf(c), q)
		if err != nil {
			return err
		}
		return s.streamExport(c, query, format)
	}
	limit, err := queryLimit(c, app.PageSize, 500)
	if err != nil {
		return err
	}
	q.Del("limit")
	view, err := s.store.ViewOf(ctx, viewerOf(c), q, app.ViewOptions{Rows: limit})
	if err != nil {
		return err
	}
	if len(view.Problems) > 0 {
		return view.Problems[0]
	}
	page := view.Page
	now := s.store.Now()
	out := runListJSON{Runs: make([]itemJSON, len(page.Items))}
	for i, it := range page.Items {
		out.Runs[i] = toItemJSON(it, now)
	}
	if page.Next != nil {
		next := page.Next.Encode()
		out.Next = &next
	}
	return c.JSON(http.StatusOK, out)
}

// eventJSON is one event as the API takes it. Seq is the client's number;
// a batch whose events carry none is numbered by the server.
type eventJSON struct {
	Seq  *int64          `json:"seq"`
	Type app.EventType   `json:"type"`
	Role app.MessageRole `json:"role"`
	Text string          `json:"text"`
	Data jsontext.Value  `json:"data"`
}

// storedEventJSON is one event as the API gives it back.
type storedEventJSON struct {
	Seq       int64           `json:"seq"`
	Type      app.EventType   `json:"type"`
	Role      app.MessageRole `json:"role,omitempty"`
	Text      string          `json:"text"`
	Data      json.RawMessage `json:"data,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// eventBatchJSON is the body of POST /runs/{id}/events.
type eventBatchJSON struct {
	Events *[]eventJSON `json:"events"`
}

// decodeEventBatch reads and checks a batch of events, made storable by the
// text rule (app.Event.Prepare); every problem is an *app.Error naming the
// field. numbered says the batch carries no seq, for the server to number:
// either every event has a seq or none does.
func decodeEventBatch(body []byte) (events []*app.Event, numbered bool, err error) {
	var batch eventBatchJSON
	if err := decodeStrict(body, &batch); err != nil {
		return nil, false, err
	}
	if batch.Events == nil {
		return nil, false, app.Errorf(app.EInvalid, "events", "events is required: an array of events")
	}
	if len(*batch.Events) > app.MaxEventBatch {
		return nil, false, app.Errorf(app.ETooLarge, "events", "a batch holds at most %d events, not %d", app.MaxEventBatch, len(*batch.Events))
	}
	events = make([]*app.Event, len(*batch.Events))
	numbered = len(*batch.Events) > 0 && (*batch.Events)[0].Seq == nil
	for i, e := range *batch.Events {
		if (e.Seq == nil) != numbered {
			return nil, false, app.Errorf(app.EInvalid, fmt.Sprintf("events[%d].seq", i),
				"either every event of a batch carries seq or none does (the server then numbers them)")
		}
		ev := &app.Event{Type: e.Type, Role: e.Role, Text: e.Text}
		if e.Seq != nil {
			if err := app.CheckSeq(i, *e.Seq); err != nil {
				return nil, false, err
			}
			ev.Seq = *e.Seq
		}
		if len(e.Data) > 0 && string(e.Data) != "null" {
			ev.Data = string(e.Data)
		}
		if err := ev.Prepare(i); err != nil {
			return nil, false, err
		}
		events[i] = ev
	}
	return events, numbered, nil
}

// appendResultJSON acknowledges a batch.
type appendResultJSON struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// handleAPIEventsAppend stores a batch of events. Events whose sequence
// number is already stored are acknowledged as duplicates, so a client may
// resend a batch whose answer it never saw.
func (s *Server) handleAPIEventsAppend(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	events, numbered, err := decodeEventBatch(body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var accepted, dups int
	if numbered {
		// The server numbers this batch, so it may also read an agent's
		// output among its lines: what the agent says becomes the run's
		// transcript, credits and status.
		var reports []app.Report
		for _, e := range events {
			if e.Type == app.EventLog {
				reports = append(reports, agents.FromOutputLine(e.Text)...)
			}
		}
		accepted, dups, err = s.store.AppendNumberedEvents(ctx, viewerOf(c), c.Param("id"), c.Request().Header.Get("Idempotency-Key"), events, reports)
	} else {
		accepted, dups, err = s.store.AppendEvents(ctx, viewerOf(c), c.Param("id"), events)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, appendResultJSON{Accepted: accepted, Duplicates: dups})
}

// eventListJSON is a page of events with the cursor of the next.
type eventListJSON struct {
	Events []storedEventJSON `json:"events"`
	Next   *string           `json:"next"`
}

// handleAPIEventsList returns an item's events in sequence order, a page at
// a time; next is null once there is nothing more (yet).
func (s *Server) handleAPIEventsList(c echo.Context) error {
	if err := checkQuery(c, "cursor", "limit", "type"); err != nil {
		return err
	}
	limit, err := queryLimit(c, 500, app.MaxEventBatch)
	if err != nil {
		return err
	}
	q := app.EventQuery{Limit: limit}
	if raw := c.QueryParam("cursor"); raw != "" {
		after, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || after < 0 {
			return app.Errorf(app.EInvalid, "cursor", "the cursor is invalid")
		}
		q.After = after
	}
	for _, t := range c.QueryParams()["type"] {
		et := app.EventType(t)
		if et != app.EventMessage && et != app.EventLog && et != app.EventOutput {
			return app.Errorf(app.EInvalid, "type", "unknown event type %q (use message, log or output)", t)
		}
		q.Types = append(q.Types, et)
	}
	ctx := c.Request().Context()
	it, err := s.store.Item(ctx, viewerOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	page, err := s.store.Events(ctx, it.ID, q)
	if err != nil {
		return err
	}
	out := eventListJSON{Events: make([]storedEventJSON, len(page.Events))}
	for i, e := range page.Events {
		out.Events[i] = storedEventJSON{Seq: e.Seq, Type: e.Type, Role: e.Role, Text: e.Text, CreatedAt: e.CreatedAt}
		if e.Data != "" {
			out.Events[i].Data = json.RawMessage(e.Data)
		}
	}
	if page.More {
		next := strconv.FormatInt(page.Events[len(page.Events)-1].Seq, 10)
		out.Next = &next
	}
	return c.JSON(http.StatusOK, out)
}
