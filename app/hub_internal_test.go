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

func TestCoalescerSendsAFirstHintAtOnceAndItsRepeatsOncePerWindow(t *testing.T) {
	batches := make(chan []Hint, 16)
	c := newCoalescer(time.Millisecond, 100*time.Millisecond, func(h []Hint) { batches <- h })
	next := func() []Hint {
		select {
		case b := <-batches:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no batch within 10s")
		}
		return nil
	}
	x, y := Hint{ItemID: NewItemID()}, Hint{ItemID: NewItemID()}
	start := time.Now()
	c.add(x)
	if b := next(); len(b) != 1 || b[0] != x {
		t.Fatalf("first batch %+v; want the lone hint", b)
	}
	if lead := time.Since(start); lead >= 100*time.Millisecond {
		t.Errorf("the first hint took %s; want it well before the window's end", lead)
	}
	for range 20 {
		c.add(x) // repeats within the window
	}
	c.add(y) // a new hint is not held back by the window
	if b := next(); len(b) != 1 || b[0] != y {
		t.Fatalf("second batch %+v; want the new hint alone", b)
	}
	if b := next(); len(b) != 1 || b[0] != x {
		t.Fatalf("third batch %+v; want the repeats, once, at the window's end", b)
	}
	c.close()
	select {
	case b := <-batches:
		t.Errorf("a batch %+v after close; want none", b)
	default:
	}
}
