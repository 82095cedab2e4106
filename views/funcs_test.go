package views

import (
	"fmt"
	"html"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

func TestSafeURLOnlyLetsHarmlessLinksThrough(t *testing.T) {
	cases := map[string]string{
		"https://linear.app/acme/issue/ENG-1": "https://linear.app/acme/issue/ENG-1",
		"http://example.com/x?y=1":            "http://example.com/x?y=1",
		"agent://conversations/123":           "agent://conversations/123",
		"javascript:alert(1)":                 "",
		"JavaScript:alert(1)":                 "",
		" javascript:alert(1)":                "",
		"data:text/html,<script>x</script>":   "",
		"vbscript:msgbox":                     "",
		"file:///etc/passwd":                  "",
		"https:///no-host":                    "",
		"/relative/path":                      "",
		"":                                    "",
	}
	for in, want := range cases {
		if got := string(SafeURL(in)); got != want {
			t.Errorf("SafeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDurationAndAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 45 * time.Second: "45s", 192 * time.Second: "3m 12s", 64 * time.Minute: "1h 04m", 26 * time.Hour: "26h 00m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for ago, want := range map[time.Duration]string{
		10 * time.Second: "just now", 5 * time.Minute: "5m ago", 3 * time.Hour: "3h ago", 50 * time.Hour: "2d ago",
		20 * 24 * time.Hour: "Nov 5",
	} {
		if got := Ago(now.Add(-ago), now, time.UTC); got != want {
			t.Errorf("Ago(-%s) = %q, want %q", ago, got, want)
		}
	}
}

func TestEveryPageParsesAndStatusesHaveIcons(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range declared {
		if !r.Has(tmpl) {
			t.Errorf("missing template %s", tmpl)
		}
	}
	if r.Has(Template{"view#no-such-block"}) || r.Has(Template{"no-such-page"}) {
		t.Error("Has found templates that do not exist")
	}
	for _, s := range app.Statuses {
		if statusIcons[s] == "" {
			t.Errorf("status %s has no icon", s)
		}
	}
}

func TestRowsEscapeEverythingTheyShow(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	items := []*app.Item{
		{ID: app.NewItemID(), Kind: app.KindInteractive, Source: app.SourceInteractive, Status: app.StatusBlocked,
			Title: evil, CreatedAt: now, OpenURL: "javascript:alert(3)",
			Creator: &app.User{Handle: "x", Name: evil, AvatarURL: "javascript:alert(4)"}},
		{ID: app.NewItemID(), Kind: app.KindInteractive, Source: app.SourceInteractive, Status: app.StatusSuccess,
			Title: "ok", CreatedAt: now, OpenURL: `agent://c/1?q="><b>`,
			Creator: &app.User{Handle: "y", Name: "Y", AvatarURL: `https://img.example.com/a.png?"><b>`}},
	}
	out := string(Rows(items, now, time.UTC, nil))
	for _, bad := range []string{"<script", "<img src=x", "<b>", "javascript:", `"><script`, `"><b>`} {
		if strings.Contains(out, bad) {
			t.Errorf("rows contain %q unescaped:\n%s", bad, out)
		}
	}
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt;`,                  // the title and the name as text
		`href="/runs/` + items[0].ID + `"`,                       // a script link falls back to the run's page
		`href="/runs/` + items[1].ID + `"`,                       // a conversation's row opens its page too
		`<span class="avatar" aria-hidden="true">&#34;`,          // no picture from a script URL: initials
		`src="https://img.example.com/a.png?&#34;&gt;&lt;b&gt;"`, // a real picture, quoted safely
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rows lack %s:\n%s", want, out)
		}
	}
	if got := strings.Count(out, `<tr id="item-`); got != 2 {
		t.Errorf("%d rows, want 2", got)
	}
}

// Rows are grouped by the day they began in the viewer's zone, each day
// named once; where an item came from is named and linked.
func TestRowsSeparateDaysAndNameTheirSource(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	item := func(created time.Time, external string) *app.Item {
		return &app.Item{ID: app.NewItemID(), Kind: app.KindAmbient, Source: app.SourceLinear, Status: app.StatusSuccess,
			Title: "Run", CreatedAt: created, ExternalURL: external}
	}
	out := string(Rows([]*app.Item{
		item(now.Add(-time.Hour), "https://linear.app/acme/issue/ENG-42"),
		item(now.Add(-2*time.Hour), ""),
		// 23:30 UTC on the 24th is already the 25th in Berlin.
		item(time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC), ""),
		item(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), "javascript:alert(1)"),
		item(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), ""),
		item(time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC), ""),
	}, now, berlin, nil))
	var days []string
	for _, m := range regexp.MustCompile(`<tr class="day" data-day="([0-9-]+)"><th scope="colgroup" colspan="7">([^<]+)</th>`).FindAllStringSubmatch(out, -1) {
		days = append(days, m[1]+" "+m[2])
	}
	want := []string{"2026-11-25 Today", "2026-11-24 Yesterday", "2026-11-23 Mon 23 Nov", "2025-12-31 Wed 31 Dec 2025"}
	if !reflect.DeepEqual(days, want) {
		t.Errorf("day separators %q, want %q", days, want)
	}
	if !strings.Contains(out, `<a class="source__ref" href="https://linear.app/acme/issue/ENG-42" rel="noopener noreferrer">ENG-42</a>`) {
		t.Errorf("the Linear issue is not named and linked:\n%s", out)
	}
	if strings.Contains(out, "javascript:") {
		t.Errorf("a script link reached the rows")
	}
}

// A row found by its first prompt shows the words found there, marked and
// escaped; one found by its title does not.
func TestRowsShowWherePromptMatched(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	byPrompt := &app.Item{ID: app.NewItemID(), Kind: app.KindAmbient, Source: app.SourceCLI, Status: app.StatusSuccess,
		Title: "Nightly audit", CreatedAt: now, FirstPrompt: "Check <script>x</script> every package for the billing webhook and report."}
	byTitle := &app.Item{ID: app.NewItemID(), Kind: app.KindAmbient, Source: app.SourceCLI, Status: app.StatusSuccess,
		Title: "Fix the billing webhook", CreatedAt: now, FirstPrompt: "The billing webhook retries forever."}
	out := string(Rows([]*app.Item{byPrompt, byTitle}, now, time.UTC, []string{"billing"}))
	for _, want := range []string{`<span class="row__prompt">“…`, `the <mark>billing</mark> webhook`, `script&gt;`, `Fix the <mark>billing</mark> webhook</a>`} {
		if !strings.Contains(out, want) {
			t.Errorf("rows lack %q:\n%s", want, out)
		}
	}
	if strings.Count(out, `class="row__prompt"`) != 1 || strings.Contains(out, "<script>") {
		t.Errorf("want one prompt excerpt, escaped:\n%s", out)
	}
}

// The row's times and escaping are written by hand for speed; they are the
// standard library's, byte for byte, over times of every kind in zones with
// and without abbreviations, across changes of daylight saving time.
func TestHandWrittenFormatsMatchTheStandardLibrary(t *testing.T) {
	var zones []*time.Location
	for _, name := range []string{"UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	zones = append(zones, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -(9*3600+30*60)), time.FixedZone("", 0))
	start := time.Date(2024, 3, 30, 23, 59, 58, 999_999_999, time.UTC)
	for i := range 5000 {
		at := start.Add(time.Duration(i)*97*time.Minute + time.Duration(i%7)*time.Second)
		if i%50 == 0 {
			at = time.Date(9, 1, 2, 3, 4, 5, 0, time.UTC).AddDate(i, 0, 0)
		}
		for _, loc := range zones {
			if got, want := string(appendExactTime(nil, at, loc)), at.In(loc).Format("Mon, Jan 2, 2006 15:04:05 MST"); got != want {
				t.Fatalf("exact time of %v in %v: %q, want %q", at, loc, got, want)
			}
		}
		if got, want := string(appendISOTime(nil, at.In(zones[1]))), at.UTC().Format(time.RFC3339); got != want {
			t.Fatalf("ISO time of %v: %q, want %q", at, got, want)
		}
		d := time.Duration(i)*time.Duration(i)*time.Second + time.Duration(i)*time.Millisecond*137
		if got, want := Duration(d), durationBySprintf(d); got != want {
			t.Fatalf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	for _, s := range []string{"", "plain", `<a href="x">'&'</a>`, "é&ü<>\"'", "&amp;", "trailing<"} {
		var b strings.Builder
		writeEscaped(&b, s)
		if b.String() != html.EscapeString(s) {
			t.Errorf("writeEscaped(%q) = %q, want %q", s, b.String(), html.EscapeString(s))
		}
	}
}

// durationBySprintf is Duration as it was first written.
func durationBySprintf(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

func TestNumberSetsThousandsApart(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 22000: "22,000",
		1234567: "1,234,567", -1234: "-1,234", math.MaxInt64: "9,223,372,036,854,775,807"} {
		if got := Number(n); got != want {
			t.Errorf("Number(%d) = %q, want %q", n, got, want)
		}
	}
}
