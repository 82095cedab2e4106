package app_test

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/agentdeck/agentdeck/app"
)

// FuzzParseFilter checks that the filter's printer and parser agree: the
// query string Encode prints for any parsed filter parses back, without a
// problem, to the very same filter.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "tab=all", "tab=all&source=slack&status=failed&day=2026-11-25&tz=Europe%2FBerlin",
		"source=linear&source=slack&source=slack&creator=Maya&creator=jonas", "day=date&date=2026-02-28",
		"day=7d&tz=UTC", "status=done&tab=everything&colour=red", "cursor=MTc2NDA3MjI0NTAwMDAwMDo",
		"creator=%20priya%20&day=%20today", "tz=Local", "day=2026-02-30",
		"source=-slack&status=-success&source=cli", "source=slack&source_mode=not&status=-failed&status=failed",
		"q=fix%20the%20billing%20webhook&kind=ambient&agent=codex&model=gpt-5&repo=acme%2Fweb&branch=main&team=platform",
		"q=%00%ff&model=-&repo=--x&agent=-Claude-Code",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		first, _ := app.ParseFilter(q)
		printed := first.Encode()
		again, err := url.ParseQuery(printed)
		if err != nil {
			t.Fatalf("Encode printed %q, which does not parse: %v", printed, err)
		}
		second, problems := app.ParseFilter(again)
		if len(problems) > 0 {
			t.Fatalf("%q printed %q, which has problems: %v", raw, printed, problems)
		}
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("%q parsed to %#v, printed as %q, parsed back to %#v", raw, first, printed, second)
		}
		if second.Encode() != printed {
			t.Fatalf("printing is not stable: %q then %q", printed, second.Encode())
		}
	})
}
