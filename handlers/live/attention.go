package live

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
)

// Attention is the kind of stream that keeps Needs attention true: the
// count in every page's navigation and, on the page itself, its entries. A
// change to an item is read once; for each person with a stream open who
// may see that item, the count (and the entries, when shown) is read and
// rendered once, and sent to their streams when it differs from what was
// sent last.
type Attention struct {
	store    *app.Store
	renderer *views.Renderer
	log      *slog.Logger

	mu   sync.Mutex
	sent map[attentionKey]string // the digest last sent to each group of streams
}

// NewAttention makes the Needs attention streams' kind.
func NewAttention(store *app.Store, renderer *views.Renderer, log *slog.Logger) *Attention {
	return &Attention{store: store, renderer: renderer, log: log, sent: map[attentionKey]string{}}
}

// attentionKey groups the streams that show the same thing: one person's
// count, with or without the entries (whose times are shown in a zone).
type attentionKey struct {
	userID int64
	list   bool
	zone   string
}

// Key is what a person's streams are grouped by; list says the page shows
// the entries, with times in the zone (an IANA name, "" for UTC).
func (k *Attention) Key(v app.Viewer, list bool, zone string) any {
	if !list {
		zone = ""
	}
	return attentionKey{v.User.ID, list, zone}
}

// Follow is the subscriber of the stream of a key; seen is the digest of
// what its page shows.
func (k *Attention) Follow(v app.Viewer, key any, seen string) Subscriber {
	return &attentionStream{kind: k, viewer: v, key: key.(attentionKey), seen: seen}
}

// attentionStream is one stream's own part: its catch-up.
type attentionStream struct {
	kind   *Attention
	viewer app.Viewer
	key    attentionKey
	seen   string
}

// CatchUp sends what the page shows unless it is still true.
func (as *attentionStream) CatchUp(ctx context.Context) ([]byte, bool, error) {
	msg, digest, err := as.kind.message(ctx, as.viewer, as.key)
	if err != nil || digest == as.seen {
		return nil, true, err
	}
	return msg, true, nil
}

// Nudged is never asked of an attention stream: the dispatcher sends to it.
func (as *attentionStream) Nudged(context.Context, func([]byte) bool) bool { return true }

// message renders a person's count, and the entries when the key's streams
// show them, as one message, with its digest.
func (k *Attention) message(ctx context.Context, v app.Viewer, key attentionKey) ([]byte, string, error) {
	count, err := k.store.AttentionCount(ctx, v)
	if err != nil {
		return nil, "", err
	}
	data := views.AttentionPage{}
	if key.list {
		page, err := k.store.Attention(ctx, v, nil, views.AttentionPageSize)
		if err != nil {
			return nil, "", err
		}
		data = views.NewAttentionPage(page, count, true, k.store.Now(), app.Filter{TZ: key.zone}.Location())
		data.ListOOB = true
	} else {
		data.NeedsYou = views.NavCount(count)
		data.Digest = views.CountDigest(count)
	}
	var buf bytes.Buffer
	if err := k.renderer.Render(&buf, views.AttentionLive, data); err != nil {
		return nil, "", err
	}
	return Message("attention", buf.String()), data.Digest, nil
}

// Dispatch sends, to the streams of every person who may see an item the
// hints name, their count and entries when these changed. Who may see what
// is decided afresh: the people (and their teams) are read again, and a
// removed person's streams end.
func (k *Attention) Dispatch(ctx context.Context, hints []app.Hint, streams []*Stream) {
	open := map[attentionKey][]*Stream{}
	keysOf := map[int64][]attentionKey{}
	var userIDs []int64
	for _, st := range streams {
		key := st.Key.(attentionKey)
		if keysOf[key.userID] == nil {
			userIDs = append(userIDs, key.userID)
		}
		if open[key] == nil {
			keysOf[key.userID] = append(keysOf[key.userID], key)
		}
		open[key] = append(open[key], st)
	}
	k.forget(open)
	ids, resync := changedItems(hints)
	if len(ids) == 0 && !resync {
		return
	}
	_, viewers, err := viewersOf(ctx, k.store, userIDs, keysOf, open)
	if err != nil {
		k.log.Error("live attention: load viewers", "err", err)
		return
	}
	touched := map[int64]bool{}
	if resync {
		for _, v := range viewers {
			touched[v.User.ID] = true
		}
	}
	for _, id := range ids {
		_, seers, err := k.store.ItemSeenBy(ctx, id, viewers)
		if errors.Is(err, app.ErrNotFound) {
			continue
		}
		if err != nil {
			k.log.Error("live attention: read item", "item", id, "err", err)
			continue
		}
		for _, v := range seers {
			touched[v.User.ID] = true
		}
	}
	for _, v := range viewers {
		if !touched[v.User.ID] {
			continue
		}
		for _, key := range keysOf[v.User.ID] {
			msg, digest, err := k.message(ctx, v, key)
			if err != nil {
				k.log.Error("live attention: render", "user", v.User.ID, "err", err)
				continue
			}
			if k.changed(key, digest) || resync {
				sendAll(open[key], msg)
			}
		}
	}
}

// changed records digest as the last sent to a group and reports whether
// it differs from the one before.
func (k *Attention) changed(key attentionKey, digest string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sent[key] == digest {
		return false
	}
	k.sent[key] = digest
	return true
}

// forget drops what was sent to groups that have no stream open any more.
func (k *Attention) forget(open map[attentionKey][]*Stream) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key := range k.sent {
		if len(open[key]) == 0 {
			delete(k.sent, key)
		}
	}
}
