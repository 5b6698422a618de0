// Meetings (docs/rules.md §8): starting one with invitees, the meeting page
// (its chat, the join link, the roster, and the lobby where organisers and
// host members admit or deny people who came by the link), and the page
// the join link opens for people without an account.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Meeting, type Message, type Page, ApiError, call, enc, errorText, get, post } from "../api";
import { AdaptiveCardView } from "../card";
import { Events } from "../events";
import { RichText } from "../richtext";
import { navigate } from "../router";
import { type State, rememberMeeting, session } from "../session";
import { setPageTitle } from "../title";
import { Avatar, ErrorBox, ExternalBadge, Field, Link, Notice, Tag, Time, UnverifiedBadge, useAsync } from "../ui";

function split(s: string): string[] {
  return s
    .split(/[,;\n]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** NewMeeting starts a meeting: subject, when, and whom to invite by address. */
export function NewMeeting() {
  const now = new Date();
  const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const [subject, setSubject] = useState("");
  const [start, setStart] = useState(local(now));
  const [end, setEnd] = useState(local(new Date(now.getTime() + 3600_000)));
  const [who, setWho] = useState("");
  const { busy, error, run } = useAsync();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setPageTitle("New meeting");
    first.current?.focus();
  }, []);
  async function create(e: Event) {
    e.preventDefault();
    const m = await run(() =>
      post<Meeting>("/v1.0/me/onlineMeetings", {
        subject: subject.trim(),
        startDateTime: new Date(start).toISOString(),
        endDateTime: new Date(end).toISOString(),
        participants: { attendees: split(who).map((a) => (a.includes("@") ? { email: a } : { phoneNumber: a })) },
      }),
    );
    if (m) {
      rememberMeeting(m.chatInfo.threadId, m.id);
      await session.loadChat(m.chatInfo.threadId).catch(() => undefined);
      navigate(`/meetings/${enc(m.id)}`, true);
    }
  }
  return (
    <section class="main form-page" aria-labelledby="new-meeting-title">
      <div class="chat-head">
        <Link href="/" class="back" aria-label="Back to chats">
          ‹ <span class="back-text">Chats</span>
        </Link>
        <h1 id="new-meeting-title" class="chat-title">
          New meeting
        </h1>
      </div>
      <form class="stack narrow" onSubmit={create} noValidate>
        <div class="field">
          <label for="meeting-subject">Subject</label>
          <input id="meeting-subject" ref={first} value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        </div>
        <div class="grid-2">
          <Field id="meeting-start" type="datetime-local" label="Starts" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          <Field id="meeting-end" type="datetime-local" label="Ends" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
        </div>
        <Field
          id="meeting-invite"
          label="Invite (email addresses or phone numbers)"
          hint="Colleagues, people in other organisations and personal accounts, separated by commas. Anyone else can join with the link, if your organisation allows it."
          value={who}
          onInput={(e) => setWho(e.currentTarget.value)}
        />
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !subject.trim()}>
            {busy ? "Creating…" : "Create meeting"}
          </button>
        </div>
      </form>
    </section>
  );
}

interface LobbyEntry {
  id: string;
  displayName: string;
  joinedDateTime: string | null;
}

interface Attendance {
  id: string;
  displayName: string;
  email: string | null;
  userIdentityType: string;
  isExternal: boolean;
  role: string;
  state: string;
  joinedDateTime: string | null;
}

/** useMeeting loads a meeting and keeps its lobby and roster current. */
export function useMeeting(id: string) {
  const [m, setM] = useState<Meeting | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [lobby, setLobby] = useState<LobbyEntry[] | null>(null);
  const [roster, setRoster] = useState<Attendance[]>([]);
  const load = async () => {
    try {
      setRoster((await get<Page<Attendance>>(`/parley/v1/meetings/${enc(id)}/attendance`)).value);
    } catch {
      // not everyone may read the roster
    }
    try {
      setLobby((await get<Page<LobbyEntry>>(`/parley/v1/meetings/${enc(id)}/lobby`)).value);
    } catch {
      setLobby(null); // only organisers and host members see the lobby
    }
  };
  useEffect(() => {
    setM(null);
    setError(null);
    get<Meeting>(`/v1.0/me/onlineMeetings/${enc(id)}`).then((x) => {
      setM(x);
      rememberMeeting(x.chatInfo.threadId, x.id);
    }, setError);
    void load();
    // lobbyUpdated and member changes come as events; a slow poll covers a
    // missed one.
    const off = session.onMeetingEvent(id, () => void load());
    const t = window.setInterval(() => void load(), 10000);
    return () => {
      off();
      clearInterval(t);
    };
  }, [id]);
  return { m, error, lobby, roster, reload: load };
}

/** MeetingPanel is the meeting's side panel: join link, lobby, roster. */
export function MeetingPanel(props: { s: State; id: string; m: Meeting; lobby: LobbyEntry[] | null; roster: Attendance[]; reload: () => void }) {
  const { m, lobby } = props;
  const [copied, setCopied] = useState(false);
  const { busy, error, run } = useAsync();
  async function decide(p: LobbyEntry, admit: boolean) {
    await run(() => post(`/parley/v1/meetings/${enc(props.id)}/lobby/${enc(p.id)}/${admit ? "admit" : "deny"}`));
    props.reload();
  }
  return (
    <aside class="people meeting-panel" aria-label="Meeting" data-testid="meeting-panel">
      <h2 class="section-title">{m.subject || "Meeting"}</h2>
      {m.startDateTime && (
        <p class="muted small">
          <Time iso={m.startDateTime} /> to <Time iso={m.endDateTime} />
        </p>
      )}
      <div class="field">
        <label for="join-link">Join link</label>
        <div class="row">
          <input id="join-link" readOnly value={m.joinWebUrl} onFocus={(e) => e.currentTarget.select()} />
          <button
            type="button"
            class="secondary small"
            onClick={() => {
              void navigator.clipboard?.writeText(m.joinWebUrl).then(() => setCopied(true), () => undefined);
            }}
          >
            {copied ? "Copied" : "Copy"}
          </button>
        </div>
      </div>
      {lobby !== null && (
        <section aria-labelledby="lobby-title">
          <h3 id="lobby-title" class="sub-title">
            Lobby {lobby.length > 0 && <span class="count">{lobby.length}</span>}
          </h3>
          {lobby.length === 0 ? (
            <p class="muted small">Nobody is waiting.</p>
          ) : (
            <ul class="people-list" data-testid="lobby">
              {lobby.map((p) => (
                <li key={p.id}>
                  <Avatar name={p.displayName} external size="sm" />
                  <div class="person">
                    <div>
                      <strong>{p.displayName}</strong> <UnverifiedBadge />
                    </div>
                    <div class="row">
                      <button type="button" class="primary small" disabled={busy} onClick={() => void decide(p, true)}>
                        Admit
                      </button>
                      <button type="button" class="secondary small" disabled={busy} onClick={() => void decide(p, false)}>
                        Deny
                      </button>
                    </div>
                  </div>
                </li>
              ))}
            </ul>
          )}
          <ErrorBox error={error} />
        </section>
      )}
      <h3 class="sub-title">People</h3>
      <ul class="people-list" data-testid="roster">
        {props.roster.map((p) => (
          <li key={p.id + p.role}>
            <Avatar name={p.displayName || p.email || "?"} external={p.isExternal} size="sm" />
            <div class="person">
              <div>
                <strong>{p.displayName || p.email}</strong> {p.userIdentityType === "anonymousGuest" ? <UnverifiedBadge /> : p.isExternal && <ExternalBadge />}
                {p.role === "organizer" && <Tag>Organiser</Tag>}
              </div>
              <div class="muted small">{rosterState(p)}</div>
            </div>
          </li>
        ))}
      </ul>
    </aside>
  );
}

function rosterState(p: Attendance): string {
  switch (p.state) {
    case "accepted":
    case "admitted":
      return p.joinedDateTime ? `In the meeting since ${new Date(p.joinedDateTime).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })}` : "In the meeting";
    case "pending":
      return "Invited, not joined yet";
    case "lobby":
    case "inLobby":
      return "Waiting in the lobby";
    case "denied":
      return "Not let in";
    case "removed":
      return "Removed";
    case "declined":
      return "Can't join";
    default:
      return p.state;
  }
}

// ---- The join page for people without an account: /meet/{token} ----

const ANON_KEY = "parley.meetingSession";

interface AnonSession {
  token: string;
  chatId: string;
  meetingId: string;
  displayName: string;
  link: string;
}

function loadAnon(link: string): AnonSession | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(ANON_KEY) ?? "null") as AnonSession | null;
    return s && s.link === link ? s : null;
  } catch {
    return null;
  }
}

/** AnonJoin is the page a meeting link opens: a name, the lobby, then the meeting chat. */
export function AnonJoin(props: { token: string }) {
  const [anon, setAnon] = useState<AnonSession | null>(() => loadAnon(props.token));
  const [name, setName] = useState("");
  const [state, setState] = useState<"lobby" | "admitted" | "ended">("lobby");
  const [ended, setEnded] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  useEffect(() => setPageTitle("Join meeting"), []);

  // In the lobby: ask the chat every 2 s; 403 means still waiting.
  useEffect(() => {
    if (!anon || state !== "lobby") return;
    let live = true;
    const tick = async () => {
      try {
        await call("GET", `/v1.0/chats/${enc(anon.chatId)}`, { token: anon.token });
        if (live) setState("admitted");
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status === 401) {
          setState("ended");
          setEnded("You weren't let in, or the meeting has ended.");
        }
      }
    };
    void tick();
    const t = window.setInterval(() => void tick(), 2000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [anon, state]);

  async function join(e: Event) {
    e.preventDefault();
    const r = await run(() =>
      post<{ access_token: string; state: string; meetingId: string; displayName: string; chatInfo: { threadId: string } }>(
        "/parley/v1/meetings/join",
        { token: props.token, displayName: name.trim() },
      ),
    );
    if (r) {
      const s: AnonSession = { token: r.access_token, chatId: r.chatInfo.threadId, meetingId: r.meetingId, displayName: r.displayName, link: props.token };
      try {
        sessionStorage.setItem(ANON_KEY, JSON.stringify(s));
      } catch {
        // the session lasts as long as the page
      }
      setAnon(s);
      setState(r.state === "admitted" ? "admitted" : "lobby");
    }
  }

  if (anon && state === "admitted") {
    return (
      <AnonChat
        anon={anon}
        onEnded={(why) => {
          setState("ended");
          setEnded(why);
        }}
      />
    );
  }
  return (
    <main class="auth-page">
      <div class="auth-card">
        <div class="brand-row">
          <span class="logo" aria-hidden="true">
            P
          </span>
          <span class="brand">Parley</span>
        </div>
        <h1>Join the meeting</h1>
        {state === "ended" ? (
          <Notice kind="warning">{ended}</Notice>
        ) : anon ? (
          <div class="stack" role="status" data-testid="lobby-wait">
            <p>
              <strong>Waiting to be let in…</strong>
            </p>
            <p class="muted">
              Someone in the meeting will let you in soon, {anon.displayName}. Keep this page open.
            </p>
          </div>
        ) : (
          <form class="stack" onSubmit={join} noValidate>
            <p class="muted">
              You're joining without an account. Others see the name you type, marked <strong>Unverified</strong>, and you can only take
              part in this meeting's chat.
            </p>
            <Field id="anon-name" label="Your name" value={name} autoComplete="name" onInput={(e) => setName(e.currentTarget.value)} />
            <ErrorBox error={error} />
            <button type="submit" class="primary" disabled={busy || !name.trim()}>
              {busy ? "Joining…" : "Join meeting"}
            </button>
            <p class="hint">
              Have an account? <Link href="/signin">Sign in</Link> and ask the organiser to invite you.
            </p>
          </form>
        )}
      </div>
    </main>
  );
}

/** AnonChat is the meeting chat for an anonymous participant, live through their own events socket. */
function AnonChat(props: { anon: AnonSession; onEnded: (why: string) => void }) {
  const { anon } = props;
  const [items, setItems] = useState<Message[]>([]);
  const [topic, setTopic] = useState("Meeting");
  const [text, setText] = useState("");
  const [err, setErr] = useState<unknown>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const opts = { token: anon.token };

  const put = (m: Message) =>
    setItems((l) => {
      const i = l.findIndex((x) => x.id === m.id);
      const next = i >= 0 ? l.map((x) => (x.id === m.id ? m : x)) : [...l, m];
      return next.sort((a, b) => Number(a.id) - Number(b.id));
    });

  useEffect(() => {
    setPageTitle("Meeting");
    call<{ topic: string | null }>("GET", `/v1.0/chats/${enc(anon.chatId)}`, opts).then((c) => setTopic(c.topic || "Meeting"), () => undefined);
    call<Page<Message>>("GET", `/v1.0/chats/${enc(anon.chatId)}/messages?$top=50`, opts).then((p) => setItems(p.value.slice().reverse()), setErr);
    const ev = new Events({
      token: () => anon.token,
      onEvent: (e) => {
        if (e.type === "sessionEnded") {
          ev.stop();
          props.onEnded(e.reason === "removed" ? "You were removed from the meeting." : e.reason === "denied" ? "You weren't let in." : "The meeting has ended.");
          return;
        }
        if ((e.type === "messageCreated" || e.type === "messageUpdated" || e.type === "messageDeleted") && e.message) put(e.message as Message);
      },
      onState: () => undefined,
      onOpen: () => undefined,
    });
    ev.start();
    return () => ev.stop();
  }, [anon.token]);

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [items.length]);

  async function send(e: Event) {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    setText("");
    try {
      put(await call<Message>("POST", `/v1.0/chats/${enc(anon.chatId)}/messages`, { ...opts, body: { body: { contentType: "text", content: t } } }));
    } catch (x) {
      setErr(x);
      setText(t);
      if (x instanceof ApiError && x.status === 401) props.onEnded("The meeting has ended.");
    }
  }

  return (
    <div class="app anon-meeting" data-view="main">
      <header class="topbar">
        <span class="brand-link">
          <span class="logo" aria-hidden="true">
            P
          </span>
          <span class="brand">Parley</span>
        </span>
        <span class="muted small">
          You're in as {anon.displayName} <UnverifiedBadge />
        </span>
      </header>
      <section class="main chat" aria-label={`Meeting chat: ${topic}`}>
        <header class="chat-head">
          <div class="chat-head-text">
            <h1 class="chat-title">{topic}</h1>
            <p class="muted small">Meeting chat</p>
          </div>
        </header>
        <div class="chat-body">
          <div class="log" ref={logRef} role="log" aria-label="Messages" aria-live="polite" tabIndex={0}>
            {items.length === 0 && <p class="empty muted">No messages yet.</p>}
            {items.map((m) => {
              const who = m.from.user?.displayName ?? m.from.application?.displayName ?? "Someone";
              const mine = m.from.user?.id && m.from.user.displayName === anon.displayName && m.from.user.userIdentityType === "anonymousGuest";
              return (
                <article key={m.id} class={`msg${mine ? " mine" : ""}${m.deletedDateTime ? " deleted" : ""}`} data-message-id={m.id}>
                  <Avatar name={who} external={m.from.user?.isExternal} size="sm" />
                  <div class="msg-main">
                    <div class="msg-head">
                      <span class="msg-sender">{who}</span>
                      {m.from.user?.userIdentityType === "anonymousGuest" && <UnverifiedBadge />}
                      <Time iso={m.createdDateTime} clock class="msg-time" />
                    </div>
                    {m.deletedDateTime ? (
                      <p class="muted italic">This message was deleted.</p>
                    ) : (
                      <>
                        {m.body.content && <RichText contentType={m.body.contentType} content={m.body.content} />}
                        {m.attachments
                          .filter((a) => a.contentType === "application/vnd.microsoft.card.adaptive" && a.content)
                          .map((a) => (
                            <AdaptiveCardView key={a.id} json={a.content ?? ""} chatId={anon.chatId} messageId={m.id} token={anon.token} />
                          ))}
                      </>
                    )}
                  </div>
                </article>
              );
            })}
          </div>
        </div>
        <div class="composer-wrap">
          <ErrorBox error={err ? errorText(err) : null} onDismiss={() => setErr(null)} />
          <form class="composer" onSubmit={send}>
            <label for="anon-composer" class="visually-hidden">
              Message
            </label>
            <textarea
              id="anon-composer"
              rows={1}
              value={text}
              placeholder="Type a message"
              onInput={(e) => setText(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  void send(e);
                }
              }}
            />
            <button type="submit" class="primary" disabled={!text.trim()}>
              Send
            </button>
          </form>
        </div>
      </section>
    </div>
  );
}

