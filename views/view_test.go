package views_test

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/agentdeck/agentdeck/app"
	"github.com/agentdeck/agentdeck/views"
)

func TestChipsRemoveOneValueEach(t *testing.T) {
	q, _ := url.ParseQuery("tab=all&source=slack&status=failed&status=blocked&day=today&tz=Asia/Tokyo&cursor=" + app.Cursor{CreatedAt: time.Unix(1, 0), ID: app.NewItemID()}.Encode())
	f, _ := app.ParseFilter(q)
	got := map[string]string{}
	for _, c := range views.Chips(f) {
		got[c.Field+":"+c.Label] = c.Remove
	}
	want := map[string]string{
		"Source:Slack":          "/?tab=all&status=blocked&status=failed&day=today&tz=Asia%2FTokyo",
		"Status:Blocked":        "/?tab=all&source=slack&status=failed&day=today&tz=Asia%2FTokyo",
		"Status:Failed":         "/?tab=all&source=slack&status=blocked&day=today&tz=Asia%2FTokyo",
		"Day:Today, Asia/Tokyo": "/?tab=all&source=slack&status=blocked&status=failed&tz=Asia%2FTokyo",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chips %v\nwant  %v", got, want)
	}
	if got := views.ViewURL(f.Cleared()); got != "/?tab=all&tz=Asia%2FTokyo" {
		t.Errorf("Clear leads to %q", got)
	}
}

func TestDayLabelsNameShortcutsAndDates(t *testing.T) {
	for day, want := range map[string]string{"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days", "2026-11-23": "Mon, Nov 23, 2026"} {
		if got := views.DayLabel(app.Filter{Day: day}); got != want {
			t.Errorf("DayLabel(%q) = %q, want %q", day, got, want)
		}
	}
}
