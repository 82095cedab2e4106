package views

import (
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/agentdeck/agentdeck/app"
)

// The filter form is written here rather than in a template for the reason
// the rows are (see row.go): html/template's reflection spent about a third
// of a millisecond on its menus, a third of a fragment's time. Every value is
// escaped with html.EscapeString, which is safe in text and in double-quoted
// attributes; the menus' option labels come escaped already.

// FilterForm is the view's filter form: the search, the menus, the creator
// menu (on All; on Personal the creators chosen ride along hidden) and the
// day menu. Every change asks for the results fragment; without JavaScript
// the Apply button submits it as a plain GET. With FiltersOOB it replaces
// the page's form out of band.
func FilterForm(p ViewPage) template.HTML {
	var b strings.Builder
	b.Grow(16 << 10) // a form with full menus is some 8 to 16 KB
	f := p.Filter
	b.WriteString(`<form id="filters" class="filters" action="/" method="get" hx-get="/" hx-trigger="change" hx-sync="this:replace"`)
	if p.FiltersOOB {
		b.WriteString(` hx-swap-oob="true"`)
	}
	b.WriteString(">\n")
	if f.Tab == app.TabAll {
		writeHidden(&b, "tab", "all")
		b.WriteByte('\n')
	}
	b.WriteString(`<input type="hidden" name="tz" value="`)
	b.WriteString(html.EscapeString(f.TZ))
	b.WriteString(`" data-tz>` + "\n")
	b.WriteString(`<input type="search" id="search" class="search" name="q" value="`)
	b.WriteString(html.EscapeString(f.Query))
	b.WriteString(`" placeholder="Search titles and prompts" aria-label="Search titles and prompts"` +
		` hx-get="/" hx-include="#filters" hx-trigger="input changed delay:300ms, search" hx-sync="#filters:replace" data-search>` + "\n")
	for _, m := range p.Menus {
		if len(m.Options) > 0 {
			writeMenu(&b, m)
		}
	}
	if f.Tab == app.TabAll {
		writeCreatorMenu(&b, f.Creators, p.Teammates, p.User)
	} else {
		for _, h := range f.Creators.Is {
			writeHidden(&b, "creator", h)
		}
		for _, h := range f.Creators.Not {
			writeHidden(&b, "creator", "-"+h)
		}
	}
	b.WriteByte('\n')
	writeDayMenu(&b, f.Day)
	b.WriteString(`<noscript><button type="submit" class="button">Apply</button></noscript>` + "\n</form>\n")
	return template.HTML(b.String())
}

// writeMenu writes one of the menus of values, a box for each value.
func writeMenu(b *strings.Builder, m Menu) {
	b.WriteString(`<details class="menu">` + "\n<summary>")
	b.WriteString(html.EscapeString(m.Label))
	writeCount(b, m.Count)
	b.WriteString(`</summary>` + "\n" + `<fieldset><legend class="sr-only">`)
	b.WriteString(html.EscapeString(m.Label))
	b.WriteString(`</legend>` + "\n")
	for _, o := range m.Options {
		writeCheckbox(b, m.Param, o.Value, o.Checked)
		b.WriteString(string(o.Label))
		b.WriteString("</label>\n")
	}
	for _, v := range m.Hidden {
		writeHidden(b, m.Param, v)
	}
	if len(m.Hidden) > 0 {
		b.WriteByte('\n')
	}
	writeModeBox(b, m.Param, m.LeavesOut)
	b.WriteString("</fieldset>\n</details>\n")
}

// writeCreatorMenu writes the menu of people, with the viewer (me) marked.
// Creators left out while others are kept cannot be shown ticked, so they
// ride along hidden.
func writeCreatorMenu(b *strings.Builder, creators app.Choice[string], teammates []*app.User, me *app.User) {
	leavesOut := creators.Negated()
	b.WriteString(`<details class="menu">` + "\n<summary>Creator")
	writeCount(b, creators.Len())
	b.WriteString(`</summary>` + "\n" + `<fieldset><legend class="sr-only">Creator</legend>` + "\n")
	for _, u := range teammates {
		checked := creators.Has(u.Handle)
		if leavesOut {
			checked = creators.Excludes(u.Handle)
		}
		writeCheckbox(b, "creator", u.Handle, checked)
		writeAvatar(b, u)
		b.WriteByte(' ')
		b.WriteString(html.EscapeString(u.DisplayName()))
		if me != nil && u.ID == me.ID {
			b.WriteString(` <span class="muted">(me)</span>`)
		}
		b.WriteString(`</label>`)
	}
	b.WriteByte('\n')
	if !leavesOut && len(creators.Not) > 0 {
		for _, h := range creators.Not {
			writeHidden(b, "creator", "-"+h)
		}
		b.WriteByte('\n')
	}
	writeModeBox(b, "creator", leavesOut)
	b.WriteString("</fieldset>\n</details>")
}

// writeDayMenu writes the day menu: any day, the shortcuts, or a date.
func writeDayMenu(b *strings.Builder, day string) {
	b.WriteString(`<details class="menu">` + "\n<summary>Day")
	if day != "" {
		writeCount(b, 1)
	}
	b.WriteString(`</summary>` + "\n" + `<fieldset><legend class="sr-only">Day of creation</legend>` + "\n")
	b.WriteString(`<label><input type="radio" name="day" value=""`)
	writeChecked(b, day == "")
	b.WriteString("> Any day</label>\n")
	for _, s := range DayShortcuts {
		b.WriteString(`<label><input type="radio" name="day" value="`)
		b.WriteString(html.EscapeString(s.Value))
		b.WriteByte('"')
		writeChecked(b, day == s.Value)
		b.WriteString("> ")
		b.WriteString(html.EscapeString(s.Label))
		b.WriteString("</label>\n")
	}
	date := ""
	if !IsDayShortcut(day) {
		date = day
	}
	b.WriteString(`<label><input type="radio" name="day" value="date" data-day-date`)
	writeChecked(b, date != "")
	b.WriteString("> On\n" + `<input type="date" name="date" value="`)
	b.WriteString(html.EscapeString(date))
	b.WriteString(`" aria-label="Day of creation" data-date></label>` + "\n</fieldset>\n</details>\n")
}

// writeCheckbox opens an option's label with its box; the caller writes the
// option's name and closes the label.
func writeCheckbox(b *strings.Builder, name, value string, checked bool) {
	b.WriteString(`<label><input type="checkbox" name="`)
	b.WriteString(html.EscapeString(name))
	b.WriteString(`" value="`)
	b.WriteString(html.EscapeString(value))
	b.WriteByte('"')
	writeChecked(b, checked)
	b.WriteString("> ")
}

// writeModeBox writes the box that turns a menu's ticked values into ones
// to leave out.
func writeModeBox(b *strings.Builder, param string, leavesOut bool) {
	b.WriteString(`<label class="menu__mode"><input type="checkbox" name="`)
	b.WriteString(html.EscapeString(param))
	b.WriteString(`_mode" value="not"`)
	writeChecked(b, leavesOut)
	b.WriteString("> Leave the ticked ones out</label>\n")
}

func writeHidden(b *strings.Builder, name, value string) {
	b.WriteString(`<input type="hidden" name="`)
	b.WriteString(html.EscapeString(name))
	b.WriteString(`" value="`)
	b.WriteString(html.EscapeString(value))
	b.WriteString(`">`)
}

func writeChecked(b *strings.Builder, checked bool) {
	if checked {
		b.WriteString(" checked")
	}
}

// writeCount writes a menu's count of values chosen, when there are any.
func writeCount(b *strings.Builder, n int) {
	if n > 0 {
		b.WriteString(` <span class="count">`)
		b.WriteString(strconv.Itoa(n))
		b.WriteString(`</span>`)
	}
}
