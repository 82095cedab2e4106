package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// sessionStore is gorilla's session store interface over the database: the
// session lives in app.Store, and the browser's cookie holds only its random
// id, signed so that a forged cookie is refused before any lookup. Ending a
// session deletes its row, so the old cookie is worth nothing after
// sign-out.
type sessionStore struct {
	store   *app.Store
	codecs  []securecookie.Codec
	options sessions.Options
	decoded sessionData
}

// newSessionStore signs cookies with the newest key and reads them with any
// of keys, newest first, so that a key can be rotated without signing
// everyone out.
func newSessionStore(store *app.Store, keys [][]byte, secure bool) *sessionStore {
	return &sessionStore{
		store:  store,
		codecs: sessionCodecs(keys),
		options: sessions.Options{
			Path:     "/",
			MaxAge:   int(app.SessionMaxLifetime.Seconds()),
			HttpOnly: true,
			Secure:   secure,
			SameSite: http.SameSiteLaxMode,
		},
	}
}

// sessionCodecs sign session cookies: one codec per key, newest first.
func sessionCodecs(keys [][]byte) []securecookie.Codec {
	codecs := make([]securecookie.Codec, len(keys))
	for i, k := range keys {
		hashKey := sha256.Sum256(append([]byte("agentdeck session hash:"), k...))
		sc := securecookie.New(hashKey[:], nil)
		sc.MaxAge(int(app.SessionMaxLifetime.Seconds()))
		sc.SetSerializer(securecookie.NopEncoder{})
		codecs[i] = sc
	}
	return codecs
}

// Get returns the request's session of that name, loading it once per
// request.
func (st *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the request's cookie. A missing, forged,
// expired or ended session gives a new, empty one: the visitor is signed
// out. Only a failing database is an error.
func (st *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(st, name)
	opts := st.options
	sess.Options = &opts
	sess.IsNew = true
	ck, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id []byte
	if err := securecookie.DecodeMulti(name, ck.Value, &id, st.codecs...); err != nil {
		return sess, nil
	}
	row, err := st.store.Session(r.Context(), string(id))
	if errors.Is(err, app.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	values, ok := st.decoded.values(row.Data)
	if !ok {
		// Unreadable data cannot be trusted: start afresh.
		return sess, nil
	}
	if row.UserID != 0 {
		values[sessUserID] = row.UserID
	}
	values[sessionEndsKey{}] = row.Ends()
	sess.Values, sess.ID, sess.IsNew = values, string(id), false
	return sess, nil
}

// sessionData decodes the values sessions keep (a CSRF token, a sign-in's
// state). Every request of a signed-in visitor loads the same few bytes, and
// gob builds its decoder anew for each: that was most of loading a session
// kept in memory. The values of data seen lately are kept, and every
// request gets its own copy of them to change.
type sessionData struct {
	mu     sync.Mutex
	recent map[string]map[any]any
}

// maxDecodedSessions bounds the data kept: beyond it, the next decoding
// starts the memory afresh.
const maxDecodedSessions = 4096

// values are the values data holds; false when it cannot be read.
func (d *sessionData) values(data []byte) (map[any]any, bool) {
	d.mu.Lock()
	kept, ok := d.recent[string(data)]
	d.mu.Unlock()
	if ok {
		return maps.Clone(kept), true
	}
	values := map[any]any{}
	if len(data) > 0 {
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
			return nil, false
		}
	}
	d.mu.Lock()
	if d.recent == nil || len(d.recent) >= maxDecodedSessions {
		d.recent = map[string]map[any]any{}
	}
	d.recent[string(data)] = maps.Clone(values)
	d.mu.Unlock()
	return values, true
}

// sessionEndsKey keeps, among a loaded session's values, when the session
// ends unless used again (app.Session.Ends): live streams end with it. It is
// read from the session's row, never saved.
type sessionEndsKey struct{}

// Save writes the session. A new one gets a row and a cookie; an existing one
// gets its row updated and keeps its cookie; one whose MaxAge is negative
// is ended: its row is deleted and its cookie cleared.
func (st *sessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if _, err := st.end(ctx, sess); err != nil {
			return err
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	userID, _ := sess.Values[sessUserID].(int64)
	rest := make(map[any]any, len(sess.Values))
	for k, v := range sess.Values {
		if _, loaded := k.(sessionEndsKey); k != sessUserID && !loaded {
			rest[k] = v
		}
	}
	var data bytes.Buffer
	if err := gob.NewEncoder(&data).Encode(rest); err != nil {
		return err
	}
	if sess.ID != "" {
		// A session ended meanwhile, by a sign-out in another tab, stays
		// ended: nothing is written and no cookie is set.
		_, err := st.store.UpdateSession(ctx, sess.ID, userID, data.Bytes())
		return err
	}
	id, err := st.store.CreateSession(ctx, userID, data.Bytes(), time.Duration(sess.Options.MaxAge)*time.Second)
	if err != nil {
		return err
	}
	value, err := securecookie.EncodeMulti(sess.Name(), []byte(id), st.codecs...)
	if err != nil {
		return err
	}
	sess.ID, sess.IsNew = id, false
	http.SetCookie(w, sessions.NewCookie(sess.Name(), value, sess.Options))
	return nil
}

// end deletes the session's row and empties it, so that saving it again
// starts a new session under a new id. It reports whether this call ended
// it: of several requests ending one session, exactly one learns true.
func (st *sessionStore) end(ctx context.Context, sess *sessions.Session) (bool, error) {
	ended := false
	if sess.ID != "" {
		var err error
		if ended, err = st.store.DeleteSession(ctx, sess.ID); err != nil {
			return false, err
		}
	}
	sess.ID, sess.IsNew = "", true
	clear(sess.Values)
	return ended, nil
}
