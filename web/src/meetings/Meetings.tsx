// Meetings (docs/rules.md §8): starting one with invitees, the meeting page
// (its chat, the join link, the roster, and the lobby where organisers and
// host members admit or deny people who came by the link), and the page
// the join link opens for people without an account.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Meeting, type Message, type Page, ApiError, call, del, enc, errorText, get, getToken, post, setToken } from "../api";
import { ExtensionButton, ViaApp, chatPlace, useBotMentions, useInstalled } from "../apps/Apps";
import { AdaptiveCardView } from "../card";
import { ChatView } from "../chat/ChatView";
import { Events } from "../events";
import { RichText } from "../richtext";
import { navigate } from "../router";
import { type State, chatOfMeeting, rememberMeeting, session } from "../session";
import { setPageTitle } from "../title";
import { AuthCard, Avatar, Confirm, ErrorBox, ExternalBadge, Field, Link, Notice, PersonBadge, SidePanel, Tag, Time, UnverifiedBadge, useAsync } from "../ui";

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
  userIdentityType?: string;
  isExternal?: boolean;
  isGuest?: boolean;
  email?: string | null;
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
  return { m, setM, error, lobby, roster, reload: load };
}

/**
 * MeetingView is /meetings/{id}: the meeting chat with its panel. The
 * organiser gets the whole panel (join link, invite, new link, end, lobby,
 * roster); the meeting itself answers 404 to anyone else, so a host member
 * who may admit (they got a lobbyUpdated event) gets the chat with the lobby
 * and roster only.
 */
export function MeetingView(props: { s: State; id: string }) {
  const { m, setM, error, lobby, roster, reload } = useMeeting(props.id);
  const [ended, setEnded] = useState(false);
  const known = chatOfMeeting(props.id);
  const chatId = m?.chatInfo.threadId ?? (error instanceof ApiError && error.status === 404 ? known : null);
  useEffect(() => {
    if (chatId) void session.loadChat(chatId).catch(() => undefined);
  }, [chatId]);
  if (!chatId) {
    return (
      <section class="main placeholder">
        <div class="empty">{error ? <ErrorBox error={error} /> : <p class="muted">Loading…</p>}</div>
      </section>
    );
  }
  return (
    <ChatView
      s={props.s}
      id={chatId}
      extraLabel="Meeting"
      extra={
        ended ? (
          <MeetingAside>
            <h2 class="section-title">{m?.subject || "Meeting"}</h2>
            <Notice kind="info">The meeting has ended. Its join link no longer works; the chat stays with the people invited.</Notice>
          </MeetingAside>
        ) : m ? (
          <MeetingPanel s={props.s} id={props.id} m={m} lobby={lobby} roster={roster} reload={reload} onChanged={setM} onEnded={() => setEnded(true)} />
        ) : (
          <MeetingAside>
            <LobbyAndRoster id={props.id} lobby={lobby} roster={roster} reload={reload} />
          </MeetingAside>
        )
      }
    />
  );
}

/** MeetingPanel is the organiser's side panel: join link, invite, new link, end, lobby, roster. */
export function MeetingPanel(props: {
  s: State;
  id: string;
  m: Meeting;
  lobby: LobbyEntry[] | null;
  roster: Attendance[];
  reload: () => void;
  onChanged: (m: Meeting) => void;
  onEnded: () => void;
}) {
  const { m } = props;
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState<"renew" | "end" | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [who, setWho] = useState("");
  const { busy, error, run } = useAsync();
  const linkRef = useRef<HTMLInputElement>(null);

  async function copy() {
    setDone(null);
    try {
      await navigator.clipboard.writeText(m.joinWebUrl);
    } catch {
      // No clipboard API (or no permission): copy the selected text instead.
      linkRef.current?.select();
      document.execCommand("copy");
    }
    setCopied(true);
  }
  async function invite(e: Event) {
    e.preventDefault();
    setDone(null);
    const a = who.trim();
    const ok = await run(async () => {
      await post(`/parley/v1/meetings/${enc(props.id)}/participants`, a.includes("@") ? { email: a } : { phoneNumber: a });
      return true;
    });
    if (ok) {
      setWho("");
      setDone(`Invited ${a}.`);
      props.reload();
    }
  }
  async function renew() {
    setDone(null);
    const next = await run(() => post<Meeting>(`/parley/v1/meetings/${enc(props.id)}/renewJoinLink`));
    setAsking(null);
    if (next) {
      props.onChanged(next);
      setCopied(false);
      setDone("New link ready. The old link no longer works.");
    }
  }
  async function end() {
    const ok = await run(async () => {
      await del(`/v1.0/me/onlineMeetings/${enc(props.id)}`);
      return true;
    });
    setAsking(null);
    if (ok) props.onEnded();
  }

  return (
    <MeetingAside>
      <h2 class="section-title">{m.subject || "Meeting"}</h2>
      {m.startDateTime && (
        <p class="muted small">
          <Time iso={m.startDateTime} /> to <Time iso={m.endDateTime} />
        </p>
      )}
      <div class="field">
        <label for="join-link">Join link</label>
        <div class="row">
          <input id="join-link" ref={linkRef} readOnly value={m.joinWebUrl} onFocus={(e) => e.currentTarget.select()} />
          <button type="button" class="secondary small" onClick={() => void copy()}>
            {copied ? "Copied" : "Copy"}
          </button>
        </div>
        <span class="visually-hidden" role="status">
          {copied ? "The join link is copied." : ""}
        </span>
      </div>
      <form class="stack small-gap" onSubmit={invite}>
        <label for="meeting-invite-more">Invite by email or phone</label>
        <div class="row">
          <input id="meeting-invite-more" value={who} placeholder="name@example.com" onInput={(e) => setWho(e.currentTarget.value)} />
          <button type="submit" class="secondary small" disabled={busy || !who.trim()}>
            Invite
          </button>
        </div>
      </form>
      {asking === "renew" ? (
        <Confirm
          title="Get a new join link?"
          text="The current link stops working at once: nobody can join with it any more. People already in the meeting stay."
          action="Get new link"
          busy={busy}
          onCancel={() => setAsking(null)}
          onConfirm={() => void renew()}
        />
      ) : asking === "end" ? (
        <Confirm
          title="End the meeting for everyone?"
          text="The join link stops working and people who joined by the link without an account leave at once. The meeting chat stays with the people invited."
          action="End meeting"
          danger
          busy={busy}
          onCancel={() => setAsking(null)}
          onConfirm={() => void end()}
        />
      ) : (
        <div class="row">
          <button type="button" class="secondary small" onClick={() => setAsking("renew")}>
            New link
          </button>
          <button type="button" class="danger small" onClick={() => setAsking("end")}>
            End meeting
          </button>
        </div>
      )}
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
      <LobbyAndRoster id={props.id} lobby={props.lobby} roster={props.roster} reload={props.reload} />
    </MeetingAside>
  );
}

/** MeetingAside is the meeting page's side panel (ChatView's extra, shown by its Meeting button). */
function MeetingAside(props: { children: ComponentChildren }) {
  return (
    <SidePanel id="side-panel" label="Meeting" class="meeting-panel" testid="meeting-panel">
      {props.children}
    </SidePanel>
  );
}

/** LobbyAndRoster is who waits (with Admit and Deny) and who is in. */
function LobbyAndRoster(props: { id: string; lobby: LobbyEntry[] | null; roster: Attendance[]; reload: () => void }) {
  const { lobby } = props;
  const { busy, error, run } = useAsync();
  async function decide(p: LobbyEntry, admit: boolean) {
    await run(() => post(`/parley/v1/meetings/${enc(props.id)}/lobby/${enc(p.id)}/${admit ? "admit" : "deny"}`));
    props.reload();
  }
  return (
    <>
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
                      <strong>{p.displayName}</strong> {!p.userIdentityType || p.userIdentityType === "anonymousGuest" ? <UnverifiedBadge /> : <PersonBadge external={p.isExternal} guest={p.isGuest} />}
                    </div>
                    {p.email && <div class="muted small">{p.email}</div>}
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
    </>
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

/**
 * AnonJoin is the page a meeting link opens. Signed in, you join as
 * yourself (SignedInJoin); otherwise by a name, the lobby, then the
 * meeting chat.
 */
export function AnonJoin(props: { token: string }) {
  const [signedIn, setSignedIn] = useState(() => !!getToken() && !loadAnon(props.token));
  if (signedIn) return <SignedInJoin token={props.token} onSessionGone={() => setSignedIn(false)} />;
  return <AnonJoinForm token={props.token} />;
}

interface SignedInJoinAnswer {
  state: "admitted" | "lobby" | "pending" | string;
  meetingId: string;
  displayName: string;
  chatInfo: { threadId: string };
}

/**
 * SignedInJoin joins with the person's own token (POST
 * /parley/v1/meetings/join with their bearer). Admitted: on to the meeting
 * chat (the meeting page for its organiser); pending (a person of another
 * organisation): the meeting chat's request; lobby: a waiting state that
 * moves on when an event says the chat is theirs (or they were turned
 * away); refused: the server's sentence.
 */
function SignedInJoin(props: { token: string; onSessionGone: () => void }) {
  const [state, setState] = useState<"joining" | "lobby" | "refused">("joining");
  const [why, setWhy] = useState<unknown>(null);
  const [me, setMe] = useState<string | null>(null);
  const [joined, setJoined] = useState<SignedInJoinAnswer | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [denied, setDenied] = useState(false);
  useEffect(() => setPageTitle("Join meeting"), []);

  const enter = async (j: SignedInJoinAnswer) => {
    // Only the organiser may open the meeting itself (anyone else: 404).
    const organiser = await get(`/v1.0/me/onlineMeetings/${enc(j.meetingId)}`).then(
      () => true,
      () => false,
    );
    if (organiser) rememberMeeting(j.chatInfo.threadId, j.meetingId);
    navigate(organiser ? `/meetings/${enc(j.meetingId)}` : `/chats/${enc(j.chatInfo.threadId)}`, true);
  };

  useEffect(() => {
    let live = true;
    get<{ displayName: string }>("/v1.0/me").then(
      (u) => live && setMe(u.displayName),
      () => undefined,
    );
    call<SignedInJoinAnswer>("POST", "/parley/v1/meetings/join", { body: { token: props.token }, noAuthRedirect: true }).then(
      (j) => {
        if (!live) return;
        setJoined(j);
        if (j.state === "admitted") void enter(j);
        else if (j.state === "pending") navigate(`/requests/${enc(j.chatInfo.threadId)}`, true);
        else setState("lobby");
      },
      (e) => {
        if (!live) return;
        if (e instanceof ApiError && e.status === 401) {
          // The saved session ended: forget it and join as a guest, or sign in again.
          setToken(null);
          props.onSessionGone();
          return;
        }
        setWhy(e);
        setState("refused");
      },
    );
    return () => {
      live = false;
    };
  }, [props.token, attempt]);

  // Waiting in the lobby: the lobbyDecided event says how it ended; the
  // chat's own chatCreated or requestReceived (admitted) come too. Once in,
  // joining again (which no longer knocks) says admitted or pending. A slow
  // check of the chat covers a missed event.
  useEffect(() => {
    if (state !== "lobby" || !joined) return;
    const chatId = joined.chatInfo.threadId;
    let live = true;
    const go = (j: SignedInJoinAnswer) => {
      if (!live) return;
      live = false;
      if (j.state === "pending") navigate(`/requests/${enc(j.chatInfo.threadId)}`, true);
      else void enter(j);
    };
    const rejoin = () =>
      call<SignedInJoinAnswer>("POST", "/parley/v1/meetings/join", { body: { token: props.token }, noAuthRedirect: true }).then(
        (j) => j.state !== "lobby" && go(j),
        (e) => {
          if (!live) return;
          live = false;
          setWhy(e);
          setState("refused");
        },
      );
    const check = () => get(`/v1.0/chats/${enc(chatId)}`).then(() => go({ ...joined, state: "admitted" }), () => undefined);
    const ev = new Events({
      token: getToken,
      onEvent: (e) => {
        if (!live || (e.chatId !== chatId && e.meetingId !== joined.meetingId)) return;
        if (e.type === "lobbyDecided") {
          if (e.state === "admitted") {
            void rejoin();
            return;
          }
          live = false;
          setWhy(lobbyEnd(String(e.state)));
          setDenied(e.state === "denied");
          setState("refused");
          return;
        }
        if (e.type === "chatCreated" || e.type === "requestReceived" || e.type === "memberAdded") void rejoin();
      },
      onState: () => undefined,
      onOpen: () => void check(),
    });
    ev.start();
    const t = window.setInterval(() => void check(), 10000);
    return () => {
      live = false;
      ev.stop();
      clearInterval(t);
    };
  }, [state, joined]);

  return (
    <AuthCard title="Join the meeting">
      {state === "joining" ? (
        <p class="muted" role="status">
          Joining{me ? ` as ${me}` : ""}…
        </p>
      ) : state === "lobby" ? (
        <LobbyWait name={me} />
      ) : (
        <div class="stack" data-testid="join-refused">
          <div class="alert warning" role="alert">
            {typeof why === "string" ? why : errorText(why)}
          </div>
          <p class="muted">Ask the organiser to invite you, or to send you a new link.</p>
          {denied && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setDenied(false);
                setState("joining");
                setAttempt((n) => n + 1);
              }}
            >
              Ask to join again
            </button>
          )}
          <Link href="/">Go to your chats</Link>
        </div>
      )}
    </AuthCard>
  );
}

/** LobbyWait is the join page while someone waits in the lobby (name: who, when known). */
function LobbyWait(props: { name: string | null }) {
  return (
    <div class="stack" role="status" data-testid="lobby-wait">
      <p>
        <strong>Waiting to be let in…</strong>
      </p>
      <p class="muted">Someone in the meeting will let you in soon{props.name ? `, ${props.name}` : ""}. Keep this page open.</p>
    </div>
  );
}

/** lobbyEnd says why a signed-in wait in the lobby ended without going in. */
function lobbyEnd(state: string): string {
  switch (state) {
    case "denied":
      return "You weren't let in to the meeting.";
    case "removed":
      return "The organiser took you out of the lobby.";
    case "ended":
      return "The meeting has ended.";
    default:
      return "You can't join this meeting now.";
  }
}

/** AnonJoinForm is the join page without an account: a name, the lobby, then the meeting chat. */
function AnonJoinForm(props: { token: string }) {
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
    <AuthCard title="Join the meeting">
      {state === "ended" ? (
        <Notice kind="warning">{ended}</Notice>
      ) : anon ? (
        <LobbyWait name={anon.displayName} />
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
            Have an account? <Link href={`/signin?next=${encodeURIComponent(`/meet/${props.token}`)}`}>Sign in</Link> to join as yourself.
          </p>
        </form>
      )}
    </AuthCard>
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
  // The meeting chat's apps, as the server lets this person use them.
  const apps = useInstalled(anon.chatId, anon.token);
  // "@" lists the chat's bots only where the server allows mentioning them
  // (anonymousUsersCanInteractWithApps decides; none listed otherwise).
  const at = useBotMentions("anon-mentions", apps.apps, text, setText);

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
        if (e.type === "installedAppsChanged" && e.chatId === anon.chatId) void apps.reload();
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
      put(await call<Message>("POST", `/v1.0/chats/${enc(anon.chatId)}/messages`, { ...opts, body: { body: at.body(t) } }));
      at.reset();
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
                      <ViaApp m={m} />
                      {m.from.user?.userIdentityType === "anonymousGuest" && <UnverifiedBadge />}
                      {!m.from.user && m.from.application && <Tag kind="bot">Bot</Tag>}
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
            <ExtensionButton place={chatPlace(anon.chatId)} apps={apps.apps} token={anon.token} />
            <label for="anon-composer" class="visually-hidden">
              Message
            </label>
            {at.list}
            <textarea
              id="anon-composer"
              ref={at.el}
              rows={1}
              value={text}
              placeholder="Type a message"
              {...at.aria}
              onInput={(e) => at.onInput(e.currentTarget.value, e.currentTarget.selectionStart ?? e.currentTarget.value.length)}
              onKeyDown={(e) => {
                if (at.onKeyDown(e)) return;
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

