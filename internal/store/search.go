package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/search"
)

var (
	_ search.Store       = (*DB)(nil)
	_ search.PeopleStore = (*DB)(nil)
)

// searchVisible trims hits by membership at query time (docs/rules.md §7):
// the viewer's member row in the chat now (none once they left), as an
// accepted member or the target of a delivered request (not held:
// silence, not declined), from their visible history on; or the channels
// of the teams the viewer is in now (a guest: its teams; every channel's
// whole history, docs/decisions.md "Teams and channels"), not deleted
// ones; deleted messages never. chn is the message's channel, if any.
const searchVisible = ` JOIN (SELECT chat_id, visible_from, state, held FROM chat_members WHERE user_id = ?
		UNION ALL SELECT ch.id, 0, 'accepted', 0 FROM team_members tm JOIN channels ch ON ch.team_id = tm.team_id AND ch.deleted_at = 0 WHERE tm.user_id = ?) m
		ON m.chat_id = x.chat_id
	LEFT JOIN users u ON u.id = x.sender_id
	LEFT JOIN channels chn ON chn.id = x.chat_id`

const searchWhere = ` WHERE x.deleted_at = 0 AND x.created_at >= m.visible_from AND (m.state = 'accepted' OR (m.state = 'pending' AND m.held = 0))`

// matchText is q's terms as the dialect's full-text query: FTS5's query
// syntax, or a PostgreSQL tsquery. Tokens hold only letters and digits
// (search.Tokens), so they need no escaping beyond quotes.
func (db *DB) matchText(q *search.Query) string {
	parts := make([]string, 0, len(q.Terms))
	for _, t := range q.Terms {
		if db.dialect == Postgres {
			toks := make([]string, len(t.Tokens))
			for i, tok := range t.Tokens {
				toks[i] = "'" + tok + "'"
			}
			p := strings.Join(toks, " <-> ")
			if !t.Phrase {
				p += ":*"
			}
			parts = append(parts, "("+p+")")
			continue
		}
		p := `"` + strings.Join(t.Tokens, " ") + `"`
		if !t.Phrase {
			p += "*"
		}
		parts = append(parts, p)
	}
	if db.dialect == Postgres {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " ")
}

// searchFrom builds the FROM and WHERE of a search and its arguments.
// With rank set (SQLite, best first) the full-text table drives the query,
// for bm25; otherwise the caller's chats do, and the matches are a set the
// messages are looked up in.
func (db *DB) searchFrom(viewer identity.UserID, q *search.Query, rank bool) (string, []any) {
	var b strings.Builder
	args := []any{}
	terms := len(q.Terms) > 0
	if terms && db.dialect == SQLite && rank {
		b.WriteString(` FROM messages_fts f JOIN messages x ON x.id = f.rowid`)
	} else {
		b.WriteString(` FROM messages x`)
	}
	b.WriteString(searchVisible)
	args = append(args, viewer, viewer)
	if q.In != "" {
		b.WriteString(` LEFT JOIN chats c ON c.id = x.chat_id`)
	}
	b.WriteString(searchWhere)
	switch {
	case !terms:
	case db.dialect == SQLite && rank:
		b.WriteString(` AND messages_fts MATCH ?`)
		args = append(args, db.matchText(q))
	case db.dialect == SQLite:
		b.WriteString(` AND x.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)`)
		args = append(args, db.matchText(q))
	default:
		b.WriteString(` AND x.search @@ to_tsquery('simple', ?)`)
		args = append(args, db.matchText(q))
	}
	if q.From != "" {
		b.WriteString(` AND (LOWER(u.upn) = ? OR LOWER(u.mail) = ?)`)
		args = append(args, q.From, q.From)
	}
	if q.In != "" {
		// A chat or channel by id, or a piece of a chat's topic or a
		// channel's name.
		like := "%" + likeEscape(strings.ToLower(q.In)) + "%"
		b.WriteString(` AND (x.chat_id = ? OR LOWER(c.topic) LIKE ? ESCAPE '\' OR LOWER(chn.display_name) LIKE ? ESCAPE '\')`)
		args = append(args, q.In, like, like)
	}
	if !q.After.IsZero() {
		b.WriteString(` AND x.created_at >= ?`)
		args = append(args, micros(q.After))
	}
	if !q.Before.IsZero() {
		b.WriteString(` AND x.created_at < ?`)
		args = append(args, micros(q.Before))
	}
	return b.String(), args
}

// likeEscape escapes LIKE's wildcards (with ESCAPE '\').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// hitColumns are the columns of a hit: the message, its indexed text, the
// viewer's member state and the team of a channel message.
const hitColumns = `SELECT ` + messageColumns + `, x.plain, m.state, COALESCE(chn.team_id, '')`

func scanHits(rows *sql.Rows) ([]search.Hit, error) {
	defer rows.Close()
	var out []search.Hit
	for rows.Next() {
		var h search.Hit
		var state string
		if err := scanMessageInto(rows, &h.Message, &h.Text, &state, &h.TeamID); err != nil {
			return nil, fmt.Errorf("search messages: %w", err)
		}
		h.Pending = chat.RequestState(state) == chat.Pending
		out = append(out, h)
	}
	return out, rows.Err()
}

// SearchMessages returns a page of the hits of q that viewer may see. On
// SQLite a best-first search is driven by FTS5 (bm25 needs it), and a
// newest-first one looks the viewer's messages up in the set of matches.
func (db *DB) SearchMessages(ctx context.Context, viewer identity.UserID, q search.Query, sort search.Sort, offset, limit int) ([]search.Hit, error) {
	if err := db.catchUpSearch(ctx, &q); err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	rank := sort == search.Relevance && len(q.Terms) > 0
	from, args := db.searchFrom(viewer, &q, rank)
	order := ` ORDER BY x.id DESC`
	if rank {
		if db.dialect == SQLite {
			order = ` ORDER BY bm25(messages_fts), x.id DESC`
		} else {
			order = ` ORDER BY ts_rank(x.search, to_tsquery('simple', ?)) DESC, x.id DESC`
			args = append(args, db.matchText(&q))
		}
	}
	args = append(args, limit, offset)
	rows, err := db.query(ctx, hitColumns+from+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	return scanHits(rows)
}

// CountMessageHits counts the hits of q that viewer may see, up to max.
func (db *DB) CountMessageHits(ctx context.Context, viewer identity.UserID, q search.Query, max int) (int, error) {
	if err := db.catchUpSearch(ctx, &q); err != nil {
		return 0, fmt.Errorf("count hits: %w", err)
	}
	from, args := db.searchFrom(viewer, &q, false)
	args = append(args, max)
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1`+from+` LIMIT ?) AS h`, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count hits: %w", err)
	}
	return n, nil
}

// FindPeople finds people viewer may start a chat with by a prefix.
func (db *DB) FindPeople(ctx context.Context, viewer identity.UserID, own identity.TenantID, prefix string, limit int) ([]identity.User, error) {
	p := likeEscape(prefix)
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id <> ? AND u.kind <> 'anonymous'
		AND (LOWER(u.display_name) LIKE ? ESCAPE '\' OR LOWER(u.display_name) LIKE ? ESCAPE '\' OR LOWER(u.upn) LIKE ? ESCAPE '\' OR LOWER(u.mail) LIKE ? ESCAPE '\')
		AND ((? <> '' AND u.tenant_id = ?)
			OR EXISTS (SELECT 1 FROM contacts k WHERE (k.user_a = ? AND k.user_b = u.id) OR (k.user_b = ? AND k.user_a = u.id))
			OR EXISTS (SELECT 1 FROM chat_members a JOIN chat_members b ON b.chat_id = a.chat_id
				WHERE a.user_id = ? AND b.user_id = u.id AND a.state = 'accepted' AND b.state = 'accepted'))
		ORDER BY u.display_name, u.id LIMIT ?`,
		viewer, p+"%", "% "+p+"%", p+"%", p+"%", own, own, viewer, viewer, viewer, limit)
	if err != nil {
		return nil, fmt.Errorf("find people: %w", err)
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("find people: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
