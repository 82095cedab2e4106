package apptest

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/agentdeck/agentdeck/app"
	"github.com/uptrace/bun"
)

// StatementRecorder is a query hook (bun's AddQueryHook) that keeps the SQL
// the store runs between Start and Stop.
type StatementRecorder struct {
	mu        sync.Mutex
	recording bool
	stmts     []string
}

// Start forgets what was kept and keeps every statement from now on.
func (r *StatementRecorder) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recording, r.stmts = true, nil
}

// Stop stops keeping statements and returns those kept since Start.
func (r *StatementRecorder) Stop() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recording = false
	return r.stmts
}

func (r *StatementRecorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (r *StatementRecorder) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.recording {
		r.stmts = append(r.stmts, e.Query)
	}
}

// Reads are the recorded statements that read, without those of the
// transactions some of them run in (BEGIN, a setting, COMMIT): a read marked
// as read in index order is replayed with its setting (QueryAsRecorded).
func Reads(stmts []string) []string {
	var reads []string
	for _, q := range stmts {
		if q != "BEGIN" && q != "COMMIT" && q != app.IndexOrderSetting {
			reads = append(reads, q)
		}
	}
	return reads
}

// ReadInIndexOrder reports whether a recorded statement was read in index
// order, and returns it without the comment that says so.
func ReadInIndexOrder(stmt string) (unmarked string, marked bool) {
	return strings.CutPrefix(stmt, "/* "+app.IndexOrderComment+" */ ")
}

// QueryAsRecorded runs a recorded read on db, after the prefix given (an
// EXPLAIN, or nothing), as the store ran it: one marked as read in index
// order in a read-only transaction with its setting. scan reads its rows.
func QueryAsRecorded(ctx context.Context, db *sql.DB, prefix, stmt string, scan func(*sql.Rows) error) error {
	if _, marked := ReadInIndexOrder(stmt); !marked {
		return queryRows(ctx, db, prefix+stmt, scan)
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, app.IndexOrderSetting); err != nil {
		return err
	}
	if err := queryRows(ctx, tx, prefix+stmt, scan); err != nil {
		return err
	}
	return tx.Commit()
}

// ExplainAsRecorded is PostgreSQL's plan of a recorded read, run as the
// store ran it (QueryAsRecorded), with the EXPLAIN options given: its lines,
// or in JSON its one document.
func ExplainAsRecorded(ctx context.Context, db *sql.DB, options, stmt string) (string, error) {
	var plan strings.Builder
	err := QueryAsRecorded(ctx, db, "EXPLAIN ("+options+") ", stmt, func(rows *sql.Rows) error {
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan.WriteString(line + "\n")
		}
		return nil
	})
	return plan.String(), err
}

func queryRows(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Err()
}
