package app

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// scanItems runs a query bun built for a page of items (with or without the
// creator and team joined) and reads its rows. bun's own Scan finds each
// column's field and converts each value through reflection, row after row;
// here the columns are matched to setters once and the values the drivers
// hand over are set directly.
func scanItems(ctx context.Context, sel *bun.SelectQuery) ([]*Item, error) {
	rows, err := sel.Rows(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return readItems(rows)
}

// readItems reads rows whose columns are named as bun names an item's: an
// unknown column is an error rather than a field silently left empty.
func readItems(rows *sql.Rows) ([]*Item, error) {
	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	setters := make([]setter[Item], len(columns))
	for i, column := range columns {
		set, ok := itemSetters[column]
		if !ok {
			return nil, fmt.Errorf("app: no item field for column %q", column)
		}
		setters[i] = set
	}
	// database/sql stores a driver's value in an *any as it is.
	values := make([]any, len(columns))
	dest := make([]any, len(columns))
	for i := range values {
		dest[i] = &values[i]
	}
	var items []*Item
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		it := new(Item)
		for i, set := range setters {
			if err := set(it, values[i]); err != nil {
				return nil, fmt.Errorf("app: read column %s: %w", columns[i], err)
			}
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// setter sets one field of a T from a column's value.
type setter[T any] func(*T, any) error

// itemSetters are the setters of every column a page of items may have: the
// item's own and those of its creator and team, which bun names after the
// relation ("creator__handle").
var itemSetters = func() map[string]setter[Item] {
	m := map[string]setter[Item]{
		"id":                  func(it *Item, v any) error { return setText(&it.ID, v) },
		"kind":                func(it *Item, v any) error { return setText(&it.Kind, v) },
		"source":              func(it *Item, v any) error { return setText(&it.Source, v) },
		"status":              func(it *Item, v any) error { return setText(&it.Status, v) },
		"title":               func(it *Item, v any) error { return setText(&it.Title, v) },
		"creator_id":          func(it *Item, v any) error { return setInteger(&it.CreatorID, v) },
		"team_id":             func(it *Item, v any) error { return setInteger(&it.TeamID, v) },
		"visibility":          func(it *Item, v any) error { return setText(&it.Visibility, v) },
		"created_at":          func(it *Item, v any) error { return setTime(&it.CreatedAt, v) },
		"started_at":          func(it *Item, v any) error { return setTime(&it.StartedAt, v) },
		"finished_at":         func(it *Item, v any) error { return setTime(&it.FinishedAt, v) },
		"updated_at":          func(it *Item, v any) error { return setTime(&it.UpdatedAt, v) },
		"inference_credits":   func(it *Item, v any) error { return it.Inference.Scan(v) },
		"compute_credits":     func(it *Item, v any) error { return it.Compute.Scan(v) },
		"open_url":            func(it *Item, v any) error { return setText(&it.OpenURL, v) },
		"external_url":        func(it *Item, v any) error { return setText(&it.ExternalURL, v) },
		"create_key":          func(it *Item, v any) error { return setText(&it.CreateKey, v) },
		"create_hash":         func(it *Item, v any) error { return setText(&it.CreateHash, v) },
		"agent_name":          func(it *Item, v any) error { return setText(&it.AgentName, v) },
		"agent_session":       func(it *Item, v any) error { return setText(&it.AgentSession, v) },
		"models":              func(it *Item, v any) error { return setText(&it.Models, v) },
		"input_tokens":        func(it *Item, v any) error { return setInteger(&it.Tokens.Input, v) },
		"cached_input_tokens": func(it *Item, v any) error { return setInteger(&it.Tokens.CachedInput, v) },
		"output_tokens":       func(it *Item, v any) error { return setInteger(&it.Tokens.Output, v) },
		"unpriced_models":     func(it *Item, v any) error { return setText(&it.UnpricedModels, v) },
		"cwd":                 func(it *Item, v any) error { return setText(&it.Where.Cwd, v) },
		"repo":                func(it *Item, v any) error { return setText(&it.Where.Repo, v) },
		"branch":              func(it *Item, v any) error { return setText(&it.Where.Branch, v) },
		"reason":              func(it *Item, v any) error { return setText(&it.Reason, v) },
		"first_prompt":        func(it *Item, v any) error { return setText(&it.FirstPrompt, v) },
		"heard_at":            func(it *Item, v any) error { return setTime(&it.HeardAt, v) },
		"status_at":           func(it *Item, v any) error { return setTime(&it.StatusAt, v) },
		"last_seq":            func(it *Item, v any) error { return setInteger(&it.LastSeq, v) },
		"transcript_rank":     func(it *Item, v any) error { return setInteger(&it.TranscriptRank, v) },
	}
	addRelation(m, "creator__", func(it *Item) **User { return &it.Creator }, userSetters)
	addRelation(m, "team__", func(it *Item) **Team { return &it.Team }, teamSetters)
	return m
}()

var userSetters = map[string]setter[User]{
	"id":         func(u *User, v any) error { return setInteger(&u.ID, v) },
	"handle":     func(u *User, v any) error { return setText(&u.Handle, v) },
	"name":       func(u *User, v any) error { return setText(&u.Name, v) },
	"email":      func(u *User, v any) error { return setText(&u.Email, v) },
	"avatar_url": func(u *User, v any) error { return setText(&u.AvatarURL, v) },
	"created_at": func(u *User, v any) error { return setTime(&u.CreatedAt, v) },
}

var teamSetters = map[string]setter[Team]{
	"id":         func(t *Team, v any) error { return setInteger(&t.ID, v) },
	"slug":       func(t *Team, v any) error { return setText(&t.Slug, v) },
	"name":       func(t *Team, v any) error { return setText(&t.Name, v) },
	"created_at": func(t *Team, v any) error { return setTime(&t.CreatedAt, v) },
}

// addRelation adds the setters of a joined relation's columns under the
// relation's prefix. As bun does, the related struct is made at its first
// non-NULL column, so that a LEFT JOIN which found nothing leaves it nil.
func addRelation[T any](m map[string]setter[Item], prefix string, field func(*Item) **T, setters map[string]setter[T]) {
	for column, set := range setters {
		m[prefix+column] = func(it *Item, v any) error {
			related := field(it)
			if *related == nil {
				if v == nil {
					return nil
				}
				*related = new(T)
			}
			return set(*related, v)
		}
	}
}

// The setters below take the values the two drivers hand over for the
// column types agentdeck uses: pgx gives int64, string and time.Time, and
// modernc sqlite the same, parsing the text of TIMESTAMP columns itself.
// Text may also come as []byte, as database/sql allows. NULL sets the zero
// value, as bun does for nullzero fields.

func setText[T ~string](dst *T, v any) error {
	switch v := v.(type) {
	case string:
		*dst = T(v)
	case []byte:
		*dst = T(v)
	case nil:
		*dst = ""
	default:
		return fmt.Errorf("text from %T", v)
	}
	return nil
}

func setInteger[T ~int | ~int64](dst *T, v any) error {
	switch v := v.(type) {
	case int64:
		*dst = T(v)
	case nil:
		*dst = 0
	default:
		return fmt.Errorf("integer from %T", v)
	}
	return nil
}

func setTime(dst *time.Time, v any) error {
	switch v := v.(type) {
	case time.Time:
		*dst = v
	case nil:
		*dst = time.Time{}
	case string:
		t, err := parseTimestamp(v)
		if err != nil {
			return err
		}
		*dst = t
	default:
		return fmt.Errorf("time from %T", v)
	}
	return nil
}

// parseTimestamp reads a timestamp handed over as text, as modernc sqlite
// does when it cannot tell the column holds times, the way bun reads it:
// with an offset when there is one, else in UTC.
func parseTimestamp(s string) (time.Time, error) {
	const layout = "2006-01-02 15:04:05.999999999"
	n := len(s)
	if n < len("2006-01-02 15:04:05") {
		return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
	}
	sign := func(c byte) bool { return c == '+' || c == '-' }
	switch {
	case s[10] == 'T':
		return time.Parse(time.RFC3339Nano, s)
	case s[10] != ' ':
		return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
	case sign(s[n-6]):
		return time.Parse(layout+"-07:00", s)
	case sign(s[n-3]):
		return time.Parse(layout+"-07", s)
	case sign(s[n-9]):
		return time.Parse(layout+"-07:00:00", s)
	}
	return time.ParseInLocation(layout, s, time.UTC)
}
