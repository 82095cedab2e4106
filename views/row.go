package views

import (
	"html"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentdeck/agentdeck/app"
)

// The table's rows, the status badge and the avatar are written here rather
// than in a template: a page has fifty rows, every live update renders one,
// and html/template's reflection spent about fifty microseconds on each row,
// most of a fragment's time. Every value is escaped with html.EscapeString,
// which is safe in text and in double-quoted attributes, and every link goes
// through SafeURL. The templates call these functions, so there is still one
// definition of each piece.

// statusBadges are the finished badges, icon and label, of every status.
var statusBadges = func() map[app.Status]template.HTML {
	m := map[app.Status]template.HTML{}
	for _, s := range app.Statuses {
		m[s] = template.HTML(`<span class="status status--` + string(s) + `">` + string(statusIcon(s)) +
			`<span class="status__label">` + html.EscapeString(s.Label()) + `</span></span>`)
	}
	return m
}()

// StatusBadge is a status's icon and text label.
func StatusBadge(s app.Status) template.HTML {
	if b, ok := statusBadges[s]; ok {
		return b
	}
	return template.HTML(`<span class="status">` + html.EscapeString(string(s)) + `</span>`)
}

// Avatar is a user's picture, or their initials when they have none.
func Avatar(u *app.User) template.HTML {
	var b strings.Builder
	writeAvatar(&b, u)
	return template.HTML(b.String())
}

func writeAvatar(b *strings.Builder, u *app.User) {
	b.WriteString(`<span class="avatar" aria-hidden="true">`)
	if src := SafeURL(u.AvatarURL); src != "" {
		b.WriteString(`<img src="`)
		writeEscaped(b, string(src))
		b.WriteString(`" alt="" width="20" height="20" loading="lazy">`)
	} else {
		writeEscaped(b, u.Initials())
	}
	b.WriteString(`</span>`)
}

// Rows are the table rows of items, shown at now in loc, with the searched
// words marked in their titles.
//
// A row that begins a day (in the viewer's zone) follows a separator naming
// it. Each page starts with one; the page's script drops a repeated one when
// "Load more" or a live update brings rows of a day already shown.
func Rows(items []*app.Item, now time.Time, loc *time.Location, highlight []string) template.HTML {
	var b strings.Builder
	b.Grow(len(items) * 1500)
	var st rowsState
	for _, it := range items {
		if st.setDay(it.CreatedAt, now, loc) {
			b.WriteString(`<tr class="day" data-day="`)
			b.WriteString(st.date)
			b.WriteString(`"><th scope="colgroup" colspan="7">`)
			b.WriteString(st.label)
			b.WriteString(`</th></tr>`)
			b.WriteByte('\n')
		}
		writeRow(&b, it, &st, now, loc, highlight)
	}
	return template.HTML(b.String())
}

// rowsState is what a page of rows works out once rather than for every row:
// the day the current row was created on, in the viewer's zone, with its
// date and its label (escaped), and the avatars of the creators seen so far.
type rowsState struct {
	start, end time.Time // the day's bounds
	date       string
	label      string
	avatars    map[int64]string // by creator id
}

// avatar is a creator's avatar as writeAvatar writes it, written once a page
// for each creator with an id.
func (st *rowsState) avatar(u *app.User) string {
	if a, ok := st.avatars[u.ID]; ok {
		return a
	}
	var b strings.Builder
	writeAvatar(&b, u)
	if u.ID != 0 {
		if st.avatars == nil {
			st.avatars = map[int64]string{}
		}
		st.avatars[u.ID] = b.String()
	}
	return b.String()
}

// setDay makes it t's day, and reports whether that is another day than
// before.
func (st *rowsState) setDay(t, now time.Time, loc *time.Location) bool {
	if !st.start.IsZero() && !t.Before(st.start) && t.Before(st.end) {
		return false
	}
	local := t.In(loc)
	y, m, day := local.Date()
	st.start = time.Date(y, m, day, 0, 0, 0, 0, loc)
	st.end = st.start.AddDate(0, 0, 1)
	st.date = local.Format(time.DateOnly)
	st.label = html.EscapeString(rowDayLabel(t, now, loc))
	return true
}

// rowDayLabel names a day in the list: "Today", "Yesterday", "Mon 23 Nov",
// with the year when it is not this one.
func rowDayLabel(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	switch {
	case !t.Before(today):
		return "Today"
	case !t.Before(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case t.Year() == now.Year():
		return t.Format("Mon 2 Jan")
	}
	return t.Format("Mon 2 Jan 2006")
}

// HTML is the row alone, as live updates send it.
func (r RowData) HTML() template.HTML {
	var b strings.Builder
	var st rowsState
	st.setDay(r.Item.CreatedAt, r.Now, r.Loc)
	writeRow(&b, r.Item, &st, r.Now, r.Loc, r.Highlight)
	return template.HTML(b.String())
}

// writeRow writes one row of the view, created on st's day. Its id lets live
// updates replace it in place.
func writeRow(b *strings.Builder, it *app.Item, st *rowsState, now time.Time, loc *time.Location, highlight []string) {
	esc := func(s string) { writeEscaped(b, s) }
	// Times are formatted into one scratch buffer rather than new strings.
	var scratch [64]byte
	iso := func(t time.Time) { b.Write(appendISOTime(scratch[:0], t)) }

	b.WriteString(`<tr id="item-`)
	esc(it.ID)
	b.WriteString(`" class="row row--`)
	esc(string(it.Kind))
	b.WriteString(`" data-day="`)
	b.WriteString(st.date)
	b.WriteString(`" data-day-label="`)
	b.WriteString(st.label)
	b.WriteString(`">`)

	b.WriteString(`<td class="col-status">`)
	b.WriteString(string(StatusBadge(it.Status)))
	b.WriteString(`</td>`)

	// One click on a row leads to the item's page, for every kind and every
	// viewer. A conversation's page shows its transcript and offers its owner
	// the desktop app and the command that resumes it; the desktop app's deep
	// link alone would leave teammates, who do not have the conversation,
	// nowhere, and its owner without the share controls.
	b.WriteString(`<td class="col-title"><a class="row__link" href="/runs/`)
	esc(url.PathEscape(it.ID))
	b.WriteString(`">`)
	writeMarked(b, it.Title, highlight)
	b.WriteString(`</a>`)
	writeRowMeta(b, it, highlight)
	b.WriteString(`</td>`)

	b.WriteString(`<td class="col-source"><span class="source source--`)
	esc(string(it.Source))
	b.WriteString(`">`)
	b.WriteString(string(sourceIcon(it.Source)))
	esc(it.Source.Label())
	b.WriteString(`</span>`)
	if ref, href := SourceRef(it.ExternalURL); ref != "" {
		b.WriteString(` <a class="source__ref" href="`)
		esc(string(href))
		b.WriteString(`" rel="noopener noreferrer">`)
		esc(ref)
		b.WriteString(`</a>`)
	}
	b.WriteString(`</td>`)

	b.WriteString(`<td class="col-creator">`)
	if it.Creator != nil {
		b.WriteString(`<span class="creator">`)
		b.WriteString(st.avatar(it.Creator))
		b.WriteString(`<span>`)
		esc(it.Creator.DisplayName())
		b.WriteString(`</span></span>`)
	}
	b.WriteString(`</td>`)

	b.WriteString(`<td class="col-created"><time datetime="`)
	iso(it.CreatedAt)
	b.WriteString(`" title="`)
	b.Write(appendExactTime(scratch[:0], it.CreatedAt, loc)) // no character to escape
	b.WriteString(`">`)
	b.Write(appendAgo(scratch[:0], it.CreatedAt, now, loc)) // no character to escape
	b.WriteString(`</time></td>`)

	b.WriteString(`<td class="col-duration">`)
	if it.HasDuration() {
		b.WriteString(`<span class="duration"`)
		if it.FinishedAt.IsZero() {
			b.WriteString(` data-started="`)
			iso(it.StartedAt)
			b.WriteString(`" data-now="`)
			iso(now)
			b.WriteString(`"`)
		}
		b.WriteString(`>`)
		b.Write(appendDuration(scratch[:0], it.Duration(now)))
		b.WriteString(`</span>`)
	} else {
		b.WriteString(`<span class="none" title="Interactive conversations have no duration">—</span>`)
	}
	b.WriteString(`</td>`)

	b.WriteString(`<td class="col-credits num" title="`)
	if it.Kind == app.KindAmbient {
		b.WriteString(`Inference `)
		b.Write(it.Inference.Append(scratch[:0]))
		b.WriteString(` + compute `)
		b.Write(it.Compute.Append(scratch[:0]))
	} else {
		b.WriteString(`Inference`)
	}
	b.WriteString(`">`)
	if it.CreditsKnown() {
		b.Write(it.Credits().Append(scratch[:0]))
	} else {
		b.WriteString(`<span class="credits-unknown">unknown</span>`)
	}
	b.WriteString(`</td></tr>`)
	b.WriteByte('\n')
}

// writeRowMeta writes the title's second, quieter line: the agent, where it
// ran, and what the status alone does not say (what a blocked item waits
// for, why a failed one failed, a missing price).
//
// When a search found the item by its first prompt rather than its title,
// the words found are shown in their place in the prompt.
func writeRowMeta(b *strings.Builder, it *app.Item, highlight []string) {
	var parts []string
	if it.AgentName != "" {
		parts = append(parts, app.AgentLabel(it.AgentName))
	}
	if it.Where.Repo != "" {
		repo := it.Where.Repo
		if it.Where.Branch != "" {
			repo += " · " + it.Where.Branch
		}
		parts = append(parts, repo)
	}
	if it.Reason != "" && (it.Status == app.StatusBlocked || it.Status == app.StatusFailed || it.Status == app.StatusCanceled) {
		parts = append(parts, it.Reason)
	}
	for _, m := range it.UnpricedModelList() {
		parts = append(parts, "no price for model "+m)
	}
	excerpt := promptExcerpt(it, highlight)
	if len(parts) == 0 && excerpt == "" {
		return
	}
	b.WriteString(`<span class="row__meta">`)
	for i, p := range parts {
		if i > 0 {
			b.WriteString(` <span aria-hidden="true">—</span> `)
		}
		writeEscaped(b, p)
	}
	if excerpt != "" {
		if len(parts) > 0 {
			b.WriteString(` <span aria-hidden="true">—</span> `)
		}
		b.WriteString(`<span class="row__prompt">“`)
		writeMarked(b, excerpt, highlight)
		b.WriteString(`”</span>`)
	}
	b.WriteString(`</span>`)
}

// promptExcerpt is the part of the first prompt around the first searched
// word, when the title has none of them; "" otherwise.
func promptExcerpt(it *app.Item, words []string) string {
	if len(words) == 0 || it.FirstPrompt == "" {
		return ""
	}
	title := strings.ToLower(it.Title)
	prompt := strings.ToLower(it.FirstPrompt)
	if len(prompt) != len(it.FirstPrompt) {
		return "" // a lower case of another length: offsets would not carry over
	}
	at := -1
	for _, w := range words {
		if strings.Contains(title, w) {
			return ""
		}
		if i := strings.Index(prompt, w); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return ""
	}
	const before, length = 30, 90
	start := max(0, at-before)
	for start > 0 && !utf8.RuneStart(it.FirstPrompt[start]) {
		start--
	}
	end := min(len(it.FirstPrompt), start+length)
	for end < len(it.FirstPrompt) && !utf8.RuneStart(it.FirstPrompt[end]) {
		end++
	}
	excerpt := strings.Join(strings.Fields(it.FirstPrompt[start:end]), " ")
	if start > 0 {
		excerpt = "…" + excerpt
	}
	if end < len(it.FirstPrompt) {
		excerpt += "…"
	}
	return excerpt
}

// writeEscaped writes s escaped as html.EscapeString escapes it, straight
// into b rather than into a new string first.
func writeEscaped(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var entity string
		switch s[i] {
		case '<':
			entity = "&lt;"
		case '>':
			entity = "&gt;"
		case '&':
			entity = "&amp;"
		case '\'':
			entity = "&#39;"
		case '"':
			entity = "&#34;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(entity)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// writeMarked writes text escaped, with every occurrence of the words (any
// case) in <mark>. Text whose lower case changes its length (rare scripts)
// is written unmarked rather than marked wrongly.
func writeMarked(b *strings.Builder, text string, words []string) {
	if len(words) == 0 {
		writeEscaped(b, text)
		return
	}
	lower := strings.ToLower(text)
	if len(lower) != len(text) {
		writeEscaped(b, text)
		return
	}
	marked := make([]bool, len(text))
	for _, w := range words {
		if w == "" {
			continue
		}
		for from := 0; ; {
			i := strings.Index(lower[from:], w)
			if i < 0 {
				break
			}
			for j := from + i; j < from+i+len(w); j++ {
				marked[j] = true
			}
			from += i + len(w)
		}
	}
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && marked[j] == marked[i] {
			j++
		}
		if marked[i] {
			b.WriteString("<mark>")
			writeEscaped(b, text[i:j])
			b.WriteString("</mark>")
		} else {
			writeEscaped(b, text[i:j])
		}
		i = j
	}
}
