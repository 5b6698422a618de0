package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/meeting"
)

var (
	_ meeting.Store     = (*DB)(nil)
	_ chat.MeetingStore = (*DB)(nil)
)

const meetingColumns = `id, tenant_id, organizer_id, subject, start_at, end_at, chat_id, join_token, created_at, ended_at`

func scanMeeting(s scanner) (meeting.Meeting, error) {
	var m meeting.Meeting
	var start, end, created, ended int64
	if err := s.Scan(&m.ID, &m.TenantID, &m.OrganizerID, &m.Subject, &start, &end, &m.ChatID, &m.JoinToken, &created, &ended); err != nil {
		return meeting.Meeting{}, err
	}
	m.Start, m.End, m.CreatedAt, m.EndedAt = fromMicros(start), fromMicros(end), fromMicros(created), fromMicros(ended)
	return m, nil
}

// CreateMeeting stores a meeting.
func (db *DB) CreateMeeting(ctx context.Context, m meeting.Meeting) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO meetings (`+meetingColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.TenantID, m.OrganizerID, m.Subject, micros(m.Start), micros(m.End), m.ChatID, m.JoinToken, micros(m.CreatedAt), micros(m.EndedAt))
		if err != nil {
			return fmt.Errorf("insert meeting: %w", err)
		}
		return nil
	})
}

// DeleteMeeting forgets a meeting.
func (db *DB) DeleteMeeting(ctx context.Context, id meeting.ID) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM meetings WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete meeting: %w", err)
		}
		return nil
	})
}

// FindMeeting returns a meeting. Errors: notFound.
func (db *DB) FindMeeting(ctx context.Context, id meeting.ID) (meeting.Meeting, error) {
	m, err := scanMeeting(db.queryRow(ctx, `SELECT `+meetingColumns+` FROM meetings WHERE id = ?`, id))
	if err != nil {
		return meeting.Meeting{}, notFound(err, "No meeting %s.", id)
	}
	return m, nil
}

// FindMeetingByChat returns the meeting whose chat is id. Errors:
// notFound.
func (db *DB) FindMeetingByChat(ctx context.Context, id chat.ID) (meeting.Meeting, error) {
	m, err := scanMeeting(db.queryRow(ctx, `SELECT `+meetingColumns+` FROM meetings WHERE chat_id = ?`, id))
	if err != nil {
		return meeting.Meeting{}, notFound(err, "No meeting with chat %s.", id)
	}
	return m, nil
}

// FindMeetingByToken returns the meeting whose join link holds token.
// Errors: notFound.
func (db *DB) FindMeetingByToken(ctx context.Context, token string) (meeting.Meeting, error) {
	m, err := scanMeeting(db.queryRow(ctx, `SELECT `+meetingColumns+` FROM meetings WHERE join_token = ?`, token))
	if err != nil {
		return meeting.Meeting{}, notFound(err, "No meeting with this link.")
	}
	return m, nil
}

// UpdateMeeting stores a meeting's subject, times and join token. Errors:
// notFound.
func (db *DB) UpdateMeeting(ctx context.Context, m meeting.Meeting) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE meetings SET subject = ?, start_at = ?, end_at = ?, join_token = ? WHERE id = ?`,
			m.Subject, micros(m.Start), micros(m.End), m.JoinToken, m.ID)
		if err != nil {
			return fmt.Errorf("update meeting: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "No meeting %s.", m.ID)
		}
		return nil
	})
}

// FindMeetingConfig returns a tenant's meeting settings, the defaults when
// never set.
func (db *DB) FindMeetingConfig(ctx context.Context, tenant identity.TenantID) (meeting.Config, error) {
	var c meeting.Config
	var anon, apps int
	var bypass string
	err := db.queryRow(ctx, `SELECT allow_anonymous, lobby_bypass, anonymous_apps FROM meeting_config WHERE tenant_id = ?`, tenant).Scan(&anon, &bypass, &apps)
	if err == sql.ErrNoRows {
		return meeting.DefaultConfig(), nil
	}
	if err != nil {
		return meeting.Config{}, fmt.Errorf("meeting settings of %s: %w", tenant, err)
	}
	c.AllowAnonymous, c.LobbyBypass, c.AnonymousApps = anon == 1, meeting.Bypass(bypass), apps == 1
	return c, nil
}

// SaveMeetingConfig stores a tenant's meeting settings.
func (db *DB) SaveMeetingConfig(ctx context.Context, tenant identity.TenantID, c meeting.Config) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM meeting_config WHERE tenant_id = ?`, tenant); err != nil {
			return fmt.Errorf("save meeting settings: %w", err)
		}
		if _, err := db.txExec(tx, `INSERT INTO meeting_config (tenant_id, allow_anonymous, lobby_bypass, anonymous_apps) VALUES (?, ?, ?, ?)`,
			tenant, boolInt(c.AllowAnonymous), string(c.LobbyBypass), boolInt(c.AnonymousApps)); err != nil {
			return fmt.Errorf("save meeting settings: %w", err)
		}
		return nil
	})
}

const participantColumns = `user_id, meeting_id, display_name, state, arrived_at, admitted_at, left_at`

func scanParticipant(s scanner) (meeting.Participant, error) {
	var p meeting.Participant
	var state string
	var arrived, admitted, left int64
	if err := s.Scan(&p.UserID, &p.MeetingID, &p.DisplayName, &state, &arrived, &admitted, &left); err != nil {
		return meeting.Participant{}, err
	}
	p.State = meeting.State(state)
	p.ArrivedAt, p.AdmittedAt, p.LeftAt = fromMicros(arrived), fromMicros(admitted), fromMicros(left)
	return p, nil
}

// CreateParticipant stores an anonymous participant's account (it has no
// password: it signs in only by the token the join issues) and its
// participation, with events, in one write.
func (db *DB) CreateParticipant(ctx context.Context, u identity.User, p meeting.Participant, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	// A new account is in no chat yet: no cached chat changes.
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		if err := db.insertUser(tx, u, ""); err != nil {
			return err
		}
		if _, err := db.txExec(tx, `INSERT INTO meeting_participants (`+participantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.UserID, p.MeetingID, p.DisplayName, string(p.State), micros(p.ArrivedAt), micros(p.AdmittedAt), micros(p.LeftAt)); err != nil {
			return fmt.Errorf("insert participant: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// FindParticipant returns the participation of an anonymous account.
// Errors: notFound.
func (db *DB) FindParticipant(ctx context.Context, user identity.UserID) (meeting.Participant, error) {
	p, err := scanParticipant(db.queryRow(ctx, `SELECT `+participantColumns+` FROM meeting_participants WHERE user_id = ?`, user))
	if err != nil {
		return meeting.Participant{}, notFound(err, "No participant %s.", user)
	}
	return p, nil
}

// FindParticipants returns a meeting's anonymous participants in order of
// arrival.
func (db *DB) FindParticipants(ctx context.Context, id meeting.ID) ([]meeting.Participant, error) {
	rows, err := db.query(ctx, `SELECT `+participantColumns+` FROM meeting_participants WHERE meeting_id = ? ORDER BY arrived_at, user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("participants of %s: %w", id, err)
	}
	defer rows.Close()
	var out []meeting.Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, fmt.Errorf("participants of %s: %w", id, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// MoveParticipant stores p's new state and times if it is still in state
// from (decided by the UPDATE itself: on PostgreSQL a second mover waits
// for the first's row lock and then no longer matches); a state that is
// not live deletes the account's tokens in the same write. Errors:
// notFound (not in state from).
func (db *DB) MoveParticipant(ctx context.Context, p meeting.Participant, from meeting.State, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE meeting_participants SET state = ?, admitted_at = ?, left_at = ? WHERE user_id = ? AND state = ?`,
			string(p.State), micros(p.AdmittedAt), micros(p.LeftAt), p.UserID, string(from))
		if err != nil {
			return fmt.Errorf("move participant: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "No participant %s in state %s.", p.UserID, from)
		}
		if !p.State.Live() {
			if _, err := db.txExec(tx, `DELETE FROM tokens WHERE user_id = ?`, p.UserID); err != nil {
				return fmt.Errorf("revoke participant's tokens: %w", err)
			}
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// EndMeeting stores a meeting as ended and ends every live participant of
// it, deleting their tokens, and every wait in its lobby, in one write.
func (db *DB) EndMeeting(ctx context.Context, m meeting.Meeting, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE meetings SET ended_at = ? WHERE id = ? AND ended_at = 0`, micros(m.EndedAt), m.ID)
		if err != nil {
			return fmt.Errorf("end meeting: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "No meeting %s.", m.ID)
		}
		if _, err := db.txExec(tx, `DELETE FROM tokens WHERE user_id IN (SELECT user_id FROM meeting_participants WHERE meeting_id = ?)`, m.ID); err != nil {
			return fmt.Errorf("end meeting: revoke tokens: %w", err)
		}
		if _, err := db.txExec(tx, `UPDATE meeting_participants SET state = ?, left_at = ? WHERE meeting_id = ? AND state IN (?, ?)`,
			string(meeting.Over), micros(m.EndedAt), m.ID, string(meeting.InLobby), string(meeting.Admitted)); err != nil {
			return fmt.Errorf("end meeting: participants: %w", err)
		}
		if _, err := db.txExec(tx, `UPDATE meeting_people SET state = ?, decided_at = ? WHERE meeting_id = ? AND state = ?`,
			string(meeting.Over), micros(m.EndedAt), m.ID, string(meeting.InLobby)); err != nil {
			return fmt.Errorf("end meeting: lobby: %w", err)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// AddMeetingMember stores a member of a meeting chat unless the chat has
// max members (decided inside the write, under the chat's row lock on
// PostgreSQL), and marks the chat external when external is set.
func (db *DB) AddMeetingMember(ctx context.Context, m chat.Member, external bool, max int, drafts []event.Draft, invs []chat.Invitation) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{m.ChatID}}, func(tx *sql.Tx) error {
		if err := db.lockRow(tx, `SELECT id FROM chats WHERE id = ?`, m.ChatID); err != nil {
			return fmt.Errorf("lock chat: %w", err)
		}
		var n int
		if err := db.txQueryRow(tx, `SELECT COUNT(*) FROM chat_members WHERE chat_id = ?`, m.ChatID).Scan(&n); err != nil {
			return fmt.Errorf("count members: %w", err)
		}
		if n >= max {
			return chat.TooManyMembers(max)
		}
		if external {
			if _, err := db.txExec(tx, `UPDATE chats SET external = 1 WHERE id = ?`, m.ChatID); err != nil {
				return fmt.Errorf("mark chat external: %w", err)
			}
		}
		if err := db.insertMember(tx, m); err != nil {
			return err
		}
		if err := db.insertInvitations(tx, invs); err != nil {
			return err
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// EndParticipants ends every live participant of a meeting at at, deleting
// their tokens, and every wait in its lobby, with the events drafts makes
// of them, in one write; it returns those it ended (read inside the write,
// so two callers end each once).
func (db *DB) EndParticipants(ctx context.Context, id meeting.ID, at time.Time, drafts func([]meeting.Participant, []meeting.Person) []event.Draft) ([]meeting.Participant, []meeting.Person, []event.Event, error) {
	var ended []meeting.Participant
	var people []meeting.Person
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		ended, people, evs = ended[:0], nil, nil
		if err := db.lockRow(tx, `SELECT id FROM meetings WHERE id = ?`, id); err != nil {
			return fmt.Errorf("lock meeting: %w", err)
		}
		rows, err := db.txQuery(tx, `SELECT `+participantColumns+` FROM meeting_participants WHERE meeting_id = ? AND state IN (?, ?) ORDER BY arrived_at, user_id`,
			id, string(meeting.InLobby), string(meeting.Admitted))
		if err != nil {
			return fmt.Errorf("live participants: %w", err)
		}
		for rows.Next() {
			p, err := scanParticipant(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("live participants: %w", err)
			}
			ended = append(ended, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("live participants: %w", err)
		}
		if people, err = db.endPeople(tx, id, micros(at)); err != nil {
			return err
		}
		if len(ended) == 0 && len(people) == 0 {
			return nil
		}
		for _, p := range ended {
			if _, err := db.txExec(tx, `DELETE FROM tokens WHERE user_id = ?`, p.UserID); err != nil {
				return fmt.Errorf("revoke participant's tokens: %w", err)
			}
		}
		if _, err := db.txExec(tx, `UPDATE meeting_participants SET state = ?, left_at = ? WHERE meeting_id = ? AND state IN (?, ?)`,
			string(meeting.Over), micros(at), id, string(meeting.InLobby), string(meeting.Admitted)); err != nil {
			return fmt.Errorf("end participants: %w", err)
		}
		evs, err = db.insertEvents(tx, drafts(ended, people))
		return err
	})
	return ended, people, evs, err
}

// overdueMeetingsQuery finds meetings not ended whose end passed and that
// still have live anonymous participants or people waiting in the lobby.
// It starts from the live rows (indexes meeting_participants_live and
// meeting_people_state) and reads those meetings by id: an index on the
// end time would walk every meeting ever held, since a meeting over by its
// times is never marked ended. TestMeetingSweepIndex checks the plan on
// both stores.
const overdueMeetingsQuery = `SELECT ` + meetingColumns + ` FROM meetings WHERE ended_at = 0 AND end_at < ?
		AND id IN (SELECT meeting_id FROM meeting_participants WHERE state IN (?, ?)
			UNION SELECT meeting_id FROM meeting_people WHERE state = ?) ORDER BY end_at, id LIMIT ?`

// FindOverdueMeetings returns meetings not ended whose end is before
// before and that still have live participants or people waiting in the
// lobby, at most limit.
func (db *DB) FindOverdueMeetings(ctx context.Context, before time.Time, limit int) ([]meeting.Meeting, error) {
	rows, err := db.query(ctx, overdueMeetingsQuery, micros(before), string(meeting.InLobby), string(meeting.Admitted), string(meeting.InLobby), limit)
	if err != nil {
		return nil, fmt.Errorf("overdue meetings: %w", err)
	}
	defer rows.Close()
	var out []meeting.Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("overdue meetings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FindOrganisedMeetings returns the meetings organizer organises and did
// not end, by (created_at, id), after the cursor, at most limit.
func (db *DB) FindOrganisedMeetings(ctx context.Context, organizer identity.UserID, after meeting.Cursor, limit int) ([]meeting.Meeting, error) {
	q := `SELECT ` + meetingColumns + ` FROM meetings WHERE organizer_id = ? AND ended_at = 0`
	args := []any{organizer}
	if after.ID != "" {
		c := micros(after.CreatedAt)
		q += ` AND (created_at > ? OR (created_at = ? AND id > ?))`
		args = append(args, c, c, after.ID)
	}
	q += ` ORDER BY created_at, id LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	defer rows.Close()
	var out []meeting.Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("list meetings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
