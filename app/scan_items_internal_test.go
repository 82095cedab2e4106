package app

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/schema"
)

// ReadItems reads rows as a page of items is read, for the tests of
// package app_test.
var ReadItems = readItems

func openBareSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), filepath.Join(t.TempDir(), "scan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pageColumns are the columns bun names for a page of items with the
// relations pageOf joins, each with the field bun would scan it into.
func pageColumns(s *Store) map[string]*schema.Field {
	item := s.db.Table(reflect.TypeFor[Item]())
	columns := map[string]*schema.Field{}
	for _, f := range item.Fields {
		columns[f.Name] = f
	}
	for _, name := range []string{"Creator", "Team"} {
		rel := item.Relations[name]
		for _, f := range rel.JoinTable.Fields {
			columns[rel.Field.Name+"__"+f.Name] = f
		}
	}
	return columns
}

func TestItemSettersAreExactlyBunsColumns(t *testing.T) {
	columns := pageColumns(openBareSQLite(t))
	for column := range columns {
		if itemSetters[column] == nil {
			t.Errorf("column %s has no setter", column)
		}
	}
	for column := range itemSetters {
		if columns[column] == nil {
			t.Errorf("setter for %s, a column bun does not know", column)
		}
	}
}

// driverValues are values a driver may hand over for a field of type typ,
// with text a timestamp may come as, and text that is no timestamp.
func driverValues(typ reflect.Type) []any {
	if typ == reflect.TypeFor[time.Time]() {
		return []any{
			nil,
			time.Date(2026, 12, 7, 14, 55, 47, 258530000, time.FixedZone("", 3600)),
			"2026-12-07 14:55:47.25853+00:00",
			"2026-12-07 14:55:47-05",
			"2026-12-07 14:55:47.1+05:30:00",
			"2026-12-07 14:55:47",
			"2026-12-07T14:55:47.25853Z",
			"2026-12-07T14:55:47+02:00",
			"yesterday at noon",
		}
	}
	switch typ.Kind() {
	case reflect.String:
		return []any{nil, "text", []byte("bytes")}
	case reflect.Int, reflect.Int64:
		return []any{nil, int64(42)}
	}
	return nil
}

// structOf is the struct of it that bun scans a page column into.
func structOf(it *Item, column string) reflect.Value {
	switch relation, _, joined := strings.Cut(column, "__"); {
	case !joined:
		return reflect.ValueOf(it).Elem()
	case relation == "creator":
		return reflect.ValueOf(it.Creator).Elem()
	default:
		return reflect.ValueOf(it.Team).Elem()
	}
}

// filledItem is an item with a value in every page column, so that a setter
// which leaves a field as it was on NULL shows.
func filledItem(t *testing.T, columns map[string]*schema.Field) *Item {
	t.Helper()
	it := &Item{Creator: &User{}, Team: &Team{}}
	for column, field := range columns {
		if values := driverValues(field.IndirectType); len(values) > 1 {
			if err := field.ScanValue(structOf(it, column), values[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return it
}

// TestItemSettersSetWhatBunSets compares each setter with bun's scanning of
// its field, value by value.
func TestItemSettersSetWhatBunSets(t *testing.T) {
	columns := pageColumns(openBareSQLite(t))
	for column, field := range columns {
		set := itemSetters[column]
		values := driverValues(field.IndirectType)
		if set == nil || values == nil {
			t.Errorf("column %s: no setter, or no values to try for %s", column, field.IndirectType)
			continue
		}
		for _, v := range values {
			got := filledItem(t, columns)
			gotErr := set(got, v)
			want := filledItem(t, columns)
			wantErr := field.ScanValue(structOf(want, column), v)
			if (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s from %#v: error %v, bun's %v", column, v, gotErr, wantErr)
			} else if !reflect.DeepEqual(got, want) {
				t.Errorf("%s from %#v:\n got  %+v\n want %+v", column, v, got, want)
			}
		}
	}
}

func TestRelationIsMadeAtItsFirstValue(t *testing.T) {
	it := new(Item)
	for _, column := range []string{"team__id", "team__slug", "creator__id"} {
		if err := itemSetters[column](it, nil); err != nil {
			t.Fatal(err)
		}
	}
	if it.Team != nil || it.Creator != nil {
		t.Fatalf("NULL columns made a relation: team %v, creator %v", it.Team, it.Creator)
	}
	if err := itemSetters["team__slug"](it, "red"); err != nil {
		t.Fatal(err)
	}
	if it.Team == nil || it.Team.Slug != "red" {
		t.Fatalf("team = %+v, want one with slug red", it.Team)
	}
}

func TestReadItemsRefusesAnUnknownColumn(t *testing.T) {
	s := openBareSQLite(t)
	ctx := context.Background()
	rows, err := s.db.QueryContext(ctx, "SELECT 'a' AS id, 'b' AS title")
	if err != nil {
		t.Fatal(err)
	}
	items, err := readItems(rows)
	rows.Close()
	if err != nil || len(items) != 1 || items[0].ID != "a" || items[0].Title != "b" {
		t.Fatalf("known columns: items %+v, error %v", items, err)
	}

	rows, err = s.db.QueryContext(ctx, "SELECT 'a' AS id, 1 AS surprise")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if _, err := readItems(rows); err == nil || !strings.Contains(err.Error(), `"surprise"`) {
		t.Fatalf("an unknown column gave error %v, want one naming it", err)
	}
}

func TestReadItemsSaysWhichColumnItCannotRead(t *testing.T) {
	s := openBareSQLite(t)
	rows, err := s.db.QueryContext(context.Background(), "SELECT 'a' AS id, 1.5 AS last_seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	_, err = readItems(rows)
	if err == nil || !strings.Contains(err.Error(), "last_seq") || !strings.Contains(err.Error(), "float64") {
		t.Fatalf("error %v, want one naming the column and the value's type", err)
	}
}
