package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/labstack/echo/v4"
)

// The export (§9): the whole filtered set of a view, not a page of it, as
// CSV or NDJSON, streamed a page of rows at a time so that memory stays flat
// however large the set.
const (
	formatCSV    = "csv"
	formatNDJSON = "ndjson"
)

// exportFormat is the export a request asks for: format= wins over Accept;
// "" when it asks for none (a page of JSON). The format parameter is taken
// out of q, as it is not part of the view.
func exportFormat(r *http.Request, q url.Values) (string, error) {
	if f, ok := q["format"]; ok {
		q.Del("format")
		switch v := strings.ToLower(strings.TrimSpace(f[0])); v {
		case formatCSV, formatNDJSON:
			return v, nil
		case "json", "":
			return "", nil
		}
		return "", app.Errorf(app.EInvalid, "format", "format must be csv or ndjson")
	}
	for _, accepted := range strings.Split(r.Header.Get("Accept"), ",") {
		media, _, err := mime.ParseMediaType(strings.TrimSpace(accepted))
		if err != nil {
			continue
		}
		switch media {
		case "text/csv":
			return formatCSV, nil
		case "application/x-ndjson":
			return formatNDJSON, nil
		}
	}
	return "", nil
}

// exportPageSize is how many items an export reads at a time: large enough
// that the queries cost little per row, small enough that memory stays flat
// however many rows the export has.
var exportPageSize = 2000

// exportColumns are the CSV export's columns, in order.
var exportColumns = []string{"id", "url", "kind", "source", "status", "title", "creator", "creator_name", "team",
	"visibility", "agent", "models", "repo", "branch", "created_at", "started_at", "finished_at", "duration_ms",
	"inference_credits", "compute_credits", "credits", "unpriced_models", "reason"}

// streamExport writes every item of the query in the format, with a file
// name that says what and when. Once the first row is out the status is
// sent; an error after that ends the body early, which the client sees as a
// truncated transfer rather than a complete file.
func (s *Server) streamExport(c echo.Context, q app.Query, format string) error {
	ctx := c.Request().Context()
	now := s.store.Now()
	h := c.Response().Header()
	name := "agentdeck-runs-" + now.UTC().Format("20060102-150405")
	switch format {
	case formatCSV:
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
	default:
		h.Set(echo.HeaderContentType, "application/x-ndjson")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.ndjson"`)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	c.Response().WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(c.Response(), 64<<10)
	base := strings.TrimRight(s.cfg.PublicURL(), "/")
	var write func([]*app.Item) error
	if format == formatCSV {
		w := csv.NewWriter(out)
		if err := w.Write(exportColumns); err != nil {
			return err
		}
		row := make([]string, len(exportColumns))
		write = func(items []*app.Item) error {
			for _, it := range items {
				csvRow(row, it, base, now)
				if err := w.Write(row); err != nil {
					return err
				}
			}
			w.Flush()
			return w.Error()
		}
	} else {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		write = func(items []*app.Item) error {
			for _, it := range items {
				if err := enc.Encode(toItemJSON(it, now)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	err := s.store.EachPage(ctx, q, exportPageSize, func(items []*app.Item) error {
		if err := write(items); err != nil {
			return err
		}
		return out.Flush()
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("export ended early", "err", err)
		}
		// Headers are gone: abort the response so the client cannot
		// mistake a partial file for a whole one.
		panic(http.ErrAbortHandler)
	}
	return out.Flush()
}

// csvRow fills row with an item's cells. Text cells are defused against
// spreadsheet formulas.
func csvRow(row []string, it *app.Item, base string, now time.Time) {
	iso := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	creator, creatorName, team := "", "", ""
	if it.Creator != nil {
		creator, creatorName = it.Creator.Handle, it.Creator.DisplayName()
	}
	if it.Team != nil {
		team = it.Team.Slug
	}
	duration := ""
	if it.HasDuration() {
		duration = strconv.FormatInt(it.Duration(now).Milliseconds(), 10)
	}
	cells := []string{it.ID, base + "/runs/" + it.ID, string(it.Kind), string(it.Source), string(it.Status),
		it.Title, creator, creatorName, team, string(it.Visibility), it.AgentName, it.Models, it.Where.Repo,
		it.Where.Branch, iso(it.CreatedAt), iso(it.StartedAt), iso(it.FinishedAt), duration,
		it.Inference.String(), it.Compute.String(), it.Credits().String(), it.UnpricedModels, it.Reason}
	for i, cell := range cells {
		row[i] = defuseFormula(cell)
	}
}

// defuseFormula keeps a spreadsheet from reading a cell as a formula: one
// that starts with = + - @ (or a tab or carriage return, which some read
// past) gets a leading apostrophe, shown as text.
func defuseFormula(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// exportQuery resolves a view's query string for an export: a problem with
// it is a 400, as an export must not quietly contain something else.
func (s *Server) exportQuery(ctx context.Context, v app.Viewer, q url.Values) (app.Query, error) {
	view, err := s.store.ViewOf(ctx, v, q, app.ViewOptions{Rows: -1})
	if err != nil {
		return app.Query{}, err
	}
	if len(view.Problems) > 0 {
		return app.Query{}, view.Problems[0]
	}
	return view.Query, nil
}

// handleViewExport is the view's Export button: the view in its URL, as a
// file.
func (s *Server) handleViewExport(c echo.Context) error {
	q, err := viewQuery(c)
	if err != nil {
		return err
	}
	format, err := exportFormat(c.Request(), q)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose format=csv or format=ndjson.")
	}
	if format == "" {
		format = formatCSV
	}
	q.Del("cursor")
	query, err := s.exportQuery(c.Request().Context(), viewerOf(c), q)
	if err != nil {
		return err
	}
	return s.streamExport(c, query, format)
}
