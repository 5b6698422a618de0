// Teams and channels (docs/rules.md §8): the teams I am in with their
// channels, a channel's posts with their threads (replies), live through the
// events socket, and starting a team and adding people (owners).
import { useEffect, useRef, useState } from "preact/hooks";
import { type Message, type Page, enc, get, getAll, memberFor, post } from "../api";
import type { EventFrame } from "../events";
import { RichText } from "../richtext";
import { navigate } from "../router";
import { type State, session } from "../session";
import { setPageTitle } from "../title";
import { Avatar, ErrorBox, Field, Link, Notice, PersonBadge, Tag, Time, useAsync } from "../ui";

export interface Team {
  id: string;
  displayName: string;
  description: string | null;
}

export interface Channel {
  id: string;
  displayName: string;
  isGeneral: boolean;
  unreadCount?: number;
}

interface TeamMember {
  id: string;
  roles: string[];
  displayName: string;
  userId: string;
  email: string | null;
  userType: string;
  userIdentityType: string;
  isExternal: boolean;
}

type ChannelMessage = Message & { replyToId?: string | null; channelIdentity?: { teamId: string; channelId: string } };

/** useTeams lists my teams with their channels. */
export function useTeams() {
  const [teams, setTeams] = useState<{ team: Team; channels: Channel[] }[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async () => {
    try {
      const ts = await getAll<Team>("/v1.0/me/joinedTeams");
      const out = await Promise.all(
        ts.map(async (team) => ({ team, channels: (await get<Page<Channel>>(`/v1.0/teams/${enc(team.id)}/channels`)).value })),
      );
      out.sort((a, b) => a.team.displayName.localeCompare(b.team.displayName));
      setTeams(out);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load();
    return session.onTeamEvent((e) => {
      if (e.type !== "messageCreated" && e.type !== "messageUpdated") void load();
    });
  }, []);
  return { teams, error, reload: load };
}

/** TeamList is the sidebar's Teams tab: each team and its channels. */
export function TeamList(props: { selected: string | null }) {
  const { teams, error } = useTeams();
  if (error) return <ErrorBox error={error} />;
  if (!teams) return <p class="empty muted">Loading teams…</p>;
  return (
    <div class="team-list">
      {teams.length === 0 ? (
        <div class="empty">
          <p>No teams yet.</p>
          <p class="muted small">A team has channels where everyone in it can post and reply in threads.</p>
        </div>
      ) : (
        teams.map(({ team, channels }) => (
          <section key={team.id} class="team" aria-label={team.displayName}>
            <h2 class="team-name">
              <Avatar name={team.displayName} size="sm" /> {team.displayName}
            </h2>
            <ul class="conv-list" aria-label={`Channels of ${team.displayName}`}>
              {channels.map((c) => (
                <li key={c.id}>
                  <Link
                    href={`/teams/${enc(team.id)}/channels/${enc(c.id)}`}
                    class={`conv channel${props.selected === c.id ? " selected" : ""}`}
                    aria-current={props.selected === c.id ? "page" : undefined}
                    data-channel-id={c.id}
                  >
                    <span class="conv-title"># {c.displayName}</span>
                    {(c.unreadCount ?? 0) > 0 && (
                      <span class="unread-count" aria-label={`${c.unreadCount} unread`}>
                        {c.unreadCount}
                      </span>
                    )}
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        ))
      )}
      <div class="center">
        <Link href="/teams/new" class="button secondary">
          New team
        </Link>
      </div>
    </div>
  );
}

/** NewTeam creates a team (you are its owner) and adds people by address. */
export function NewTeam() {
  const [name, setName] = useState("");
  const [who, setWho] = useState("");
  const { busy, error, run } = useAsync();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setPageTitle("New team");
    first.current?.focus();
  }, []);
  async function create(e: Event) {
    e.preventDefault();
    const t = await run(async () => {
      const team = await post<Team>("/v1.0/teams", { displayName: name.trim() });
      for (const a of who.split(/[,;\n]+/).map((x) => x.trim()).filter(Boolean)) {
        await post(`/v1.0/teams/${enc(team.id)}/members`, { ...memberFor(a), roles: [] });
      }
      return team;
    });
    if (t) {
      const general = (await get<Page<Channel>>(`/v1.0/teams/${enc(t.id)}/channels`).catch(() => ({ value: [] as Channel[] }))).value.find(
        (c) => c.isGeneral,
      );
      navigate(general ? `/teams/${enc(t.id)}/channels/${enc(general.id)}` : "/teams", true);
    }
  }
  return (
    <section class="main form-page" aria-labelledby="new-team-title">
      <div class="chat-head">
        <Link href="/teams" class="back" aria-label="Back to teams">
          ‹ <span class="back-text">Teams</span>
        </Link>
        <h1 id="new-team-title" class="chat-title">
          New team
        </h1>
      </div>
      <form class="stack narrow" onSubmit={create} noValidate>
        <div class="field">
          <label for="team-name">Team name</label>
          <input id="team-name" ref={first} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <Field
          id="team-members"
          label="People (email addresses, separated by commas)"
          hint="People in your organisation and its guests. People of other organisations and personal accounts can't join a team; start a chat or a meeting with them instead."
          value={who}
          onInput={(e) => setWho(e.currentTarget.value)}
        />
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !name.trim()}>
            {busy ? "Creating…" : "Create team"}
          </button>
        </div>
      </form>
    </section>
  );
}

/** ChannelView is a channel: its posts, each with its thread of replies. */
export function ChannelView(props: { s: State; teamId: string; channelId: string }) {
  const { teamId, channelId } = props;
  const base = `/v1.0/teams/${enc(teamId)}/channels/${enc(channelId)}/messages`;
  const [posts, setPosts] = useState<ChannelMessage[] | null>(null);
  const [replies, setReplies] = useState<Record<string, ChannelMessage[]>>({});
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [team, setTeam] = useState<Team | null>(null);
  const [channel, setChannel] = useState<Channel | null>(null);
  const [members, setMembers] = useState<TeamMember[]>([]);
  const [error, setError] = useState<unknown>(null);
  const logRef = useRef<HTMLDivElement>(null);

  const put = (m: ChannelMessage) => {
    if (m.replyToId) {
      setReplies((r) => {
        const l = r[m.replyToId!] ?? [];
        const i = l.findIndex((x) => x.id === m.id);
        const next = i >= 0 ? l.map((x) => (x.id === m.id ? m : x)) : [...l, m].sort((a, b) => Number(a.id) - Number(b.id));
        return { ...r, [m.replyToId!]: next };
      });
      setOpen((o) => ({ ...o, [m.replyToId!]: true }));
    } else {
      setPosts((l) => {
        const cur = l ?? [];
        const i = cur.findIndex((x) => x.id === m.id);
        return i >= 0 ? cur.map((x) => (x.id === m.id ? m : x)) : [...cur, m].sort((a, b) => Number(a.id) - Number(b.id));
      });
    }
  };

  useEffect(() => {
    setPosts(null);
    setReplies({});
    setOpen({});
    setError(null);
    get<Team>(`/v1.0/teams/${enc(teamId)}`).then(setTeam, setError);
    get<Channel>(`/v1.0/teams/${enc(teamId)}/channels/${enc(channelId)}`).then(setChannel, setError);
    get<Page<TeamMember>>(`/v1.0/teams/${enc(teamId)}/members`).then((p) => setMembers(p.value), () => undefined);
    get<Page<ChannelMessage>>(`${base}?$top=50`).then(async (p) => {
      const list = p.value.slice().reverse();
      setPosts(list);
      // Threads with replies open with their replies.
      const rs: Record<string, ChannelMessage[]> = {};
      await Promise.all(
        list.map(async (m) => {
          const r = await get<Page<ChannelMessage>>(`${base}/${enc(m.id)}/replies?$top=50`).catch(() => ({ value: [] as ChannelMessage[] }));
          if (r.value.length) rs[m.id] = r.value.slice().reverse();
        }),
      );
      setReplies(rs);
    }, setError);
    post(`/parley/v1/teams/${enc(teamId)}/channels/${enc(channelId)}/markRead`).catch(() => undefined);
    return session.onTeamEvent((e: EventFrame) => {
      const m = e.message as ChannelMessage | undefined;
      if (e.channelId !== channelId || !m) return;
      if (e.type === "messageCreated" || e.type === "messageUpdated" || e.type === "messageDeleted") put(m);
    });
  }, [teamId, channelId]);

  useEffect(() => {
    if (team && channel) setPageTitle(`${channel.displayName} · ${team.displayName}`);
  }, [team, channel]);

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [posts?.length]);

  const guests = new Set(members.filter((m) => m.userType === "Guest").map((m) => m.userId));
  const isOwner = members.some((m) => m.userId === props.s.me?.id && m.roles.includes("owner"));

  return (
    <section class="main chat channel-view" aria-label={`Channel: ${channel?.displayName ?? ""}`}>
      <header class="chat-head">
        <Link href="/teams" class="back" aria-label="Back to teams">
          ‹ <span class="back-text">Teams</span>
        </Link>
        <div class="chat-head-text">
          <h1 class="chat-title"># {channel?.displayName ?? "…"}</h1>
          <p class="muted small">
            {team?.displayName} · {members.length} {members.length === 1 ? "person" : "people"}
          </p>
        </div>
      </header>
      <ErrorBox error={error} />
      <div class="chat-body">
        <div class="log" ref={logRef} role="log" aria-label="Posts" aria-live="polite" tabIndex={0}>
          {posts === null ? (
            <p class="empty muted">Loading…</p>
          ) : posts.length === 0 ? (
            <p class="empty muted">No posts yet. Start a conversation.</p>
          ) : (
            posts.map((p) => (
              <article key={p.id} class="post" data-message-id={p.id}>
                <ChannelMsg m={p} guests={guests} me={props.s.me?.id} />
                {(replies[p.id]?.length ?? 0) > 0 && !open[p.id] && (
                  <button type="button" class="link-button small" onClick={() => setOpen({ ...open, [p.id]: true })}>
                    {replies[p.id].length} {replies[p.id].length === 1 ? "reply" : "replies"}
                  </button>
                )}
                {open[p.id] && (
                  <div class="thread" aria-label="Replies">
                    {(replies[p.id] ?? []).map((r) => (
                      <ChannelMsg key={r.id} m={r} guests={guests} me={props.s.me?.id} />
                    ))}
                  </div>
                )}
                <ReplyBox base={`${base}/${enc(p.id)}/replies`} onSent={put} label={`Reply to ${p.from.user?.displayName ?? "this post"}`} />
              </article>
            ))
          )}
        </div>
        {isOwner && <TeamPeople teamId={teamId} members={members} onChanged={setMembers} />}
      </div>
      <PostBox base={base} onSent={put} />
    </section>
  );
}

function ChannelMsg(props: { m: ChannelMessage; guests: Set<string>; me: string | undefined }) {
  const { m } = props;
  const u = m.from.user;
  const name = u?.displayName ?? m.from.application?.displayName ?? "Someone";
  return (
    <div class={`msg${u?.id === props.me ? " mine" : ""}`} data-message-id={m.id}>
      <Avatar name={name} external={u?.isExternal} size="sm" />
      <div class="msg-main">
        <div class="msg-head">
          <span class="msg-sender">{name}</span>
          <PersonBadge identityType={u?.userIdentityType} external={u?.isExternal} guest={props.guests.has(u?.id ?? "")} />
          <Time iso={m.createdDateTime} clock class="msg-time" />
        </div>
        {m.deletedDateTime ? <p class="muted italic">This message was deleted.</p> : <RichText contentType={m.body.contentType} content={m.body.content} />}
      </div>
    </div>
  );
}

function ReplyBox(props: { base: string; onSent: (m: ChannelMessage) => void; label: string }) {
  const [text, setText] = useState("");
  const { busy, error, run } = useAsync();
  const id = `reply-${props.base.split("/").slice(-2, -1)[0]}`;
  async function send(e: Event) {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    const m = await run(() => post<ChannelMessage>(props.base, { body: { contentType: "text", content: t } }));
    if (m) {
      setText("");
      props.onSent(m);
    }
  }
  return (
    <form class="reply-box" onSubmit={send}>
      <label for={id} class="visually-hidden">
        {props.label}
      </label>
      <input id={id} placeholder="Reply" value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit" class="secondary small" disabled={busy || !text.trim()}>
        Reply
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function PostBox(props: { base: string; onSent: (m: ChannelMessage) => void }) {
  const [text, setText] = useState("");
  const { busy, error, setError, run } = useAsync();
  async function send() {
    const t = text.trim();
    if (!t) return;
    const m = await run(() => post<ChannelMessage>(props.base, { body: { contentType: "text", content: t } }));
    if (m) {
      setText("");
      props.onSent(m);
    }
  }
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
        <label for="post-input" class="visually-hidden">
          New post
        </label>
        <textarea
          id="post-input"
          rows={1}
          value={text}
          placeholder="Start a new conversation"
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={busy || !text.trim()}>
          Post
        </button>
      </form>
    </div>
  );
}

/** TeamPeople lets owners see and add the team's people. */
function TeamPeople(props: { teamId: string; members: TeamMember[]; onChanged: (m: TeamMember[]) => void }) {
  const [addr, setAddr] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  async function add(e: Event) {
    e.preventDefault();
    const a = addr.trim();
    const ok = await run(async () => {
      await post(`/v1.0/teams/${enc(props.teamId)}/members`, { ...memberFor(a), roles: [] });
      props.onChanged((await get<Page<TeamMember>>(`/v1.0/teams/${enc(props.teamId)}/members`)).value);
      return true;
    });
    if (ok) {
      setAddr("");
      setDone(`Added ${a}.`);
    }
  }
  return (
    <aside class="people" aria-label="People in this team">
      <h2 class="section-title">People</h2>
      <ul class="people-list">
        {props.members.map((m) => (
          <li key={m.id}>
            <Avatar name={m.displayName} size="sm" />
            <div class="person">
              <div>
                <strong>{m.displayName}</strong> <PersonBadge guest={m.userType === "Guest"} />
                {m.roles.includes("owner") && <Tag>Owner</Tag>}
              </div>
              {m.email && <div class="muted small">{m.email}</div>}
            </div>
          </li>
        ))}
      </ul>
      <form onSubmit={add} class="stack small-gap">
        <label for="add-team-member">Add someone by email</label>
        <div class="row">
          <input id="add-team-member" value={addr} onInput={(e) => setAddr(e.currentTarget.value)} placeholder="name@example.com" />
          <button type="submit" class="secondary small" disabled={busy || !addr.trim()}>
            Add
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </aside>
  );
}
