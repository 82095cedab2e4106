package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestEventsAppendedIsOneHintPerItemAndWindow(t *testing.T) {
	s, err := OpenStore(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, err := s.Hub().Subscribe(context.Background(), 16)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	id := NewItemID()
	for range 200 { // a burst of log lines
		s.eventsAppended(id)
	}
	s.itemChanged(id)
	var got []Hint
	for len(got) < 2 {
		select {
		case h := <-sub.C:
			got = append(got, h)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %+v; want two hints within 10s", got)
		}
	}
	want := []Hint{{ItemID: id, Events: true}, {ItemID: id}}
	if got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v; want %+v", got, want)
	}
	select {
	case h := <-sub.C:
		t.Errorf("got a further hint %+v; want none", h)
	default:
	}
}
