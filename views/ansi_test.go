package views_test

import (
	"strings"
	"testing"

	"github.com/agentdeck/agentdeck/views"
)

func TestANSIRendersColoursAsClassesAndEscapesEverything(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "ok  pkg/auth", "ok  pkg/auth"},
		{"markup is text", `<script>alert("x")</script> & more`, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more"},
		{"a colour and a reset", "\x1b[32mPASS\x1b[0m done", `<span class="ansi-fg-2">PASS</span> done`},
		{"bold bright red", "\x1b[1;91mFAIL\x1b[m", `<span class="ansi-fg-9 ansi-bold">FAIL</span>`},
		{"styles accumulate", "\x1b[4mu\x1b[33mv\x1b[24mw", `<span class="ansi-underline">u</span><span class="ansi-fg-3 ansi-underline">v</span><span class="ansi-fg-3">w</span>`},
		{"background", "\x1b[41;37m!\x1b[49m", `<span class="ansi-fg-7 ansi-bg-1">!</span>`},
		{"256 colours, low and high", "\x1b[38;5;4ma\x1b[38;5;200mb", `<span class="ansi-fg-4">a</span><span class="ansi-fg-4">b</span>`},
		{"true colour skipped", "\x1b[38;2;255;0;0mred\x1b[0m", "red"},
		{"markup inside colour", "\x1b[31m<b>x</b>\x1b[0m", `<span class="ansi-fg-1">&lt;b&gt;x&lt;/b&gt;</span>`},
		{"cursor moves dropped", "\x1b[2K\x1b[1Gprogress 50%\r", "progress 50%"},
		{"OSC title dropped", "\x1b]0;title\x07after", "after"},
		{"OSC hyperlink dropped", "\x1b]8;;javascript:alert(1)\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"unterminated escape", "tail\x1b[31", "tail"},
		{"injected class", "\x1b[31\"><script>m", "cript&gt;m"}, // the sequence ends at its final byte, s
	}
	for _, c := range cases {
		got := string(views.ANSI(c.in))
		if got != c.want {
			t.Errorf("%s: ANSI(%q)\n got  %s\n want %s", c.name, c.in, got, c.want)
		}
		if strings.Contains(got, "<script") {
			t.Errorf("%s: markup leaked: %s", c.name, got)
		}
	}
}
