package views

import (
	"html/template"
	"strconv"
	"strings"
)

// ansiStyle is the state the SGR codes of a terminal line build up.
type ansiStyle struct {
	fg, bg                       int // 0–15, or -1 for the default
	bold, dim, italic, underline bool
}

var plainStyle = ansiStyle{fg: -1, bg: -1}

// classes names the style as CSS classes; the stylesheet holds the colours,
// because the CSP forbids inline styles.
func (s ansiStyle) classes() string {
	var c []string
	if s.fg >= 0 {
		c = append(c, "ansi-fg-"+strconv.Itoa(s.fg))
	}
	if s.bg >= 0 {
		c = append(c, "ansi-bg-"+strconv.Itoa(s.bg))
	}
	if s.bold {
		c = append(c, "ansi-bold")
	}
	if s.dim {
		c = append(c, "ansi-dim")
	}
	if s.italic {
		c = append(c, "ansi-italic")
	}
	if s.underline {
		c = append(c, "ansi-underline")
	}
	return strings.Join(c, " ")
}

// apply folds one SGR sequence's parameters into the style. Colours beyond
// the sixteen of the basic palette are dropped rather than approximated.
func (s *ansiStyle) apply(params string) {
	codes := strings.Split(params, ";")
	for i := 0; i < len(codes); i++ {
		n, err := strconv.Atoi(codes[i])
		if codes[i] == "" {
			n, err = 0, nil
		}
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			*s = plainStyle
		case n == 1:
			s.bold = true
		case n == 2:
			s.dim = true
		case n == 3:
			s.italic = true
		case n == 4:
			s.underline = true
		case n == 22:
			s.bold, s.dim = false, false
		case n == 23:
			s.italic = false
		case n == 24:
			s.underline = false
		case n >= 30 && n <= 37:
			s.fg = n - 30
		case n == 39:
			s.fg = -1
		case n >= 40 && n <= 47:
			s.bg = n - 40
		case n == 49:
			s.bg = -1
		case n >= 90 && n <= 97:
			s.fg = n - 90 + 8
		case n >= 100 && n <= 107:
			s.bg = n - 100 + 8
		case n == 38 || n == 48:
			// 38;5;N picks from 256 colours, 38;2;R;G;B is true colour.
			target := &s.fg
			if n == 48 {
				target = &s.bg
			}
			if i+2 < len(codes) && codes[i+1] == "5" {
				if c, err := strconv.Atoi(codes[i+2]); err == nil && c < 16 {
					*target = c
				}
				i += 2
			} else if i+4 < len(codes) && codes[i+1] == "2" {
				i += 4
			}
		}
	}
}

// ANSI renders a terminal line as HTML: every character of the text is
// escaped, SGR colour and style codes become spans with classes, and every
// other escape or control sequence is dropped. No markup from the line
// itself can reach the page.
func ANSI(line string) template.HTML {
	var b strings.Builder
	style := plainStyle
	open := false
	var text strings.Builder
	flush := func() {
		if text.Len() == 0 {
			return
		}
		if cls := style.classes(); cls != "" {
			b.WriteString(`<span class="` + cls + `">`)
			open = true
		}
		b.WriteString(template.HTMLEscapeString(text.String()))
		if open {
			b.WriteString("</span>")
			open = false
		}
		text.Reset()
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == 0x1b && i+1 < len(line) && line[i+1] == '[':
			// CSI: parameters, then one final byte from @ to ~.
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			if j < len(line) && line[j] == 'm' {
				flush()
				style.apply(line[i+2 : j])
			}
			i = j
		case c == 0x1b && i+1 < len(line) && line[i+1] == ']':
			// OSC (titles, hyperlinks): up to BEL or ESC \.
			j := i + 2
			for j < len(line) && line[j] != 0x07 && !(line[j] == 0x1b && j+1 < len(line) && line[j+1] == '\\') {
				j++
			}
			if j < len(line) && line[j] == 0x1b {
				j++
			}
			i = j
		case c == 0x1b:
			i++ // a two-byte escape
		case c < 0x20 && c != '\t' || c == 0x7f:
			// Other control characters (carriage returns, bells) show nothing.
		default:
			text.WriteByte(c)
		}
	}
	flush()
	return template.HTML(b.String())
}
