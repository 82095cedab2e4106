package apptest

import (
	"context"
	"sync"

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
