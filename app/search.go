package app

import (
	"strconv"
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
// search (a tsvector column, indexed with keys for each arm: see
// whereArmSearch), SQLite with FTS5 and its Porter stemmer (an index table
// kept by triggers).

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

// whereArmSearch keeps an arm's rows that have the words. On PostgreSQL the
// search index holds, beside each item's words, keys for its creator, the
// team that shares it, its status, kind and source (item_search_arm_keys),
// so the words are also asked together with the keys the arm and its
// filters imply: the index then hands over only the arm's matches, rather
// than every match of the words among all items. The keys only ever repeat
// what armQuery's own conditions ask, and the words are also asked alone, as
// a query of stop words only is empty and would otherwise ask for the keys
// alone.
func (s *Store) whereArmSearch(sel *bun.SelectQuery, q Query, a arm) *bun.SelectQuery {
	sel = s.whereSearch(sel, q.Search, "")
	if s.dialect != "postgres" {
		return sel
	}
	return sel.Where("item_search_arm_keys(search, creator_id, team_id, visibility, status, kind, source) @@ (to_tsquery('english', ?) && ?::tsquery)",
		q.Search, searchKeys(q, a))
}

// searchKeys is the query, in the keys of item_search_arm_keys, that every
// row of the arm under the query's filters matches. A team's arm is one key,
// the items it shares, not its items and the team's visibility apart: that
// key would be on most items, and the index would read its long list for
// nearly every match of the words.
func searchKeys(q Query, a arm) string {
	var keys []string
	if a.ownerID != 0 {
		keys = append(keys, searchKey("creator", strconv.FormatInt(a.ownerID, 10)))
	} else {
		keys = append(keys, searchKey("shared", strconv.FormatInt(a.teamID, 10)),
			"!"+searchKey("creator", strconv.FormatInt(q.Viewer.User.ID, 10)))
	}
	keys = appendChoiceKeys(keys, "kind", q.Filter.Kinds)
	keys = appendChoiceKeys(keys, "source", q.Filter.Sources)
	keys = appendChoiceKeys(keys, "status", q.Filter.Statuses)
	return strings.Join(keys, " & ")
}

// appendChoiceKeys adds a choice's keys: any of the values kept, none of
// those left out.
func appendChoiceKeys[T ~string](keys []string, column string, c Choice[T]) []string {
	if len(c.Is) > 0 {
		anyOf := make([]string, len(c.Is))
		for i, v := range c.Is {
			anyOf[i] = searchKey(column, string(v))
		}
		keys = append(keys, "("+strings.Join(anyOf, " | ")+")")
	}
	for _, v := range c.Not {
		keys = append(keys, "!"+searchKey(column, string(v)))
	}
	return keys
}

// searchKey is one key as a quoted tsquery lexeme.
func searchKey(column, value string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(column+" "+value) + "'"
}

// wholeWordTerms is a search's terms with its last word matched whole, not
// as the start of a word: they match some of what the search matches.
func wholeWordTerms(terms string) string {
	return strings.TrimSuffix(strings.TrimSuffix(terms, ":*"), "*")
}

// searchColumn is the column whereSearch reads, for a derived table to carry.
func (s *Store) searchColumn() string {
	if s.dialect == "postgres" {
		return "search"
	}
	return "rowid"
}
