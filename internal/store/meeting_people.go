package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/meeting"
)

// The signed-in people of a meeting's lobby (docs/rules.md §8), in
// meeting_people: one row per meeting and person.

// personSelect selects userColumns first (scanUser's order), then the row.
const personSelect = `SELECT ` + userColumns + `, p.meeting_id, p.state, p.arrived_at, p.decided_at FROM meeting_people p JOIN users u ON u.id = p.user_id`

// EnterLobby puts a signed-in person in a meeting's lobby: a new row, or
// one whose earlier wait was decided (denied, removed, ended, admitted and
// since gone) starts again. A person already waiting stays as they are
// (decided by the upsert itself, so two joins at once enter once); only an
// entry stores drafts. It reports whether they entered.
func (db *DB) EnterLobby(ctx context.Context, p meeting.Person, drafts []event.Draft) (bool, []event.Event, error) {
	var entered bool
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		entered, evs = false, nil
		res, err := db.txExec(tx, `INSERT INTO meeting_people (meeting_id, user_id, state, arrived_at, decided_at) VALUES (?, ?, ?, ?, 0)
			ON CONFLICT (meeting_id, user_id) DO UPDATE SET state = excluded.state, arrived_at = excluded.arrived_at, decided_at = 0
			WHERE meeting_people.state <> excluded.state`,
			p.MeetingID, p.User.ID, string(meeting.InLobby), micros(p.ArrivedAt))
		if err != nil {
			return fmt.Errorf("enter lobby: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		entered = true
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return entered, evs, err
}

// FindLobbyPerson returns a signed-in person's place in a meeting's lobby.
// Errors: notFound.
func (db *DB) FindLobbyPerson(ctx context.Context, id meeting.ID, user identity.UserID) (meeting.Person, error) {
	p, err := scanPersonRow(db.queryRow(ctx, personSelect+` WHERE p.meeting_id = ? AND p.user_id = ?`, id, user))
	if err != nil {
		return meeting.Person{}, notFound(err, "Nobody %s is in this meeting's lobby.", user)
	}
	return p, nil
}

// scanPersonRow scans personSelect's columns.
func scanPersonRow(s scanner) (meeting.Person, error) {
	var p meeting.Person
	var state string
	var arrived, decided int64
	u, err := scanUser(s, &p.MeetingID, &state, &arrived, &decided)
	if err != nil {
		return meeting.Person{}, err
	}
	p.User, p.State = u, meeting.State(state)
	p.ArrivedAt, p.DecidedAt = fromMicros(arrived), fromMicros(decided)
	return p, nil
}

// FindLobbyPeople returns the signed-in people who came to a meeting's lobby,
// in order of arrival.
func (db *DB) FindLobbyPeople(ctx context.Context, id meeting.ID) ([]meeting.Person, error) {
	rows, err := db.query(ctx, personSelect+` WHERE p.meeting_id = ? ORDER BY p.arrived_at, p.user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("lobby people of %s: %w", id, err)
	}
	defer rows.Close()
	var out []meeting.Person
	for rows.Next() {
		p, err := scanPersonRow(rows)
		if err != nil {
			return nil, fmt.Errorf("lobby people of %s: %w", id, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// MovePerson stores p's new state if it is still in state from (decided by
// the UPDATE itself: of two admits at once, one moves it). Errors:
// notFound (not in state from).
func (db *DB) MovePerson(ctx context.Context, p meeting.Person, from meeting.State, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE meeting_people SET state = ?, decided_at = ? WHERE meeting_id = ? AND user_id = ? AND state = ?`,
			string(p.State), micros(p.DecidedAt), p.MeetingID, p.User.ID, string(from))
		if err != nil {
			return fmt.Errorf("move lobby person: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "Nobody %s is %s in this meeting's lobby.", p.User.ID, from)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// endPeople ends, inside tx, the waits of a meeting's lobby people at at
// and returns whom it ended.
func (db *DB) endPeople(tx *sql.Tx, id meeting.ID, at int64) ([]meeting.Person, error) {
	rows, err := db.txQuery(tx, personSelect+` WHERE p.meeting_id = ? AND p.state = ? ORDER BY p.arrived_at, p.user_id`, id, string(meeting.InLobby))
	if err != nil {
		return nil, fmt.Errorf("lobby people: %w", err)
	}
	var out []meeting.Person
	for rows.Next() {
		p, err := scanPersonRow(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("lobby people: %w", err)
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lobby people: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if _, err := db.txExec(tx, `UPDATE meeting_people SET state = ?, decided_at = ? WHERE meeting_id = ? AND state = ?`,
		string(meeting.Over), at, id, string(meeting.InLobby)); err != nil {
		return nil, fmt.Errorf("end lobby people: %w", err)
	}
	return out, nil
}
