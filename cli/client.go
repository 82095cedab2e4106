package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// client speaks to the API, retrying what may succeed later: network
// failures, 5xx, 408 and 429. Sequence numbers and the client-chosen run id
// make every retry safe.
type client struct {
	base       string
	token      string
	http       *http.Client
	minBackoff time.Duration
	maxBackoff time.Duration
	// unreachable is told about each failed attempt that will be retried.
	unreachable func(err error, wait time.Duration)
}

// apiError is a refusal that retrying cannot change.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *apiError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("the server refused the request (%d %s: %s, field %s)", e.Status, e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("the server refused the request (%d %s: %s)", e.Status, e.Code, e.Message)
}

// do sends one request until it succeeds, is refused for good, or ctx ends,
// and decodes a successful answer into out. key, when set, is the request's
// Idempotency-Key, the same on every attempt.
func (c *client) do(ctx context.Context, method, path, key string, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	wait := c.minBackoff
	for {
		retryAfter, err := c.once(ctx, method, path, key, payload, out)
		var refused *apiError
		if err == nil || errors.As(err, &refused) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("gave up: %w", err)
		}
		pause := max(wait, retryAfter)
		if c.unreachable != nil {
			c.unreachable(err, pause)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up: %w", err)
		case <-time.After(pause):
		}
		wait = min(2*wait, c.maxBackoff)
	}
}

// once makes one attempt; a non-nil error that is not an *apiError is worth
// retrying, after at least retryAfter.
func (c *client) once(ctx context.Context, method, path, key string, payload []byte, out any) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(payload))
	if err != nil {
		return 0, &apiError{Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	switch {
	case resp.StatusCode < 300:
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return 0, &apiError{Status: resp.StatusCode, Message: "unreadable answer: " + err.Error()}
			}
		}
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(secs) * time.Second, fmt.Errorf("the server answered %s", resp.Status)
	}
	var e struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	json.Unmarshal(raw, &e)
	return 0, &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field}
}
