package app

import (
	"strings"
	"unicode"

	"github.com/uptrace/bun"
)

// Search (§3, "q"): the words of a search are matched, all of them, in an
// item's title and first prompt, by their stem ("fixing" finds "fix",
// "webhooks" finds "webhook"), in any order; the last word also matches as
// the start of a word, so that a search typed letter by letter finds as it
// goes ("billing web" finds "billing webhook"). Words are letters and digits;
// anything else separates them. PostgreSQL reads them with its English text
// search (a tsvector column with a GIN index), SQLite with FTS5 and its
// Porter stemmer (an index table kept by triggers).

// maxSearchWords bounds the words a search uses.
const maxSearchWords = 12

// searchWords splits a search into its words.
func searchWords(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	return words
}

// SearchWords are the words a search looks for, as the row highlights them.
func SearchWords(q string) []string { return searchWords(q) }

// searchTerms turns a search into the dialect's query syntax; "" when it has
// no words.
func (s *Store) searchTerms(q string) string {
	words := searchWords(q)
	if len(words) == 0 {
		return ""
	}
	terms := make([]string, len(words))
	for i, w := range words {
		if s.dialect == "postgres" {
			terms[i] = w
			if i == len(words)-1 {
				terms[i] += ":*"
			}
			continue
		}
		terms[i] = `"` + w + `"`
		if i == len(words)-1 {
			terms[i] += "*"
		}
	}
	if s.dialect == "postgres" {
		return strings.Join(terms, " & ")
	}
	return strings.Join(terms, " ")
}

// whereSearch keeps the rows whose title or first prompt has the words;
// table qualifies the columns it reads ("" for items itself).
func (s *Store) whereSearch(sel *bun.SelectQuery, terms, table string) *bun.SelectQuery {
	if s.dialect == "postgres" {
		return sel.Where(table+"search @@ to_tsquery('english', ?)", terms)
	}
	return sel.Where(table+"rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", terms)
}

// searchColumn is the column whereSearch reads, for a derived table to carry.
func (s *Store) searchColumn() string {
	if s.dialect == "postgres" {
		return "search"
	}
	return "rowid"
}
