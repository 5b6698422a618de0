package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/event"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/msgrequest"
	"github.com/parleychat/parley/internal/search"
)

const chatColumns = `c.id, c.type, c.topic, c.tenant_id, c.created_by, c.created_at, c.updated_at, c.external, COALESCE(c.pair_key, ''), c.read_only_by, m.last_read_at, m.state, ` + chatAppColumns

// chatAppColumns name a bot's 1:1 chat's app by the catalog's current name,
// or the one stored when the chat was opened if the app has left the
// catalog; each query that reads them joins apps as ap (appJoin).
const chatAppColumns = `c.app_id, COALESCE(ap.display_name, c.app_name)`

const appJoin = ` LEFT JOIN apps ap ON ap.id = c.app_id`

func scanChat(s scanner) (chat.Chat, error) {
	var c chat.Chat
	var typ, state, by string
	var created, updated, read int64
	var ext int
	if err := s.Scan(&c.ID, &typ, &c.Topic, &c.TenantID, &c.CreatedBy, &created, &updated, &ext, &c.PairKey, &by, &read, &state, &c.App.ID, &c.App.DisplayName); err != nil {
		return chat.Chat{}, err
	}
	c.ReadOnlyBy = msgrequest.ParseBlame(by)
	c.Type, c.ViewerState = chat.Type(typ), chat.RequestState(state)
	c.CreatedAt, c.UpdatedAt, c.LastReadAt = fromMicros(created), fromMicros(updated), fromMicros(read)
	c.External = ext == 1
	return c, nil
}

// UpdateMember stores a member's request state, hold, visible history,
// account and roles.
func (db *DB) UpdateMember(ctx context.Context, m chat.Member, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{m.ChatID}}, func(tx *sql.Tx) error {
		if err := db.updateMember(tx, m); err != nil {
			return err
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

func (db *DB) updateMember(tx *sql.Tx, m chat.Member) error {
	res, err := db.txExec(tx, `UPDATE chat_members SET user_id = ?, state = ?, held = ?, visible_from = ?, roles = ? WHERE id = ? AND chat_id = ?`,
		nullString(string(m.UserID)), string(m.State), boolInt(m.Held), micros(m.VisibleFrom), strings.Join(m.Roles, ","), m.ID, m.ChatID)
	if isUnique(err) {
		return errcode.New(errcode.Conflict, "This person is already a member of the chat.")
	}
	if err != nil {
		return fmt.Errorf("update member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errcode.New(errcode.NotFound, "No member %s in this chat.", m.ID)
	}
	return nil
}

// SetReadOnly stores whose setting made a chat read-only (Nobody: writable).
func (db *DB) SetReadOnly(ctx context.Context, chatID chat.ID, by msgrequest.Blame, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{chatID}}, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE chats SET read_only_by = ? WHERE id = ?`, by.String(), chatID); err != nil {
			return fmt.Errorf("set read-only: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// FindExternalChats returns the external chats with an accepted member of
// tenant (or, with tenant "", of user).
func (db *DB) FindExternalChats(ctx context.Context, tenant identity.TenantID, user identity.UserID) ([]chat.ID, error) {
	q := `SELECT DISTINCT c.id FROM chats c JOIN chat_members m ON m.chat_id = c.id JOIN users u ON u.id = m.user_id WHERE c.external = 1 AND `
	arg := any(tenant)
	if tenant != "" {
		q += `u.tenant_id = ?`
	} else {
		q += `u.id = ?`
		arg = user
	}
	rows, err := db.query(ctx, (q), arg)
	if err != nil {
		return nil, fmt.Errorf("external chats: %w", err)
	}
	defer rows.Close()
	var out []chat.ID
	for rows.Next() {
		var id chat.ID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("external chats: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FindChatAny returns a chat with its members regardless of the viewer
// (for re-evaluation after policy changes). Errors: notFound.
func (db *DB) FindChatAny(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, error) {
	c, members, _, err := db.findChatMembers(ctx, id)
	return c, members, err
}

// FindChatInstalled returns a chat (without its members) and whether any
// app is installed in it (app_installs of scope chat), so that a send to a
// chat without apps reads no installs and copies no members
// (app.Service.Delivered). The answer is read in the same query as the
// chat and cached with it: an install or uninstall is a write that drops
// every cached chat after COMMIT and before it is answered, on this node
// and, over NATS, on the others (docs/decisions.md, "Bots: the installs of
// a chat"). Errors: notFound.
func (db *DB) FindChatInstalled(ctx context.Context, id chat.ID) (chat.Chat, bool, error) {
	if c, installed, ok, _ := db.chats.getChat(id); ok {
		return c, installed, nil
	}
	c, _, installed, err := db.findChatMembers(ctx, id) // reads it and fills the cache
	return c, installed, err
}

// FindChat returns a chat as viewer sees it, with its members. Errors:
// notFound when it does not exist or viewer is not a member.
func (db *DB) FindChat(ctx context.Context, id chat.ID, viewer identity.UserID) (chat.Chat, []chat.Member, error) {
	c, members, _, err := db.findChatMembers(ctx, id)
	if err != nil {
		return chat.Chat{}, nil, err
	}
	for _, m := range members {
		if m.UserID == viewer && viewer != "" {
			c.LastReadAt, c.ViewerState = m.LastReadAt, m.State
			return c, members, nil
		}
	}
	return chat.Chat{}, nil, errcode.New(errcode.NotFound, "No chat %s.", id)
}

// findChatMembers reads a chat and its members (with their accounts) and
// whether an app is installed in it, in one query: every send needs them,
// and this is the hottest read.
func (db *DB) findChatMembers(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, bool, error) {
	c, members, installed, ok, ticket := db.chats.get(id)
	if ok {
		return c, members, installed, nil
	}
	c, members, installed, err := db.readChatMembers(ctx, id)
	if err == nil {
		db.chats.put(ticket, c, members, installed)
	}
	return c, members, installed, err
}

// readChatMembers reads a chat, its members (with their accounts) and
// whether an app is installed in it, in one query. The EXISTS names the
// chat by the parameter, not by c.id, so both databases evaluate it once
// per query rather than once per member row (the UNIQUE index of
// app_installs starts with scope_kind, scope_id).
func (db *DB) readChatMembers(ctx context.Context, id chat.ID) (chat.Chat, []chat.Member, bool, error) {
	rows, err := db.query(ctx, `SELECT c.type, c.topic, c.tenant_id, c.created_by, c.created_at, c.updated_at, c.external, COALESCE(c.pair_key, ''), c.read_only_by, `+chatAppColumns+`,
		m.id, m.roles, m.visible_from, m.joined_at, m.state, m.address, m.added_by, m.last_read_at, m.request_from, m.held, m.filtered, COALESCE(m.user_id, ''),
		`+userColumnsNullable+`, CASE WHEN EXISTS (SELECT 1 FROM app_installs i WHERE i.scope_kind = ? AND i.scope_id = ?) THEN 1 ELSE 0 END
		FROM chats c JOIN chat_members m ON m.chat_id = c.id LEFT JOIN users u ON u.id = m.user_id`+appJoin+` WHERE c.id = ? ORDER BY m.joined_at, m.id`,
		string(app.InChat), id, id)
	if err != nil {
		return chat.Chat{}, nil, false, fmt.Errorf("chat %s: %w", id, err)
	}
	defer rows.Close()
	c := chat.Chat{ID: id}
	var out []chat.Member
	var installed int
	for rows.Next() {
		var m chat.Member
		var typ, roles, state, by string
		var created, updated int64
		var ext int
		var vis, joined, read int64
		var uid string
		var held, filtered int
		var u nullableUser
		dest := []any{&typ, &c.Topic, &c.TenantID, &c.CreatedBy, &created, &updated, &ext, &c.PairKey, &by, &c.App.ID, &c.App.DisplayName,
			&m.ID, &roles, &vis, &joined, &state, &m.Address, &m.AddedBy, &read, &m.RequestFrom, &held, &filtered, &uid}
		if err := rows.Scan(append(append(dest, u.dest()...), &installed)...); err != nil {
			return chat.Chat{}, nil, false, fmt.Errorf("chat %s: %w", id, err)
		}
		c.Type, c.CreatedAt, c.UpdatedAt, c.External = chat.Type(typ), fromMicros(created), fromMicros(updated), ext == 1
		c.ReadOnlyBy = msgrequest.ParseBlame(by)
		m.ChatID, m.UserID, m.State = id, identity.UserID(uid), chat.RequestState(state)
		m.VisibleFrom, m.JoinedAt, m.LastReadAt = fromMicros(vis), fromMicros(joined), fromMicros(read)
		m.Roles = splitRoles(roles)
		m.Held, m.Filtered = held == 1, filtered == 1
		if uid != "" {
			m.User = u.user()
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return chat.Chat{}, nil, false, fmt.Errorf("chat %s: %w", id, err)
	}
	if len(out) == 0 {
		return chat.Chat{}, nil, false, errcode.New(errcode.NotFound, "No chat %s.", id)
	}
	return c, out, installed == 1, nil
}

const userColumnsNullable = `COALESCE(u.tenant_id, ''), COALESCE(u.kind, ''), COALESCE(u.role, ''), COALESCE(u.display_name, ''), COALESCE(u.upn, ''), COALESCE(u.mail, ''), COALESCE(u.phone, ''), COALESCE(u.allow_chats_from_orgs, 1), COALESCE(u.created_at, 0), COALESCE(u.id, '')`

type nullableUser struct {
	tenant, kind, role, name, upn, mail, phone string
	allow                                      int
	created                                    int64
	id                                         string
}

func (n *nullableUser) dest() []any {
	return []any{&n.tenant, &n.kind, &n.role, &n.name, &n.upn, &n.mail, &n.phone, &n.allow, &n.created, &n.id}
}

func (n *nullableUser) user() identity.User {
	return identity.User{ID: identity.UserID(n.id), TenantID: identity.TenantID(n.tenant), Kind: identity.Kind(n.kind), Role: identity.Role(n.role),
		DisplayName: n.name, UPN: n.upn, Mail: n.mail, Phone: n.phone, AllowChatsFromOrganizations: n.allow == 1, CreatedAt: fromMicros(n.created)}
}

func splitRoles(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// FindChatByPair returns the oneOnOne chat of a pair. Errors: notFound.
func (db *DB) FindChatByPair(ctx context.Context, pairKey string, viewer identity.UserID) (chat.Chat, error) {
	c, err := scanChat(db.queryRow(ctx, `SELECT `+chatColumns+` FROM chats c JOIN chat_members m ON m.chat_id = c.id AND m.user_id = ?`+appJoin+` WHERE c.pair_key = ?`, viewer, pairKey))
	if err != nil {
		return chat.Chat{}, notFound(err, "No chat for this pair.")
	}
	return c, nil
}

// FindChats returns the viewer's accepted chats, most recent first.
func (db *DB) FindChats(ctx context.Context, viewer identity.UserID, after chat.ChatCursor, limit int) ([]chat.Chat, error) {
	q := `SELECT ` + chatColumns + ` FROM chat_members m JOIN chats c ON c.id = m.chat_id` + appJoin + ` WHERE m.user_id = ? AND m.state = 'accepted'`
	args := []any{viewer}
	if after.ID != "" {
		q += ` AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))`
		u := micros(after.UpdatedAt)
		args = append(args, u, u, after.ID)
	}
	q += ` ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, (q), args...)
	if err != nil {
		return nil, fmt.Errorf("list chats: %w", err)
	}
	defer rows.Close()
	var out []chat.Chat
	for rows.Next() {
		c, err := scanChat(rows)
		if err != nil {
			return nil, fmt.Errorf("list chats: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateChat stores a chat and its members. Errors: conflict when the
// oneOnOne pair has a chat already.
func (db *DB) CreateChat(ctx context.Context, c chat.Chat, members []chat.Member, drafts []event.Draft, invs []chat.Invitation) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{c.ID}}, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `INSERT INTO chats (id, type, topic, tenant_id, created_by, created_at, updated_at, external, pair_key, app_id, app_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, string(c.Type), c.Topic, c.TenantID, c.CreatedBy, micros(c.CreatedAt), micros(c.UpdatedAt), boolInt(c.External), nullString(c.PairKey), c.App.ID, c.App.DisplayName)
		if isUnique(err) {
			return errcode.New(errcode.Conflict, "This pair has a chat already.")
		}
		if err != nil {
			return fmt.Errorf("insert chat: %w", err)
		}
		for _, m := range members {
			if err := db.insertMember(tx, m); err != nil {
				return err
			}
		}
		if err := db.insertInvitations(tx, invs); err != nil {
			return err
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

func (db *DB) insertMember(tx *sql.Tx, m chat.Member) error {
	_, err := db.txExec(tx, `INSERT INTO chat_members (id, chat_id, user_id, roles, visible_from, joined_at, state, address, added_by, last_read_at, request_from, held, filtered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.ChatID, nullString(string(m.UserID)), strings.Join(m.Roles, ","), micros(m.VisibleFrom), micros(m.JoinedAt), string(m.State), m.Address, m.AddedBy, micros(m.LastReadAt), string(m.RequestFrom), boolInt(m.Held), boolInt(m.Filtered))
	if isUnique(err) {
		return errcode.New(errcode.Conflict, "This person is already a member of the chat.")
	}
	if err != nil {
		return fmt.Errorf("insert member: %w", err)
	}
	return nil
}

// UpdateChat stores a chat's topic and activity time.
func (db *DB) UpdateChat(ctx context.Context, c chat.Chat, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{c.ID}}, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE chats SET topic = ?, updated_at = ? WHERE id = ?`, c.Topic, micros(c.UpdatedAt), c.ID); err != nil {
			return fmt.Errorf("update chat: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// AddMember stores a member. Errors: conflict when already a member.
func (db *DB) AddMember(ctx context.Context, m chat.Member, max int, drafts []event.Draft, invs []chat.Invitation) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{m.ChatID}}, func(tx *sql.Tx) error {
		// The count and the insert are one decision: on PostgreSQL the
		// chat's row lock makes another node's add wait for this COMMIT.
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

// RemoveMember deletes a member. Errors: notFound.
func (db *DB) RemoveMember(ctx context.Context, chatID chat.ID, memberID string, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{chatID}}, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `DELETE FROM chat_members WHERE chat_id = ? AND id = ?`, chatID, memberID)
		if err != nil {
			return fmt.Errorf("delete member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errcode.New(errcode.NotFound, "No member %s in this chat.", memberID)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

type wireMention struct {
	ID   int    `json:"i"`
	Text string `json:"t"`
	User string `json:"u"`
	// Conversation mentions (@team, @channel): kind and id.
	Kind string `json:"k,omitempty"`
	Conv string `json:"c,omitempty"`
}

type wireAttachment struct {
	ID          string `json:"i"`
	ContentType string `json:"c"`
	Content     string `json:"b"`
	Name        string `json:"n,omitempty"`
	URL         string `json:"u,omitempty"`
	Thumb       string `json:"t,omitempty"`
}

func encodeExtras(m *chat.Message) (string, string, error) {
	var mentions, atts string
	if len(m.Mentions) > 0 {
		ws := make([]wireMention, len(m.Mentions))
		for i, mn := range m.Mentions {
			ws[i] = wireMention{mn.ID, mn.MentionText, string(mn.UserID), mn.Conversation, mn.ConversationID}
		}
		b, err := json.Marshal(ws)
		if err != nil {
			return "", "", fmt.Errorf("encode mentions: %w", err)
		}
		mentions = string(b)
	}
	if len(m.Attachments) > 0 {
		ws := make([]wireAttachment, len(m.Attachments))
		for i, a := range m.Attachments {
			ws[i] = wireAttachment{a.ID, a.ContentType, a.Content, a.Name, a.ContentURL, a.ThumbnailURL}
		}
		b, err := json.Marshal(ws)
		if err != nil {
			return "", "", fmt.Errorf("encode attachments: %w", err)
		}
		atts = string(b)
	}
	return mentions, atts, nil
}

func decodeExtras(m *chat.Message, mentions, atts string) error {
	if mentions != "" {
		var ws []wireMention
		if err := json.Unmarshal([]byte(mentions), &ws); err != nil {
			return fmt.Errorf("decode mentions of %d: %w", m.ID, err)
		}
		for _, w := range ws {
			m.Mentions = append(m.Mentions, chat.Mention{ID: w.ID, MentionText: w.Text, UserID: identity.UserID(w.User), Conversation: w.Kind, ConversationID: w.Conv})
		}
	}
	if atts != "" {
		var ws []wireAttachment
		if err := json.Unmarshal([]byte(atts), &ws); err != nil {
			return fmt.Errorf("decode attachments of %d: %w", m.ID, err)
		}
		for _, w := range ws {
			m.Attachments = append(m.Attachments, chat.Attachment{ID: w.ID, ContentType: w.ContentType, Content: w.Content, Name: w.Name, ContentURL: w.URL, ThumbnailURL: w.Thumb})
		}
	}
	return nil
}

// CreateMessage stores a message, gives it its id, bumps the chat's
// activity time and stores the events build returns.
// With capped > 0 the sender may have at most capped messages in the chat,
// this one included, counted inside the write (chat.RequestCapReached).
//
// On SQLite the id is given out here, in the order the writes are queued
// (so ids still grow with commit order), and build runs on the caller's
// goroutine while the write waits in the queue: encoding the events is
// then off the single writer, which both cores can share. On PostgreSQL
// the writer takes the ids from the sequence and calls build.
func (db *DB) CreateMessage(ctx context.Context, m *chat.Message, capped int, build func(*chat.Message) []event.Draft) ([]event.Event, error) {
	mentions, atts, err := encodeExtras(m)
	if err != nil {
		return nil, err
	}
	w := &msgWrite{m: m, mentions: mentions, atts: atts, build: build, capped: capped, plain: search.PlainText(m.ContentType, m.Content)}
	j := &job{ctx: ctx, msg: w, touch: touch{message: m.ChatID, messageAtMic: micros(m.CreatedAt)},
		fn: func(tx *sql.Tx) error {
			if err := db.writeMessages(tx, []*msgWrite{w}); err != nil {
				return err
			}
			return w.err
		}}
	if db.dialect == SQLite {
		w.ready = make(chan struct{})
	}
	err = db.inWriteMessage(ctx, j, w)
	evs := w.evs
	if err != nil {
		m.ID = 0
	}
	return evs, err
}

const messageColumns = `x.id, x.chat_id, x.sender_id, x.created_at, x.modified_at, x.deleted_at, x.content_type, x.content, x.mentions, x.attachments, x.reactions, x.sender_app, x.via_app_id, x.via_app_name, ` + userColumnsNullable

func scanMessage(s scanner) (chat.Message, error) {
	var m chat.Message
	err := scanMessageInto(s, &m)
	return m, err
}

// scanMessageInto scans messageColumns into m, then the extra columns.
func scanMessageInto(s scanner, into *chat.Message, extra ...any) error {
	var m chat.Message
	var created, modified, deleted int64
	var mentions, atts, reactions, app string
	var u nullableUser
	dest := append([]any{&m.ID, &m.ChatID, &m.SenderID, &created, &modified, &deleted, &m.ContentType, &m.Content, &mentions, &atts, &reactions, &app, &m.Via.ID, &m.Via.DisplayName}, u.dest()...)
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return err
	}
	defer func() { *into = m }()
	m.CreatedAt, m.ModifiedAt, m.DeletedAt = fromMicros(created), fromMicros(modified), fromMicros(deleted)
	m.Sender = u.user()
	if app != "" {
		// A bot's message: sender_id is the bot's app id (docs/rules.md §9).
		m.App = chat.Application{ID: string(m.SenderID), DisplayName: app}
	}
	if err := decodeReactions(&m, reactions); err != nil {
		return err
	}
	return decodeExtras(&m, mentions, atts)
}

// FindMessage returns one message of a chat. Errors: notFound.
func (db *DB) FindMessage(ctx context.Context, chatID chat.ID, id chat.MessageID) (chat.Message, error) {
	m, err := scanMessage(db.queryRow(ctx, `SELECT `+messageColumns+` FROM messages x LEFT JOIN users u ON u.id = x.sender_id WHERE x.chat_id = ? AND x.id = ?`, chatID, id))
	if err != nil {
		return chat.Message{}, notFound(err, "No message %d in this chat.", id)
	}
	return m, nil
}

// FindMessages returns a chat's messages newest first.
func (db *DB) FindMessages(ctx context.Context, chatID chat.ID, since time.Time, before chat.MessageID, limit int) ([]chat.Message, error) {
	q := `SELECT ` + messageColumns + ` FROM messages x LEFT JOIN users u ON u.id = x.sender_id WHERE x.chat_id = ? AND x.created_at >= ?`
	args := []any{chatID, micros(since)}
	if before > 0 {
		q += ` AND x.id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY x.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.query(ctx, (q), args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var out []chat.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpdateMessage stores an edit or soft delete.
func (db *DB) UpdateMessage(ctx context.Context, m chat.Message, drafts []event.Draft) ([]event.Event, error) {
	mentions, atts, err := encodeExtras(&m)
	if err != nil {
		return nil, err
	}
	plain := ""
	if !m.Deleted() {
		plain = search.PlainText(m.ContentType, m.Content)
	}
	var evs []event.Event
	err = db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		_, err := db.txExec(tx, `UPDATE messages SET modified_at = ?, deleted_at = ?, content_type = ?, content = ?, mentions = ?, attachments = ?, plain = ? WHERE chat_id = ? AND id = ?`,
			micros(m.ModifiedAt), micros(m.DeletedAt), m.ContentType, m.Content, mentions, atts, plain, m.ChatID, m.ID)
		if err != nil {
			return fmt.Errorf("update message: %w", err)
		}
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}

// MarkRead sets a member's read mark.
func (db *DB) MarkRead(ctx context.Context, chatID chat.ID, userID identity.UserID, at time.Time, drafts []event.Draft) ([]event.Event, error) {
	var evs []event.Event
	err := db.inWriteTouching(ctx, touch{chats: []chat.ID{chatID}}, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `UPDATE chat_members SET last_read_at = ? WHERE chat_id = ? AND user_id = ?`, micros(at), chatID, userID); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		var err error
		evs, err = db.insertEvents(tx, drafts)
		return err
	})
	return evs, err
}
