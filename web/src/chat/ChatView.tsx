// One chat: its people, messages (live), the composer with @mentions, edit
// and delete, the read-only banner and the pending-request notice.
import { setPageTitle } from "../title";
import { type ComponentChildren, Fragment } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Attachment, type Member, type Message, type UploadedFile, errorText, fetchBlob, memberFor, post, uploadFile } from "../api";
import { type AppTab, ChatApps, ExtensionButton, chatPlace, type Installed, TabFrame, ViaApp, botOf, may, useInstalled } from "../apps/Apps";
import { AdaptiveCardView } from "../card";
import { type Picked, RichText, composeBody, plainText } from "../richtext";
import { navigate } from "../router";
import { type Outgoing, type State, chatTitle, meetingOfChat, orgOf, session } from "../session";
import { AddByAddress, Avatar, ErrorBox, ExternalBadge, Link, MentionList, Notice, PersonBadge, Tag, Time, atQuery, dayKey, dayLabel, fullTime, identityLabel, useAsync } from "../ui";

const CARD = "application/vnd.microsoft.card.adaptive";

/**
 * ChatView is one chat. extra is a side panel of the page that shows the
 * chat (the meeting panel), named by extraLabel on the header's button that
 * shows and hides it: beside the messages on a desktop, over them on a
 * phone, where it starts hidden so that the chat is what opens.
 */
export function ChatView(props: { s: State; id: string; extra?: ComponentChildren; extraLabel?: string }) {
  const { s, id } = props;
  const entry = s.chats[id];
  const list = s.messages[id];
  const [showPeople, setShowPeople] = useState(false);
  const [showApps, setShowApps] = useState(false);
  const [showExtra, setShowExtra] = useState(() => !matchMedia("(max-width: 720px)").matches);
  const [tab, setTab] = useState<{ app: string; tab: AppTab } | null>(null);
  const apps = useInstalled(id);
  const [editingId, setEditingId] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const peopleButton = useRef<HTMLButtonElement>(null);
  const stick = useRef(true);
  const outgoing = s.outgoing[id] ?? [];

  useEffect(() => {
    void session.openChat(id);
    setShowPeople(false);
    setShowApps(false);
    setTab(null);
    setEditingId(null);
    setReplyTo(null);
    stick.current = true;
    return () => void session.openChat(null);
  }, [id]);

  // Keep the newest message in view unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = logRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [list?.items.length, outgoing.length, id]);

  const title = entry ? chatTitle(entry, s.me) : "Chat";
  useEffect(() => {
    setPageTitle(title);
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
  const people = entry.chat.app ? "You and its bot" : members.length === 1 ? "Just you" : `${members.length} people`;
  const kinds = Array.from(new Set(others.map((m) => identityLabel(m.userIdentityType, m.organizationName ?? orgOf(s, m.tenantId))).filter(Boolean)));
  // A 1:1 chat whose other side declined (or whose send was refused) can't
  // reach them: say so instead of looking like a chat that works.
  const unreachable =
    !entry.chat.isReadOnly &&
    (s.unreachable[id] || (entry.chat.chatType === "oneOnOne" && others.length > 0 && others.every((m) => m.requestState === "declined")));
  const closed = entry.chat.isReadOnly || unreachable;
  const items = list?.items ?? [];
  // "Seen by" goes under my newest message that the reader's mark covers.
  const myLast = [...items].reverse().find((m) => m.from.user?.id === me?.id && !m.deletedDateTime);
  const seenBy = myLast
    ? Object.values(s.receipts[id] ?? {})
        .filter((r) => r.at >= (myLast.createdDateTime ?? ""))
        .map((r) => r.name)
    : [];
  const editLast = () => {
    const mine = items.filter((m) => m.from.user?.id === me?.id && !m.deletedDateTime);
    if (mine.length && !closed) setEditingId(mine[mine.length - 1].id);
  };

  return (
    <section
      class="main chat"
      aria-label={`Chat: ${title}`}
      onKeyDown={(e) => {
        if (e.key === "Escape" && (showPeople || showApps) && !e.defaultPrevented) {
          e.preventDefault();
          setShowPeople(false);
          setShowApps(false);
          peopleButton.current?.focus();
        }
      }}
    >
      <header class="chat-head">
        <BackLink />
        <Avatar name={title} external={entry.chat.isExternal} />
        <div class="chat-head-text">
          <h1 class="chat-title">
            {title} {entry.chat.isExternal && <ExternalBadge title="This chat has people from outside your organisation" />}
          </h1>
          <p class="muted small">
            {entry.chat.chatType === "meeting" ? "Meeting chat · " : ""}
            {people}
            {kinds.length ? ` · ${kinds.join(", ")}` : ""}
            {entry.chat.chatType === "meeting" && !props.extra && meetingOfChat(id) && (
              <>
                {" · "}
                <Link href={`/meetings/${encodeURIComponent(meetingOfChat(id)!)}`}>Meeting details</Link>
              </>
            )}
          </p>
        </div>
        <button
          type="button"
          class="ghost"
          ref={peopleButton}
          aria-expanded={showPeople}
          aria-controls="people-panel"
          onClick={() => {
            setShowPeople(!showPeople);
            setShowApps(false);
          }}
        >
          People
        </button>
        <button
          type="button"
          class="ghost mark-unread"
          onClick={() => {
            void session
              .markUnread(id)
              .then(() => navigate("/"))
              .catch(() => undefined);
          }}
        >
          Mark unread
        </button>
        {entry.chat.chatType !== "oneOnOne" && (
          <button
            type="button"
            class="ghost"
            aria-expanded={showApps}
            aria-controls="apps-panel"
            onClick={() => {
              setShowApps(!showApps);
              setShowPeople(false);
            }}
          >
            Apps
          </button>
        )}
        {props.extra && (
          <button
            type="button"
            class="ghost"
            aria-expanded={showExtra && !showPeople && !showApps}
            aria-controls="side-panel"
            onClick={() => {
              setShowExtra(!(showExtra && !showPeople && !showApps));
              setShowPeople(false);
              setShowApps(false);
            }}
          >
            {props.extraLabel ?? "Details"}
          </button>
        )}
      </header>

      {entry.chat.isReadOnly && (
        <div class="banner readonly" role="status" data-testid="readonly-banner">
          <strong>This chat is read-only.</strong> {entry.chat.readOnlyReason || "A policy change stopped new messages here."}{" "}
          <span class="muted">You can still read the history.</span>
        </div>
      )}
      {unreachable && (
        <div class="banner readonly" role="status" data-testid="unreachable-banner">
          <strong>{others.map((m) => m.displayName || m.email).join(", ") || "This person"} can't be reached.</strong>{" "}
          Messages you send here won't be delivered. <span class="muted">You can still read the history.</span>
        </div>
      )}
      {!closed && pending.length > 0 && (
        <div class="banner pending" role="status" data-testid="pending-banner">
          Waiting for {pending.map((m) => m.displayName || m.email).join(", ")} to accept your request. Until then they see your
          messages as a request, and you can send up to 10.
        </div>
      )}

      <div class="chat-body">
        {tab && <TabFrame app={tab.app} tab={tab.tab} onClose={() => setTab(null)} />}
        <div
          class="log"
          style={tab ? { display: "none" } : undefined}
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
          ) : list.items.length === 0 && outgoing.length === 0 ? (
            <p class="empty muted">No messages yet. Say hello.</p>
          ) : (
            items.map((m, i) => (
              <Fragment key={m.id}>
                {(i === 0 ? !list.next : dayKey(items[i - 1].createdDateTime) !== dayKey(m.createdDateTime)) && m.createdDateTime && (
                  <DayDivider iso={m.createdDateTime} />
                )}
                <MessageItem
                  m={m}
                  chatId={id}
                  mine={m.from.user?.id === me?.id}
                  grouped={i > 0 && sameRun(items[i - 1], m)}
                  members={members}
                  readOnly={closed}
                  editing={editingId === m.id}
                  setEditing={(v) => setEditingId(v ? m.id : null)}
                  meId={me?.id}
                  onReply={() => {
                    setReplyTo(m);
                    document.getElementById("composer-input")?.focus();
                  }}
                />
                {m === myLast && seenBy.length > 0 && (
                  <p class="seen muted small" data-testid="seen">
                    Seen by {seenBy.join(", ")}
                  </p>
                )}
              </Fragment>
            ))
          )}
          {outgoing.map((o, i) => (
            <Fragment key={o.key}>
              {dayKey(i > 0 ? outgoing[i - 1].createdDateTime : items[items.length - 1]?.createdDateTime) !== dayKey(o.createdDateTime) && (
                <DayDivider iso={o.createdDateTime} />
              )}
              <OutgoingItem o={o} />
            </Fragment>
          ))}
        </div>
        {showPeople ? (
          <People s={s} id={id} members={members} group={entry.chat.chatType === "group"} />
        ) : showApps ? (
          <ChatApps
            chatId={id}
            readOnly={closed}
            apps={apps.apps}
            reload={apps.reload}
            onOpenTab={(app, t) => {
              setTab({ app, tab: t });
              setShowApps(false);
            }}
          />
        ) : (
          showExtra && props.extra
        )}
      </div>

      <TypingLine who={Object.values(s.typing[id] ?? {}).map((w) => w.name)} />
      <Composer
        chatId={id}
        members={others}
        apps={apps.apps}
        personalApps={!!me?.tenantId && entry.chat.tenantId === me.tenantId}
        readOnly={entry.chat.isReadOnly}
        unreachable={unreachable}
        onEditLast={editLast}
        replyTo={replyTo}
        onClearReply={() => setReplyTo(null)}
      />
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
  if (a.from.user?.id !== b.from.user?.id || a.deletedDateTime || b.deletedDateTime || b.viaApp) return false;
  const ta = Date.parse(a.createdDateTime ?? "");
  const tb = Date.parse(b.createdDateTime ?? "");
  return tb - ta < 5 * 60 * 1000;
}

/** Quote shows the message a reply quotes; a click goes to it when it is loaded. */
function Quote(props: { a: Attachment }) {
  let q: { messageId?: string; messagePreview?: string; messageSender?: { user?: { displayName?: string } | null } } = {};
  try {
    q = JSON.parse(props.a.content ?? "{}");
  } catch {
    // not the server's shape: shown as an empty quote
  }
  const go = () => {
    const el = document.querySelector(`[data-message-id="${CSS.escape(q.messageId ?? props.a.id)}"]`);
    if (el instanceof HTMLElement) {
      el.scrollIntoView({ block: "center" });
      el.classList.add("flash");
      setTimeout(() => el.classList.remove("flash"), 1500);
    }
  };
  return (
    <button type="button" class="quote" onClick={go} data-testid="quote">
      <span class="quote-sender">{q.messageSender?.user?.displayName ?? "A message"}</span>
      <span class="quote-text">{q.messagePreview ?? ""}</span>
    </button>
  );
}

/** REACTIONS are Graph's named reactions, with the emoji each shows as. */
const REACTIONS: [string, string, string][] = [
  ["like", "👍", "Like"],
  ["heart", "❤️", "Heart"],
  ["laugh", "😆", "Laugh"],
  ["surprised", "😮", "Surprised"],
  ["sad", "😢", "Sad"],
  ["angry", "😠", "Angry"],
];
const emojiOf = (t: string) => REACTIONS.find((r) => r[0] === t)?.[1] ?? t;
const nameOf = (t: string) => REACTIONS.find((r) => r[0] === t)?.[2] ?? t;

/** Reactions lists a message's reactions by kind; a click adds or removes mine. */
function Reactions(props: { m: Message; chatId: string; meId: string | undefined; readOnly: boolean }) {
  const rs = props.m.reactions ?? [];
  if (!rs.length) return null;
  const groups = new Map<string, { names: string[]; mine: boolean }>();
  for (const r of rs) {
    const g = groups.get(r.reactionType) ?? { names: [], mine: false };
    const mine = r.user.user?.id === props.meId;
    g.names.push(mine ? "You" : (r.user.user?.displayName ?? "Someone"));
    g.mine ||= mine;
    groups.set(r.reactionType, g);
  }
  return (
    <div class="reactions" data-testid="reactions">
      {Array.from(groups, ([t, g]) => (
        <button
          key={t}
          type="button"
          class={`reaction${g.mine ? " mine" : ""}`}
          aria-pressed={g.mine}
          disabled={props.readOnly}
          title={`${nameOf(t)}: ${g.names.join(", ")}`}
          aria-label={`${nameOf(t)}, ${g.names.length}: ${g.names.join(", ")}`}
          onClick={() => void session.react(props.chatId, props.m.id, t, !g.mine).catch(() => undefined)}
        >
          <span aria-hidden="true">{emojiOf(t)}</span> {g.names.length}
        </button>
      ))}
    </div>
  );
}

/** ReactButton opens the six reactions; picking one adds (or removes) mine. */
function ReactButton(props: { chatId: string; m: Message; meId: string | undefined }) {
  const [open, setOpen] = useState(false);
  const mine = new Set((props.m.reactions ?? []).filter((r) => r.user.user?.id === props.meId).map((r) => r.reactionType));
  return (
    <span class="react-wrap">
      <button type="button" class="ghost small" aria-expanded={open} aria-label="React" onClick={() => setOpen(!open)}>
        React
      </button>
      {open && (
        <span
          class="react-picker"
          role="group"
          aria-label="Reactions"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          {REACTIONS.map(([t, emoji, label]) => (
            <button
              key={t}
              type="button"
              class="ghost small"
              aria-label={label}
              aria-pressed={mine.has(t)}
              title={label}
              onClick={() => {
                setOpen(false);
                void session.react(props.chatId, props.m.id, t, !mine.has(t)).catch(() => undefined);
              }}
            >
              {emoji}
            </button>
          ))}
        </span>
      )}
    </span>
  );
}

/** TypingLine says who is typing (kept in place so the layout does not jump). */
function TypingLine(props: { who: string[] }) {
  const { who } = props;
  const text =
    who.length === 0 ? "" : who.length === 1 ? `${who[0]} is typing…` : who.length === 2 ? `${who[0]} and ${who[1]} are typing…` : "Several people are typing…";
  return (
    <div class="typing-line muted small" aria-live="polite" data-testid="typing">
      {text}
    </div>
  );
}

function DayDivider(props: { iso: string }) {
  return (
    <div class="day-divider" role="separator" aria-label={dayLabel(props.iso)}>
      <span>{dayLabel(props.iso)}</span>
    </div>
  );
}

/** OutgoingItem is a message of mine on its way, or one that failed, with retry. */
function OutgoingItem(props: { o: Outgoing }) {
  const { o } = props;
  return (
    <article class={`msg mine outgoing ${o.state}`} data-testid="outgoing" aria-label={o.state === "sending" ? "Sending" : "Not sent"}>
      <span class="avatar-gap" />
      <div class="msg-main">
        <div class="msg-text">{o.text}</div>
        {o.state === "sending" ? (
          <span class="muted small" role="status">
            Sending…
          </span>
        ) : (
          <div class="send-failed" role="alert">
            <span>Not sent: {o.error}</span>{" "}
            <button type="button" class="link-button small" onClick={() => session.retry(o.chatId, o.key)}>
              Retry
            </button>{" "}
            <button type="button" class="link-button small" onClick={() => session.discard(o.chatId, o.key)}>
              Discard
            </button>
          </div>
        )}
      </div>
    </article>
  );
}

function MessageItem(props: {
  m: Message;
  chatId: string;
  mine: boolean;
  grouped: boolean;
  members: Member[];
  readOnly: boolean;
  editing: boolean;
  setEditing: (v: boolean) => void;
  meId: string | undefined;
  onReply: () => void;
}) {
  const { m, mine, editing, setEditing } = props;
  const [confirmDelete, setConfirmDelete] = useState(false);
  const { busy, error, setError, run } = useAsync();
  const sender = m.from.user;
  const bot = m.from.application;
  const name = sender?.displayName || bot?.displayName || "Someone";
  const guestIds = new Set(props.members.filter((x) => x.roles.includes("guest") && x.userId).map((x) => x.userId!));
  const deleted = !!m.deletedDateTime;

  return (
    <article
      class={`msg${mine ? " mine" : ""}${props.grouped ? " grouped" : ""}${deleted ? " deleted" : ""}`}
      data-message-id={m.id}
      aria-label={`${name}, ${fullTime(m.createdDateTime)}`}
    >
      {!props.grouped ? (
        <Avatar name={name} external={sender?.isExternal} size="sm" />
      ) : (
        <span class="avatar-gap">
          <Time iso={m.createdDateTime} clock class="msg-time" />
        </span>
      )}
      <div class="msg-main">
        {!props.grouped && (
          <div class="msg-head">
            <span class="msg-sender">{mine ? "You" : name}</span>
            <ViaApp m={m} />
            <PersonBadge identityType={sender?.userIdentityType} external={sender?.isExternal} guest={guestIds.has(sender?.id ?? "")} />
            {bot && <Tag kind="bot">Bot</Tag>}
            <Time iso={m.createdDateTime} clock class="msg-time" />
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
            {m.attachments
              .filter((a) => a.contentType === "messageReference")
              .map((a) => (
                <Quote key={a.id} a={a} />
              ))}
            {m.body.content && <RichText contentType={m.body.contentType} content={m.body.content} />}
            {m.attachments
              .filter((a) => a.contentType === "reference")
              .map((a) => (
                <FileChip key={a.id} a={a} />
              ))}
            {m.attachments
              .filter((a) => a.contentType === CARD && a.content)
              .map((a) => (
                <AdaptiveCardView key={a.id} json={a.content ?? ""} chatId={props.chatId} messageId={m.id} />
              ))}
            {m.lastEditedDateTime && (
              <span class="muted small" title={fullTime(m.lastEditedDateTime)}>
                (edited)
              </span>
            )}
          </>
        )}
        <ErrorBox error={error} onDismiss={() => setError(null)} />
        {!deleted && <Reactions m={m} chatId={props.chatId} meId={props.meId} readOnly={props.readOnly} />}
        {!deleted && !editing && !props.readOnly && (
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
                <ReactButton chatId={props.chatId} m={m} meId={props.meId} />
                <button type="button" class="ghost small" onClick={props.onReply} aria-label={`Reply to ${name}`}>
                  Reply
                </button>
                {mine && (
                  <>
                    <button type="button" class="ghost small" onClick={() => setEditing(true)} aria-label="Edit message">
                      Edit
                    </button>
                    <button type="button" class="ghost small" onClick={() => setConfirmDelete(true)} aria-label="Delete message">
                      Delete
                    </button>
                  </>
                )}
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

/** Candidate is someone the @ list offers: a member, or a bot of the chat's apps. */
interface Candidate {
  key: string;
  name: string;
  member?: Member;
  botId?: string;
}

function Composer(props: {
  chatId: string;
  members: Member[];
  apps: Installed[] | null;
  /** personalApps: the chat is hosted by my organisation, so my own apps' extensions run here. */
  personalApps: boolean;
  readOnly: boolean;
  unreachable: boolean;
  onEditLast: () => void;
  replyTo: Message | null;
  onClearReply: () => void;
}) {
  const [text, setText] = useState("");
  const [picked, setPicked] = useState<Picked[]>([]);
  const [query, setQuery] = useState<{ start: number; q: string } | null>(null);
  const [active, setActive] = useState(0);
  const ta = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const [files, setFiles] = useState<UploadedFile[]>([]);
  const [uploading, setUploading] = useState(0);
  const [fileError, setFileError] = useState<string | null>(null);
  const closed = props.readOnly || props.unreachable;

  useEffect(() => {
    setText("");
    setPicked([]);
    setQuery(null);
    setFiles([]);
    setFileError(null);
    resize();
    // Ready to type on opening a chat (not on touch screens, where focus
    // would pop up the keyboard over the messages).
    if (matchMedia("(pointer: fine)").matches) ta.current?.focus();
  }, [props.chatId]);

  function resize() {
    const el = ta.current;
    if (!el) return;
    el.style.height = "auto";
    if (el.value) el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }

  const candidates = useMemo(() => {
    if (!query) return [];
    const q = query.q.toLowerCase();
    const people: Candidate[] = props.members
      .filter((m) => m.userId && m.requestState === "accepted")
      .filter((m) => m.displayName.toLowerCase().includes(q) || (m.email ?? "").toLowerCase().startsWith(q))
      .map((m) => ({ key: m.id, name: m.displayName, member: m }));
    // Bots of the chat's apps that the server lets this person mention.
    const bots: Candidate[] = (props.apps ?? [])
      .filter((i) => botOf(i) && may(i, "mention") && i.teamsApp.displayName.toLowerCase().includes(q))
      .map((i) => ({ key: `app-${i.id}`, name: i.teamsApp.displayName, botId: botOf(i)!.id }));
    return [...people, ...bots].slice(0, 6);
  }, [query, props.members, props.apps]);

  function updateQuery(value: string, caret: number) {
    const q = atQuery(value, caret);
    setQuery(q);
    if (q) setActive(0);
  }

  function pick(c: Candidate) {
    const m = c.member;
    if (!query || (m && !m.userId)) return;
    const el = ta.current;
    const caret = el?.selectionStart ?? text.length;
    const name = c.name;
    const next = `${text.slice(0, query.start)}@${name} ${text.slice(caret)}`;
    setText(next);
    const entry: Picked = m ? { name, userId: m.userId!, member: m } : { name, userId: `bot:${c.botId}`, bot: true };
    setPicked((p) => (p.some((x) => x.userId === entry.userId) ? p : [...p, entry]));
    setQuery(null);
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      const pos = query.start + name.length + 2;
      el.setSelectionRange(pos, pos);
    });
  }

  async function attach(list: FileList | null) {
    if (!list?.length) return;
    setFileError(null);
    for (const f of Array.from(list)) {
      setUploading((n) => n + 1);
      try {
        const up = await uploadFile(props.chatId, f);
        setFiles((l) => [...l, up]);
      } catch (e) {
        setFileError(`${f.name}: ${errorText(e)}`);
      } finally {
        setUploading((n) => n - 1);
      }
    }
    if (fileRef.current) fileRef.current.value = "";
    ta.current?.focus();
  }

  function send() {
    const t = text.trim();
    if ((!t && !files.length) || closed || uploading) return;
    const { body, mentions } = composeBody(t, picked);
    const msg: Record<string, unknown> = mentions ? { body, mentions } : { body };
    const atts: Record<string, unknown>[] = [];
    // A quoted reply, as Graph writes them: a messageReference attachment (the server fills it).
    if (props.replyTo) atts.push({ id: props.replyTo.id, contentType: "messageReference" });
    // Files as Graph reference attachments (the server writes their links).
    for (const f of files) atts.push({ id: f.id, contentType: "reference" });
    if (atts.length) msg.attachments = atts;
    session.send(props.chatId, msg, t || files.map((f) => f.name).join(", "));
    setFiles([]);
    props.onClearReply();
    setText("");
    setPicked([]);
    if (ta.current) ta.current.value = "";
    resize();
    ta.current?.focus();
  }

  const listId = `mentions-${props.chatId}`;
  return (
    <div class="composer-wrap">
      {props.replyTo && (
        <div class="reply-to" data-testid="reply-to">
          <span class="muted small">Replying to {props.replyTo.from.user?.displayName ?? "a message"}:</span>{" "}
          <span class="reply-preview">{plainText(props.replyTo.body.contentType, props.replyTo.body.content).slice(0, 140)}</span>
          <button type="button" class="chip-x" aria-label="Cancel the reply" onClick={props.onClearReply}>
            ×
          </button>
        </div>
      )}
      {(files.length > 0 || uploading > 0 || fileError) && (
        <div class="attach-list" data-testid="attachments">
          {files.map((f) => (
            <span key={f.id} class="chip">
              {f.name}
              <button type="button" class="chip-x" aria-label={`Remove ${f.name}`} onClick={() => setFiles(files.filter((x) => x.id !== f.id))}>
                ×
              </button>
            </span>
          ))}
          {uploading > 0 && <span class="muted small">Uploading…</span>}
          {fileError && (
            <span class="send-failed" role="alert">
              {fileError}
            </span>
          )}
        </div>
      )}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <label for="attach-input" class="visually-hidden">
          Attach files
        </label>
        <input id="attach-input" ref={fileRef} type="file" multiple class="visually-hidden" disabled={closed} onChange={(e) => void attach(e.currentTarget.files)} />
        <button type="button" class="ghost attach" aria-label="Attach a file" title="Attach a file" disabled={closed} onClick={() => fileRef.current?.click()}>
          📎
        </button>
        <ExtensionButton place={chatPlace(props.chatId)} apps={props.apps} personal={props.personalApps} disabled={closed} />
        <label for="composer-input" class="visually-hidden">
          Message
        </label>
        {query && candidates.length > 0 && (
          <MentionList
            id={listId}
            label="People to mention"
            options={candidates.map((c) => ({ key: c.key, name: c.name, external: c.member?.isExternal, bot: !!c.botId }))}
            active={active}
            onPick={(k) => pick(candidates[k])}
          />
        )}
        <textarea
          id="composer-input"
          ref={ta}
          rows={1}
          value={text}
          disabled={closed}
          placeholder={props.readOnly ? "This chat is read-only" : props.unreachable ? "They can't be reached" : "Type a message"}
          aria-controls={query && candidates.length ? listId : undefined}
          aria-autocomplete="list"
          aria-activedescendant={query && candidates.length ? `${listId}-${active}` : undefined}
          onInput={(e) => {
            const el = e.currentTarget;
            setText(el.value);
            updateQuery(el.value, el.selectionStart ?? el.value.length);
            if (el.value.trim()) session.typed(props.chatId);
            resize();
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
            if (e.key === "Escape" && props.replyTo) {
              e.preventDefault();
              props.onClearReply();
              return;
            }
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              send();
            } else if (e.key === "ArrowUp" && !text) {
              // Up in an empty box edits my last message, as in Teams and Slack.
              e.preventDefault();
              props.onEditLast();
            }
          }}
        />
        <button type="submit" class="primary" disabled={(!text.trim() && !files.length) || closed || uploading > 0}>
          Send
        </button>
      </form>
    </div>
  );
}

function People(props: { s: State; id: string; members: Member[]; group: boolean }) {
  const { s } = props;
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();

  async function add(a: string) {
    const ok = await run(async () => {
      await post(`/v1.0/chats/${encodeURIComponent(props.id)}/members`, memberFor(a));
      await session.loadMembers(props.id);
      return true;
    });
    if (ok) setDone(`Added ${a}.`);
    return !!ok;
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
                  <strong>{isMe ? `${m.displayName} (you)` : m.displayName}</strong>{" "}
                  <PersonBadge identityType={m.userIdentityType} external={m.isExternal} guest={m.roles.includes("guest")} />
                  {m.requestState === "pending" && <Tag kind="pending">Pending</Tag>}
                </div>
                {m.email && m.email !== m.displayName && <div class="muted small">{m.email}</div>}
                {identityLabel(m.userIdentityType, m.organizationName ?? orgOf(s, m.tenantId)) && (
                  <div class="muted small">{identityLabel(m.userIdentityType, m.organizationName ?? orgOf(s, m.tenantId))}</div>
                )}
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
      {props.group && <AddByAddress id="add-person" label="Add someone by email or phone" busy={busy} onAdd={add} />}
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </aside>
  );
}

/** NoChat is the main pane when nothing is selected. */
export function NoChat(props: { requests?: boolean; teams?: boolean }) {
  return (
    <section class="main placeholder" aria-label="Nothing selected">
      <div class="empty">
        <p>{props.requests ? "Pick a request to see who it's from." : props.teams ? "Pick a channel." : "Pick a chat, or start a new one."}</p>
        {!props.requests && !props.teams && (
          <button type="button" class="primary" onClick={() => navigate("/new")}>
            New chat
          </button>
        )}
      </div>
    </section>
  );
}


/** FileChip is a file attached to a message: its name, a thumbnail for images, and a download (with the token). */
function FileChip(props: { a: Attachment & { contentUrl?: string | null; thumbnailUrl?: string | null } }) {
  const { a } = props;
  const [thumb, setThumb] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const url = a.contentUrl ?? `/parley/v1/files/${encodeURIComponent(a.id)}`;
  useEffect(() => {
    if (!a.thumbnailUrl) return;
    let live = true;
    // The page's policy allows data: images only, so the thumbnail comes as one.
    fetchBlob(a.thumbnailUrl)
      .then(
        (b) =>
          new Promise<string>((ok) => {
            const r = new FileReader();
            r.onload = () => ok(String(r.result));
            r.readAsDataURL(b);
          }),
      )
      .then((d) => live && setThumb(d.startsWith("data:image/") ? d : null), () => undefined);
    return () => void (live = false);
  }, [a.thumbnailUrl]);
  async function download() {
    setErr(null);
    try {
      const b = await fetchBlob(url);
      const href = URL.createObjectURL(b);
      const link = document.createElement("a");
      link.href = href;
      link.download = a.name ?? "file";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch (e) {
      setErr(errorText(e));
    }
  }
  return (
    <div class="file-chip" data-testid="file">
      {thumb && <img src={thumb} alt="" class="file-thumb" />}
      <span class="file-name">{a.name ?? "File"}</span>
      <button type="button" class="secondary small" onClick={() => void download()} aria-label={`Download ${a.name ?? "file"}`}>
        Download
      </button>
      {err && <span class="send-failed">{err}</span>}
    </div>
  );
}
