package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/search"
	"github.com/parleychat/parley/internal/team"
)

var _ team.Store = (*DB)(nil)

// Team writes change no chat, member of a chat or account: they leave the
// chat cache alone (touchNone). Channel messages are stored as chat
// messages are (writeMessages), under the channel's id.

// teamColumns select a team with its summary: owners, members who are
// not owners, guests.
const teamColumns = `t.id, t.tenant_id, t.display_name, t.description, t.created_by, t.created_at, t.updated_at,
	(SELECT COUNT(*) FROM team_members c WHERE c.team_id = t.id AND c.roles = 'owner'),
	(SELECT COUNT(*) FROM team_members c WHERE c.team_id = t.id AND c.roles = ''),
	(SELECT COUNT(*) FROM team_members c WHERE c.team_id = t.id AND c.roles = 'guest')`

func scanTeam(s scanner) (team.Team, error) {
	var t team.Team
	var created, updated int64
	if err := s.Scan(&t.ID, &t.TenantID, &t.DisplayName, &t.Description, &t.CreatedBy, &created, &updated, &t.Summary.Owners, &t.Summary.Members, &t.Summary.Guests); err != nil {
		return team.Team{}, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return t, nil
}

// CreateTeam stores a team with its first owner and its General channel.
func (db *DB) CreateTeam(ctx context.Context, t team.Team, owner team.Member, general team.Channel, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO teams (id, tenant_id, display_name, description, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TenantID, t.DisplayName, t.Description, t.CreatedBy, micros(t.CreatedAt), micros(t.UpdatedAt)); err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		if err := db.insertTeamMember(tx, owner); err != nil {
			return err
		}
		if err := db.insertChannel(tx, general); err != nil {
			return err
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

func (db *DB) insertTeamMember(tx *sql.Tx, m team.Member) error {
	_, err := db.txExec(tx, `INSERT INTO team_members (id, team_id, user_id, roles, joined_at, added_by) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.TeamID, m.UserID, strings.Join(m.Roles, ","), micros(m.JoinedAt), m.AddedBy)
	if isUnique(err) {
		return errcode.New(errcode.Conflict, "This person is already a member of this team.")
	}
	if err != nil {
		return fmt.Errorf("insert team member: %w", err)
	}
	return nil
}

func channelKey(name string) string { return strings.ToLower(name) }

func (db *DB) insertChannel(tx *sql.Tx, c team.Channel) error {
	_, err := db.txExec(tx, `INSERT INTO channels (id, team_id, display_name, name_key, description, is_general, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.TeamID, c.DisplayName, channelKey(c.DisplayName), c.Description, boolInt(c.General), c.CreatedBy, micros(c.CreatedAt))
	if isUnique(err) {
		return team.NameTaken(c.DisplayName)
	}
	if err != nil {
		return fmt.Errorf("insert channel: %w", err)
	}
	return nil
}

// FindTeam returns a team and its members with their accounts. Errors:
// notFound.
func (db *DB) FindTeam(ctx context.Context, id team.ID) (team.Team, []team.Member, error) {
	// The summary is counted from the members read next.
	var t team.Team
	var created, updated int64
	err := db.queryRow(ctx, `SELECT t.id, t.tenant_id, t.display_name, t.description, t.created_by, t.created_at, t.updated_at FROM teams t WHERE t.id = ?`, id).
		Scan(&t.ID, &t.TenantID, &t.DisplayName, &t.Description, &t.CreatedBy, &created, &updated)
	if err != nil {
		return team.Team{}, nil, notFound(err, "No team %s.", id)
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	rows, err := db.query(ctx, `SELECT m.id, m.roles, m.joined_at, m.added_by, `+userColumns+` FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? ORDER BY m.joined_at, m.id`, id)
	if err != nil {
		return team.Team{}, nil, fmt.Errorf("team members of %s: %w", id, err)
	}
	defer rows.Close()
	var members []team.Member
	for rows.Next() {
		var m team.Member
		var roles string
		var joined int64
		u, err := scanUser(prefixScanner{rows, []any{&m.ID, &roles, &joined, &m.AddedBy}})
		if err != nil {
			return team.Team{}, nil, fmt.Errorf("team members of %s: %w", id, err)
		}
		m.TeamID, m.UserID, m.User, m.Roles, m.JoinedAt = id, u.ID, u, splitRoles(roles), fromMicros(joined)
		switch roles {
		case "owner":
			t.Summary.Owners++
		case "guest":
			t.Summary.Guests++
		default:
			t.Summary.Members++
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return team.Team{}, nil, fmt.Errorf("team members of %s: %w", id, err)
	}
	return t, members, nil
}

// prefixScanner scans leading columns into prefix, then the rest into
// what the caller passes (a scanUser after other columns).
type prefixScanner struct {
	s      scanner
	prefix []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.s.Scan(append(p.prefix, dest...)...) }

// FindTeams returns the teams a user is in, or all of a tenant, oldest
// first, after the cursor.
func (db *DB) FindTeams(ctx context.Context, f team.Filter, after team.Cursor, limit int) ([]team.Team, error) {
	var q string
	var args []any
	switch {
	case f.Member != "":
		q = `SELECT ` + teamColumns + ` FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?`
		args = append(args, f.Member)
	case f.Tenant != "":
		q = `SELECT ` + teamColumns + ` FROM teams t WHERE t.tenant_id = ?`
		args = append(args, f.Tenant)
	default:
		return nil, fmt.Errorf("list teams: no filter")
	}
	if after.ID != "" {
		c := micros(after.CreatedAt)
		q += ` AND (t.created_at > ? OR (t.created_at = ? AND t.id > ?))`
		args = append(args, c, c, after.ID)
	}
	q += ` ORDER BY t.created_at, t.id LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	var out []team.Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTeam stores a team's name, description and change time.
func (db *DB) UpdateTeam(ctx context.Context, t team.Team, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE teams SET display_name = ?, description = ?, updated_at = ? WHERE id = ?`, t.DisplayName, t.Description, micros(t.UpdatedAt), t.ID); err != nil {
			return fmt.Errorf("update team: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// lockTeam makes another node's change of the team's members or channels
// wait for this transaction (PostgreSQL; SQLite has one writer).
func (db *DB) lockTeam(tx *sql.Tx, id team.ID) error {
	if err := db.lockRow(tx, `SELECT id FROM teams WHERE id = ?`, id); err != nil {
		return fmt.Errorf("lock team: %w", err)
	}
	return nil
}

func (db *DB) count(tx *sql.Tx, query string, args ...any) (int, error) {
	var n int
	if err := db.txQueryRow(tx, query, args...).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// AddTeamMember stores a member unless the team is full (counted inside
// the write). Errors: conflict, badRequest.
func (db *DB) AddTeamMember(ctx context.Context, m team.Member, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if err := db.lockTeam(tx, m.TeamID); err != nil {
			return err
		}
		n, err := db.count(tx, `SELECT COUNT(*) FROM team_members WHERE team_id = ?`, m.TeamID)
		if err != nil {
			return fmt.Errorf("count team members: %w", err)
		}
		if n >= team.MaxMembers {
			return team.TooManyMembers()
		}
		if err := db.insertTeamMember(tx, m); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// keepOwner refuses, inside the write, a change that left the team with no
// owner (team.LastOwner).
func (db *DB) keepOwner(tx *sql.Tx, id team.ID) error {
	n, err := db.count(tx, `SELECT COUNT(*) FROM team_members WHERE team_id = ? AND roles = 'owner'`, id)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if n == 0 {
		return team.LastOwner()
	}
	return nil
}

// UpdateTeamMember stores a member's roles unless that leaves the team
// without an owner. Errors: notFound, badRequest.
func (db *DB) UpdateTeamMember(ctx context.Context, m team.Member, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if err := db.lockTeam(tx, m.TeamID); err != nil {
			return err
		}
		res, err := db.txExec(tx, `UPDATE team_members SET roles = ? WHERE id = ? AND team_id = ?`, strings.Join(m.Roles, ","), m.ID, m.TeamID)
		if err != nil {
			return fmt.Errorf("update team member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "No member %s in this team.", m.ID)
		}
		if err := db.keepOwner(tx, m.TeamID); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// RemoveTeamMember deletes a member unless that leaves the team without an
// owner. Errors: notFound, badRequest.
func (db *DB) RemoveTeamMember(ctx context.Context, teamID team.ID, memberID string, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if err := db.lockTeam(tx, teamID); err != nil {
			return err
		}
		res, err := db.txExec(tx, `DELETE FROM team_members WHERE id = ? AND team_id = ?`, memberID, teamID)
		if err != nil {
			return fmt.Errorf("delete team member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "No member %s in this team.", memberID)
		}
		if err := db.keepOwner(tx, teamID); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// channelColumns select a channel with the viewer's read mark (r) and
// unread count, which stops at 100 (a client shows "99+") so that it costs
// little however long the channel; the query binds the viewer twice first.
const channelColumns = `c.id, c.team_id, c.display_name, c.description, c.is_general, c.created_by, c.created_at, c.deleted_at, COALESCE(r.last_read_at, 0),
	(SELECT COUNT(*) FROM (SELECT 1 FROM messages x WHERE x.chat_id = c.id AND x.created_at > COALESCE(r.last_read_at, 0) AND x.sender_id <> ? AND x.deleted_at = 0 LIMIT 100) AS unread)`

const channelFrom = ` FROM channels c LEFT JOIN channel_reads r ON r.channel_id = c.id AND r.user_id = ?`

func scanChannel(s scanner) (team.Channel, error) {
	var c team.Channel
	var general int
	var created, deleted, read int64
	if err := s.Scan(&c.ID, &c.TeamID, &c.DisplayName, &c.Description, &general, &c.CreatedBy, &created, &deleted, &read, &c.Unread); err != nil {
		return team.Channel{}, err
	}
	c.General = general == 1
	c.CreatedAt, c.DeletedAt, c.LastReadAt = fromMicros(created), fromMicros(deleted), fromMicros(read)
	return c, nil
}

// FindChannels returns a team's live channels, General first.
func (db *DB) FindChannels(ctx context.Context, teamID team.ID, viewer identity.UserID) ([]team.Channel, error) {
	rows, err := db.query(ctx, `SELECT `+channelColumns+channelFrom+` WHERE c.team_id = ? AND c.deleted_at = 0 ORDER BY c.is_general DESC, c.created_at, c.id`, viewer, viewer, teamID)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []team.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FindChannel returns a live channel of a team, with viewer's read state
// unless viewer is "" (a write needs none, and the count costs). Errors:
// notFound.
func (db *DB) FindChannel(ctx context.Context, teamID team.ID, id team.ChannelID, viewer identity.UserID) (team.Channel, error) {
	var c team.Channel
	var err error
	if viewer == "" {
		c, err = scanChannel(db.queryRow(ctx, `SELECT c.id, c.team_id, c.display_name, c.description, c.is_general, c.created_by, c.created_at, c.deleted_at, 0, 0
			FROM channels c WHERE c.id = ? AND c.team_id = ? AND c.deleted_at = 0`, id, teamID))
	} else {
		c, err = scanChannel(db.queryRow(ctx, `SELECT `+channelColumns+channelFrom+` WHERE c.id = ? AND c.team_id = ? AND c.deleted_at = 0`, viewer, viewer, id, teamID))
	}
	if err != nil {
		return team.Channel{}, notFound(err, "No channel %s in this team.", id)
	}
	return c, nil
}

// CreateChannel stores a channel unless the team has team.MaxChannels
// live ones (counted inside the write). Errors: conflict, badRequest.
func (db *DB) CreateChannel(ctx context.Context, c team.Channel, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if err := db.lockTeam(tx, c.TeamID); err != nil {
			return err
		}
		n, err := db.count(tx, `SELECT COUNT(*) FROM channels WHERE team_id = ? AND deleted_at = 0`, c.TeamID)
		if err != nil {
			return fmt.Errorf("count channels: %w", err)
		}
		if n >= team.MaxChannels {
			return team.TooManyChannels()
		}
		if err := db.insertChannel(tx, c); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// UpdateChannel stores a channel's name and description. Errors: conflict.
func (db *DB) UpdateChannel(ctx context.Context, c team.Channel, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `UPDATE channels SET display_name = ?, name_key = ?, description = ? WHERE id = ? AND team_id = ?`,
			c.DisplayName, channelKey(c.DisplayName), c.Description, c.ID, c.TeamID)
		if isUnique(err) {
			return team.NameTaken(c.DisplayName)
		}
		if err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// DeleteChannel marks a channel deleted.
func (db *DB) DeleteChannel(ctx context.Context, c team.Channel, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE channels SET deleted_at = ? WHERE id = ? AND team_id = ?`, micros(c.DeletedAt), c.ID, c.TeamID); err != nil {
			return fmt.Errorf("delete channel: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// CreateChannelMessage stores a channel message as a chat message is
// stored (ids growing with commit order), with the top-level message it
// replies to, and the events build returns.
func (db *DB) CreateChannelMessage(ctx context.Context, m *team.Message, build func(*team.Message) []event.Draft) ([]event.Event, error) {
	mentions, atts, err := encodeExtras(&m.Message)
	if err != nil {
		return nil, err
	}
	w := &msgWrite{m: &m.Message, mentions: mentions, atts: atts, build: func(*chat.Message) []event.Draft { return build(m) },
		plain: search.PlainText(m.ContentType, m.Content)} // searchable as chat messages are (docs/rules.md §7)
	err = db.inWriteMessage(ctx, &job{ctx: ctx, touch: touchNone, fn: func(tx *sql.Tx) error {
		if err := db.writeMessages(tx, []*msgWrite{w}); err != nil {
			return err
		}
		if m.ReplyTo != 0 {
			if _, err := db.txExec(tx, `UPDATE messages SET reply_to = ? WHERE id = ?`, m.ReplyTo, m.ID); err != nil {
				return fmt.Errorf("thread reply: %w", err)
			}
		}
		return nil
	}}, w)
	if err != nil {
		m.ID = 0
		return nil, err
	}
	if db.dialect == SQLite {
		// The writer reports only jobs that carry a message (job.msg); this
		// one runs as fn, so tell the search indexer itself.
		db.messagesCommitted(int64(m.ID))
	}
	return w.evs, nil
}

// replyScanner scans a message row followed by its reply_to.
type replyScanner struct {
	s     scanner
	reply *int64
}

func (r replyScanner) Scan(dest ...any) error { return r.s.Scan(append(dest, r.reply)...) }

func scanChannelMessage(s scanner) (team.Message, error) {
	var reply int64
	m, err := scanMessage(replyScanner{s, &reply})
	if err != nil {
		return team.Message{}, err
	}
	return team.Message{Message: m, ReplyTo: chat.MessageID(reply)}, nil
}

// FindChannelMessage returns one message of a channel. Errors: notFound.
func (db *DB) FindChannelMessage(ctx context.Context, channel team.ChannelID, id chat.MessageID) (team.Message, error) {
	m, err := scanChannelMessage(db.queryRow(ctx, `SELECT `+messageColumns+`, x.reply_to FROM messages x LEFT JOIN users u ON u.id = x.sender_id WHERE x.chat_id = ? AND x.id = ?`, channel, id))
	if err != nil {
		return team.Message{}, notFound(err, "No message %d in this channel.", id)
	}
	return m, nil
}

// FindChannelMessages returns a channel's top-level messages (replyTo 0)
// or one thread's replies, newest first.
func (db *DB) FindChannelMessages(ctx context.Context, channel team.ChannelID, replyTo, before chat.MessageID, limit int) ([]team.Message, error) {
	q := `SELECT ` + messageColumns + `, x.reply_to FROM messages x LEFT JOIN users u ON u.id = x.sender_id WHERE x.chat_id = ? AND x.reply_to = ?`
	args := []any{channel, replyTo}
	if before > 0 {
		q += ` AND x.id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY x.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list channel messages: %w", err)
	}
	defer rows.Close()
	var out []team.Message
	for rows.Next() {
		m, err := scanChannelMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list channel messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkChannelRead sets a member's read mark on a channel.
func (db *DB) MarkChannelRead(ctx context.Context, channel team.ChannelID, user identity.UserID, at time.Time, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO channel_reads (channel_id, user_id, last_read_at) VALUES (?, ?, ?)
			ON CONFLICT (channel_id, user_id) DO UPDATE SET last_read_at = excluded.last_read_at`, channel, user, micros(at)); err != nil {
			return fmt.Errorf("mark channel read: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}
