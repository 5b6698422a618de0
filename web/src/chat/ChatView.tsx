// One chat: its people, messages (live), the composer with @mentions, edit
// and delete, the read-only banner and the pending-request notice.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Member, type Message, memberFor, post } from "../api";
import { AdaptiveCardView } from "../card";
import { type Picked, RichText, composeBody, plainText } from "../richtext";
import { navigate } from "../router";
import { type State, chatTitle, session } from "../session";
import { Avatar, ErrorBox, ExternalBadge, Link, Notice, Tag, Time, fullTime, identityLabel, useAsync } from "../ui";

const CARD = "application/vnd.microsoft.card.adaptive";

export function ChatView(props: { s: State; id: string }) {
  const { s, id } = props;
  const entry = s.chats[id];
  const list = s.messages[id];
  const [showPeople, setShowPeople] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    void session.openChat(id);
    setShowPeople(false);
    stick.current = true;
    return () => void session.openChat(null);
  }, [id]);

  // Keep the newest message in view unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = logRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [list?.items.length, id]);

  const title = entry ? chatTitle(entry, s.me) : "Chat";
  useEffect(() => {
    document.title = `${title} · Parley`;
  }, [title]);

  if (!entry) {
    return (
      <section class="main chat" aria-label="Chat">
        <div class="chat-head">
          <BackLink />
        </div>
        {list?.error ? <ErrorBox error={list.error} /> : <p class="empty muted">Loading…</p>}
      </section>
    );
  }

  const me = s.me;
  const members = entry.members ?? [];
  const others = members.filter((m) => m.userId !== me?.id);
  const pending = others.filter((m) => m.requestState === "pending");
  const people = members.length === 1 ? "Just you" : `${members.length} people`;
  const kinds = Array.from(new Set(others.map((m) => identityLabel(m.userIdentityType)).filter(Boolean)));

  return (
    <section class="main chat" aria-label={`Chat: ${title}`}>
      <header class="chat-head">
        <BackLink />
        <Avatar name={title} external={entry.chat.isExternal} />
        <div class="chat-head-text">
          <h1 class="chat-title">
            {title} {entry.chat.isExternal && <ExternalBadge title="This chat has people from outside your organisation" />}
          </h1>
          <p class="muted small">
            {people}
            {kinds.length ? ` · ${kinds.join(", ")}` : ""}
          </p>
        </div>
        <button
          type="button"
          class="ghost"
          aria-expanded={showPeople}
          aria-controls="people-panel"
          onClick={() => setShowPeople(!showPeople)}
        >
          People
        </button>
      </header>

      {entry.chat.isReadOnly && (
        <div class="banner readonly" role="status" data-testid="readonly-banner">
          <strong>This chat is read-only.</strong> {entry.chat.readOnlyReason || "A policy change stopped new messages here."}{" "}
          <span class="muted">You can still read the history.</span>
        </div>
      )}
      {!entry.chat.isReadOnly && pending.length > 0 && (
        <div class="banner pending" role="status" data-testid="pending-banner">
          Waiting for {pending.map((m) => m.displayName || m.email).join(", ")} to accept your request. Until then they see your
          messages as a request, and you can send up to 10.
        </div>
      )}

      <div class="chat-body">
        <div
          class="log"
          ref={logRef}
          role="log"
          aria-label="Messages"
          aria-live="polite"
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
        >
          {list?.next && (
            <div class="center">
              <button type="button" class="ghost small" disabled={list.loading} onClick={() => void session.loadOlder(id)}>
                {list.loading ? "Loading…" : "Load earlier messages"}
              </button>
            </div>
          )}
          {list?.error && <ErrorBox error={list.error} />}
          {!list || (list.loading && !list.items.length) ? (
            <p class="empty muted">Loading messages…</p>
          ) : list.items.length === 0 ? (
            <p class="empty muted">No messages yet. Say hello.</p>
          ) : (
            list.items.map((m, i) => (
              <MessageItem
                key={m.id}
                m={m}
                chatId={id}
                mine={m.from.user?.id === me?.id}
                grouped={i > 0 && sameRun(list.items[i - 1], m)}
                members={members}
                readOnly={entry.chat.isReadOnly}
              />
            ))
          )}
        </div>
        {showPeople && <People s={s} id={id} members={members} group={entry.chat.chatType === "group"} />}
      </div>

      <Composer chatId={id} members={others} readOnly={entry.chat.isReadOnly} />
    </section>
  );
}

function BackLink() {
  return (
    <Link href="/" class="back" aria-label="Back to chats">
      ‹ <span class="back-text">Chats</span>
    </Link>
  );
}

function sameRun(a: Message, b: Message): boolean {
  if (a.from.user?.id !== b.from.user?.id || a.deletedDateTime || b.deletedDateTime) return false;
  const ta = Date.parse(a.createdDateTime ?? "");
  const tb = Date.parse(b.createdDateTime ?? "");
  return tb - ta < 5 * 60 * 1000;
}

function MessageItem(props: { m: Message; chatId: string; mine: boolean; grouped: boolean; members: Member[]; readOnly: boolean }) {
  const { m, mine } = props;
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const { busy, error, setError, run } = useAsync();
  const sender = m.from.user;
  const name = sender?.displayName || "Someone";
  const deleted = !!m.deletedDateTime;

  return (
    <article
      class={`msg${mine ? " mine" : ""}${props.grouped ? " grouped" : ""}${deleted ? " deleted" : ""}`}
      data-message-id={m.id}
      aria-label={`${name}, ${fullTime(m.createdDateTime)}`}
    >
      {!props.grouped ? <Avatar name={name} external={sender?.isExternal} size="sm" /> : <span class="avatar-gap" />}
      <div class="msg-main">
        {!props.grouped && (
          <div class="msg-head">
            <span class="msg-sender">{mine ? "You" : name}</span>
            {sender?.isExternal && <ExternalBadge />}
            <Time iso={m.createdDateTime} />
          </div>
        )}
        {deleted ? (
          <p class="muted italic">This message was deleted.</p>
        ) : editing ? (
          <EditBox
            m={m}
            members={props.members}
            busy={busy}
            onCancel={() => setEditing(false)}
            onSave={async (body) => {
              const ok = await run(async () => {
                await session.edit(props.chatId, m.id, body);
                return true;
              });
              if (ok) setEditing(false);
            }}
          />
        ) : (
          <>
            {m.body.content && <RichText contentType={m.body.contentType} content={m.body.content} />}
            {m.attachments
              .filter((a) => a.contentType === CARD && a.content)
              .map((a) => (
                <AdaptiveCardView key={a.id} json={a.content ?? ""} />
              ))}
            {m.lastEditedDateTime && (
              <span class="muted small" title={fullTime(m.lastEditedDateTime)}>
                (edited)
              </span>
            )}
          </>
        )}
        <ErrorBox error={error} onDismiss={() => setError(null)} />
        {mine && !deleted && !editing && !props.readOnly && (
          <div class="msg-actions">
            {confirmDelete ? (
              <>
                <span class="small">Delete this message?</span>
                <button
                  type="button"
                  class="danger small"
                  disabled={busy}
                  onClick={async () => {
                    await run(() => session.remove(props.chatId, m.id));
                    setConfirmDelete(false);
                  }}
                >
                  Delete
                </button>
                <button type="button" class="ghost small" onClick={() => setConfirmDelete(false)}>
                  Cancel
                </button>
              </>
            ) : (
              <>
                <button type="button" class="ghost small" onClick={() => setEditing(true)} aria-label="Edit message">
                  Edit
                </button>
                <button type="button" class="ghost small" onClick={() => setConfirmDelete(true)} aria-label="Delete message">
                  Delete
                </button>
              </>
            )}
          </div>
        )}
      </div>
    </article>
  );
}

function pickedOf(m: Message, members: Member[]): Picked[] {
  const out: Picked[] = [];
  for (const mn of m.mentions) {
    const uid = mn.mentioned.user?.id;
    const member = members.find((x) => x.userId === uid);
    if (uid && member) out.push({ name: mn.mentionText, userId: uid, member });
  }
  return out;
}

function EditBox(props: {
  m: Message;
  members: Member[];
  busy: boolean;
  onCancel: () => void;
  onSave: (body: unknown) => void;
}) {
  const [text, setText] = useState(() => plainText(props.m.body.contentType, props.m.body.content));
  const picked = useMemo(() => pickedOf(props.m, props.members), [props.m, props.members]);
  const save = () => {
    if (!text.trim()) return;
    const { body, mentions } = composeBody(text.trim(), picked);
    props.onSave({ body, mentions: mentions ?? [], attachments: props.m.attachments });
  };
  const id = `edit-${props.m.id}`;
  return (
    <div class="edit-box">
      <label for={id} class="visually-hidden">
        Edit message
      </label>
      <textarea
        id={id}
        value={text}
        rows={Math.min(6, text.split("\n").length + 1)}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            save();
          } else if (e.key === "Escape") props.onCancel();
        }}
        ref={(el) => el?.focus()}
      />
      <div class="row">
        <button type="button" class="primary small" disabled={props.busy || !text.trim()} onClick={save}>
          Save
        </button>
        <button type="button" class="ghost small" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function Composer(props: { chatId: string; members: Member[]; readOnly: boolean }) {
  const [text, setText] = useState("");
  const [picked, setPicked] = useState<Picked[]>([]);
  const [query, setQuery] = useState<{ start: number; q: string } | null>(null);
  const [active, setActive] = useState(0);
  const { busy, error, setError, run } = useAsync();
  const ta = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    setText("");
    setPicked([]);
    setQuery(null);
    setError(null);
  }, [props.chatId]);

  const candidates = useMemo(() => {
    if (!query) return [];
    const q = query.q.toLowerCase();
    return props.members
      .filter((m) => m.userId && m.requestState === "accepted")
      .filter((m) => m.displayName.toLowerCase().includes(q) || (m.email ?? "").toLowerCase().startsWith(q))
      .slice(0, 6);
  }, [query, props.members]);

  function updateQuery(value: string, caret: number) {
    const before = value.slice(0, caret);
    const at = before.lastIndexOf("@");
    if (at >= 0 && (at === 0 || /\s/.test(before[at - 1])) && !/[\n@]/.test(before.slice(at + 1)) && caret - at <= 30) {
      setQuery({ start: at, q: before.slice(at + 1) });
      setActive(0);
    } else setQuery(null);
  }

  function pick(m: Member) {
    if (!query || !m.userId) return;
    const el = ta.current;
    const caret = el?.selectionStart ?? text.length;
    const name = m.displayName;
    const next = `${text.slice(0, query.start)}@${name} ${text.slice(caret)}`;
    setText(next);
    setPicked((p) => (p.some((x) => x.userId === m.userId) ? p : [...p, { name, userId: m.userId!, member: m }]));
    setQuery(null);
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      const pos = query.start + name.length + 2;
      el.setSelectionRange(pos, pos);
    });
  }

  async function send() {
    const t = text.trim();
    if (!t || busy || props.readOnly) return;
    const { body, mentions } = composeBody(t, picked);
    const ok = await run(async () => {
      await session.send(props.chatId, mentions ? { body, mentions } : { body });
      return true;
    });
    if (ok) {
      setText("");
      setPicked([]);
      ta.current?.focus();
    }
  }

  const listId = `mentions-${props.chatId}`;
  return (
    <div class="composer-wrap">
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label for="composer-input" class="visually-hidden">
          Message
        </label>
        {query && candidates.length > 0 && (
          <ul class="mention-list" id={listId} role="listbox" aria-label="People to mention">
            {candidates.map((m, i) => (
              <li
                key={m.id}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                class={i === active ? "active" : ""}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(m);
                }}
              >
                <Avatar name={m.displayName} external={m.isExternal} size="sm" />
                <span>{m.displayName}</span>
                {m.isExternal && <ExternalBadge />}
              </li>
            ))}
          </ul>
        )}
        <textarea
          id="composer-input"
          ref={ta}
          rows={1}
          value={text}
          disabled={props.readOnly}
          placeholder={props.readOnly ? "This chat is read-only" : "Type a message"}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={query && candidates.length ? `${listId}-${active}` : undefined}
          onInput={(e) => {
            const el = e.currentTarget;
            setText(el.value);
            updateQuery(el.value, el.selectionStart ?? el.value.length);
            el.style.height = "auto";
            el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
          }}
          onKeyDown={(e) => {
            if (query && candidates.length) {
              if (e.key === "ArrowDown") {
                e.preventDefault();
                setActive((active + 1) % candidates.length);
                return;
              }
              if (e.key === "ArrowUp") {
                e.preventDefault();
                setActive((active - 1 + candidates.length) % candidates.length);
                return;
              }
              if (e.key === "Enter" || e.key === "Tab") {
                e.preventDefault();
                pick(candidates[active]);
                return;
              }
              if (e.key === "Escape") {
                setQuery(null);
                return;
              }
            }
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={busy || !text.trim() || props.readOnly}>
          Send
        </button>
      </form>
    </div>
  );
}

function People(props: { s: State; id: string; members: Member[]; group: boolean }) {
  const { s } = props;
  const [addr, setAddr] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();

  async function add(e: Event) {
    e.preventDefault();
    const a = addr.trim();
    if (!a) return;
    const ok = await run(async () => {
      await post(`/v1.0/chats/${encodeURIComponent(props.id)}/members`, memberFor(a));
      await session.loadMembers(props.id);
      return true;
    });
    if (ok) {
      setAddr("");
      setDone(`Added ${a}.`);
    }
  }

  async function block(m: Member) {
    if (!m.userId) return;
    const ok = await run(async () => {
      await post("/parley/v1/me/blockedUsers", { userId: m.userId });
      return true;
    });
    if (ok) setDone(`You blocked ${m.displayName}. You can unblock them in Settings.`);
  }

  return (
    <aside class="people" id="people-panel" aria-label="People in this chat">
      <h2 class="section-title">People</h2>
      <ul class="people-list">
        {props.members.map((m) => {
          const isMe = m.userId === s.me?.id;
          return (
            <li key={m.id}>
              <Avatar name={m.displayName || m.email || "?"} external={m.isExternal} size="sm" />
              <div class="person">
                <div>
                  <strong>{isMe ? `${m.displayName} (you)` : m.displayName}</strong> {m.isExternal && <ExternalBadge />}
                  {m.requestState === "pending" && <Tag kind="pending">Pending</Tag>}
                </div>
                {m.email && m.email !== m.displayName && <div class="muted small">{m.email}</div>}
                {identityLabel(m.userIdentityType) && <div class="muted small">{identityLabel(m.userIdentityType)}</div>}
                {!isMe && m.isExternal && m.userId && m.requestState === "accepted" && (
                  <button type="button" class="link-button small" onClick={() => void block(m)}>
                    Block
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {props.group && (
        <form onSubmit={add} class="stack small-gap">
          <label for="add-person">Add someone by email or phone</label>
          <div class="row">
            <input id="add-person" value={addr} onInput={(e) => setAddr(e.currentTarget.value)} placeholder="name@example.com" />
            <button type="submit" class="secondary small" disabled={busy || !addr.trim()}>
              Add
            </button>
          </div>
        </form>
      )}
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </aside>
  );
}

/** NoChat is the main pane when nothing is selected. */
export function NoChat(props: { requests?: boolean }) {
  return (
    <section class="main placeholder" aria-label="Nothing selected">
      <div class="empty">
        <p>{props.requests ? "Pick a request to see who it's from." : "Pick a chat, or start a new one."}</p>
        {!props.requests && (
          <button type="button" class="primary" onClick={() => navigate("/new")}>
            New chat
          </button>
        )}
      </div>
    </section>
  );
}

