package app_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
)

func TestParseFilterReadsEveryParameter(t *testing.T) {
	q, _ := url.ParseQuery("tab=all&source=slack&source=cli&status=failed&creator=jonas&creator=maya&day=2026-11-25&tz=Europe/Berlin")
	f, problems := app.ParseFilter(q)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := app.Filter{
		Tab: app.TabAll, Sources: app.Choice[app.Source]{Is: []app.Source{app.SourceCLI, app.SourceSlack}},
		Statuses: app.Choice[app.Status]{Is: []app.Status{app.StatusFailed}}, Creators: app.Choice[string]{Is: []string{"jonas", "maya"}},
		Day: "2026-11-25", TZ: "Europe/Berlin",
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("parsed %+v\nwant   %+v", f, want)
	}
}

func TestFilterEncodeIsCanonicalAndParsesBack(t *testing.T) {
	cases := []struct{ in, canonical string }{
		{"", ""},
		{"tab=personal", ""},
		{"tab=all", "tab=all"},
		{"status=success&status=failed&status=failed", "status=failed&status=success"},
		{"source=scheduled&source=interactive", "source=interactive&source=scheduled"},
		{"tz=UTC&day=today", "day=today&tz=UTC"}, // a day names the zone it is read in
		{"day=date&date=2026-01-02", "day=2026-01-02&tz=UTC"},
		{"tz=UTC&status=failed", "status=failed"}, // no day: no zone to name
		{"day=date&date=", ""},
		{"creator=Maya", "creator=maya"},
		{"tz=America/New_York&tab=all", "tab=all&tz=America%2FNew_York"},
		{"source=-slack&status=-success&source=cli", "source=cli&source=-slack&status=-success"},
		{"source=slack&source_mode=not", "source=-slack"},
		{"status=failed&status=-failed", "status=-failed"},
		{"q=%20fix%20%20the%20webhook%20&kind=ambient", "q=fix+the+webhook&kind=ambient"},
		{"agent=Codex&model=gpt-5&repo=acme%2Fweb&branch=main&team=Platform", "agent=codex&model=gpt-5&repo=acme%2Fweb&branch=main&team=platform"},
		{"kind=-interactive&creator=-Jonas", "kind=-interactive&creator=-jonas"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.in)
		f, problems := app.ParseFilter(q)
		if len(problems) != 0 {
			t.Errorf("%q: problems %v", c.in, problems)
		}
		if got := f.Encode(); got != c.canonical {
			t.Errorf("%q encodes as %q, want %q", c.in, got, c.canonical)
		}
		q2, _ := url.ParseQuery(f.Encode())
		g, _ := app.ParseFilter(q2)
		if !reflect.DeepEqual(f, g) {
			t.Errorf("%q does not survive a round trip: %+v then %+v", c.in, f, g)
		}
	}
}

func TestParseFilterReportsWhatItIgnores(t *testing.T) {
	cases := []struct{ in, field string }{
		{"tab=mine", "tab"},
		{"source=fax", "source"},
		{"status=done", "status"},
		{"creator=a%20b", "creator"},
		{"day=2026-02-30", "day"},
		{"day=soon", "day"},
		{"tz=Nowhere/City", "tz"},
		{"tz=Local", "tz"},
		{"cursor=%%%", "cursor"},
		{"page=2", "page"},
		{"kind=robot", "kind"},
		{"source=-fax", "source"},
		{"team=a%20team", "team"},
		{"model=" + strings.Repeat("m", 101), "model"},
		{"q=" + strings.Repeat("word ", 50), "q"},
		{"status_mode=sideways&colour=1", "colour"},
	}
	for _, c := range cases {
		q, err := url.ParseQuery(c.in)
		if err != nil {
			q = url.Values{strings.SplitN(c.in, "=", 2)[0]: {strings.SplitN(c.in, "=", 2)[1]}}
		}
		f, problems := app.ParseFilter(q)
		if len(problems) != 1 || problems[0].Field != c.field || problems[0].Code != app.EInvalid {
			t.Errorf("%q: problems %v, want one about %q", c.in, problems, c.field)
		}
		if f.Encode() != "" {
			t.Errorf("%q: the ignored value leaked into the filter: %q", c.in, f.Encode())
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := app.Cursor{CreatedAt: time.Date(2026, 11, 25, 1, 2, 3, 456789000, time.UTC), ID: app.NewItemID()}
	got, err := app.DecodeCursor(c.Encode())
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Errorf("cursor %+v came back as %+v (%v)", c, got, err)
	}
	for _, bad := range []string{"", "x", "MTIz", strings.Repeat("A", 500)} {
		if _, err := app.DecodeCursor(bad); err == nil {
			t.Errorf("DecodeCursor(%q) accepted", bad)
		}
	}
}
