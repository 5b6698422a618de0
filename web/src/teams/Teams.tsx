// Teams and channels (docs/rules.md §8): the teams I am in with their
// channels, a channel's posts with their threads (replies), live through the
// events socket, starting a team and adding people (owners), and the team's
// apps (docs/rules.md §9): its Apps panel, app tabs, @mentions of its bots.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Message, type Page, del, enc, get, getAll, memberFor, patch, post } from "../api";
import { type AppTab, CARD_TYPE, ExtensionButton, type Installed, type Place, TabFrame, TeamApps, ViaApp, channelPlace, useBotMentions, useTeamApps } from "../apps/Apps";
import type { EventFrame } from "../events";
import { AdaptiveCardView } from "../card";
import { RichText } from "../richtext";
import { navigate } from "../router";
import { type State, session, useSession } from "../session";
import { setPageTitle } from "../title";
import { AddByAddress, Avatar, Confirm, ErrorBox, Field, Link, Notice, PersonBadge, Tag, Time, useAsync, useChange } from "../ui";

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
  // Only an organisation's members start teams (guests and personal accounts: 403).
  const canCreate = useSession().me?.userType === "Member";
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
      {canCreate && (
        <div class="center">
          <Link href="/teams/new" class="button secondary">
            New team
          </Link>
        </div>
      )}
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
  const cards = `/parley/v1/teams/${enc(teamId)}/channels/${enc(channelId)}/messages`;
  const [posts, setPosts] = useState<ChannelMessage[] | null>(null);
  const [replies, setReplies] = useState<Record<string, ChannelMessage[]>>({});
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [team, setTeam] = useState<Team | null>(null);
  const [channel, setChannel] = useState<Channel | null>(null);
  const [members, setMembers] = useState<TeamMember[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [leaving, setLeaving] = useState(false);
  const [showApps, setShowApps] = useState(false);
  const [tab, setTab] = useState<{ app: string; tab: AppTab } | null>(null);
  const apps = useTeamApps(teamId);
  const leave = useAsync();
  const left = useRef(false); // I left myself: my memberRemoved event is no news
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
    setTab(null);
    get<Team>(`/v1.0/teams/${enc(teamId)}`).then(setTeam, setError);
    get<Channel>(`/v1.0/teams/${enc(teamId)}/channels/${enc(channelId)}`).then(setChannel, setError);
    const loadMembers = () => getAll<TeamMember>(`/v1.0/teams/${enc(teamId)}/members`).then(setMembers, () => undefined);
    void loadMembers();
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
      if (e.teamId !== teamId) return;
      switch (e.type) {
        case "memberAdded":
        case "memberUpdated":
        case "memberRemoved": {
          const who = e.member as TeamMember | undefined;
          if (e.type === "memberRemoved" && who?.userId === props.s.me?.id) {
            navigate(left.current ? "/teams" : "/teams?left=1", true); // the team is gone for me
            return;
          }
          void loadMembers();
          return;
        }
        case "teamUpdated":
          get<Team>(`/v1.0/teams/${enc(teamId)}`).then(setTeam, () => undefined);
          return;
        case "channelUpdated":
          if (e.channelId === channelId) setChannel(e.channel as Channel);
          return;
        case "channelDeleted":
          if (e.channelId === channelId) {
            get<Channel>(`/v1.0/teams/${enc(teamId)}/primaryChannel`).then(
              (g) => navigate(`/teams/${enc(teamId)}/channels/${enc(g.id)}?deleted=1`, true),
              () => navigate("/teams", true),
            );
          }
          return;
      }
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
  const deleted = new URLSearchParams(location.search).has("deleted");
  // Anyone may leave, except the last owner (the server refuses it).
  const mayLeave = members.length > 0 && (!isOwner || members.filter((m) => m.roles.includes("owner")).length > 1);

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
            {isOwner && (
              <>
                {" · "}
                <Link href={`/teams/${enc(teamId)}/manage`}>Manage team</Link>
              </>
            )}
          </p>
        </div>
        <button
          type="button"
          class="ghost"
          aria-expanded={showApps}
          aria-controls="apps-panel"
          onClick={() => setShowApps(!showApps)}
        >
          Apps
        </button>
        {mayLeave && !leaving && (
          <button type="button" class="ghost" onClick={() => setLeaving(true)}>
            Leave team
          </button>
        )}
      </header>
      {leaving && (
        <div class="leave-confirm">
          <Confirm
            title={`Leave ${team?.displayName ?? "the team"}?`}
            text="You lose its channels at once. What you posted stays. An owner can add you again."
            action="Leave team"
            danger
            busy={leave.busy}
            onCancel={() => setLeaving(false)}
            onConfirm={async () => {
              left.current = true;
              const ok = await leave.run(async () => {
                await del(`/v1.0/teams/${enc(teamId)}/members/${enc(props.s.me?.id ?? "")}`);
                return true;
              });
              if (ok) navigate("/teams", true);
              else left.current = false;
            }}
          />
          <ErrorBox error={leave.error} />
        </div>
      )}
      {deleted && <Notice kind="info">The channel you were in was deleted by an owner.</Notice>}
      <ErrorBox error={error} />
      <div class="chat-body">
        {tab && <TabFrame app={tab.app} tab={tab.tab} onClose={() => setTab(null)} back="Back to the channel" />}
        <div class="log" style={tab ? { display: "none" } : undefined} ref={logRef} role="log" aria-label="Posts" aria-live="polite" tabIndex={0}>
          {posts === null ? (
            <p class="empty muted">Loading…</p>
          ) : posts.length === 0 ? (
            <p class="empty muted">No posts yet. Start a conversation.</p>
          ) : (
            posts.map((p) => (
              <article key={p.id} class="post" data-message-id={p.id}>
                <ChannelMsg m={p} guests={guests} me={props.s.me?.id} cards={`${cards}/${enc(p.id)}`} />
                {(replies[p.id]?.length ?? 0) > 0 && !open[p.id] && (
                  <button type="button" class="link-button small" onClick={() => setOpen({ ...open, [p.id]: true })}>
                    {replies[p.id].length} {replies[p.id].length === 1 ? "reply" : "replies"}
                  </button>
                )}
                {open[p.id] && (
                  <div class="thread" aria-label="Replies">
                    {(replies[p.id] ?? []).map((r) => (
                      <ChannelMsg key={r.id} m={r} guests={guests} me={props.s.me?.id} cards={`${cards}/${enc(p.id)}/replies/${enc(r.id)}`} />
                    ))}
                  </div>
                )}
                <ReplyBox
                  base={`${base}/${enc(p.id)}/replies`}
                  place={{ ...channelPlace(teamId, channelId), messages: `${base}/${enc(p.id)}/replies` }}
                  onSent={put}
                  apps={apps.apps}
                  label={`Reply to ${p.from.user?.displayName ?? "this post"}`}
                />
              </article>
            ))
          )}
        </div>
        {showApps ? (
          <TeamApps
            teamId={teamId}
            readOnly={false}
            apps={apps.apps}
            reload={apps.reload}
            onOpenTab={(app, t) => {
              setTab({ app, tab: t });
              setShowApps(false);
            }}
          />
        ) : (
          <TeamPeople teamId={teamId} members={members} isOwner={isOwner} onChanged={setMembers} />
        )}
      </div>
      <PostBox base={base} place={channelPlace(teamId, channelId)} onSent={put} apps={apps.apps} />
    </section>
  );
}

/** ChannelMsg is a post or a reply; a bot's Adaptive Cards act through cards (the message's path). */
function ChannelMsg(props: { m: ChannelMessage; guests: Set<string>; me: string | undefined; cards: string }) {
  const { m } = props;
  const u = m.from.user;
  const name = u?.displayName ?? m.from.application?.displayName ?? "Someone";
  return (
    <div class={`msg${u?.id === props.me ? " mine" : ""}`} data-message-id={m.id}>
      <Avatar name={name} external={u?.isExternal} size="sm" />
      <div class="msg-main">
        <div class="msg-head">
          <span class="msg-sender">{name}</span>
          <ViaApp m={m} />
          <PersonBadge identityType={u?.userIdentityType} external={u?.isExternal} guest={props.guests.has(u?.id ?? "")} />
          {!u && m.from.application && <Tag kind="bot">Bot</Tag>}
          <Time iso={m.createdDateTime} clock class="msg-time" />
        </div>
        {m.deletedDateTime ? (
          <p class="muted italic">This message was deleted.</p>
        ) : (
          <>
            {m.body.content && <RichText contentType={m.body.contentType} content={m.body.content} />}
            {(m.attachments ?? [])
              .filter((a) => a.contentType === CARD_TYPE && a.content)
              .map((a) => (
                <AdaptiveCardView key={a.id} json={a.content ?? ""} actionsPath={`${props.cards}/cardActions`} />
              ))}
          </>
        )}
      </div>
    </div>
  );
}

/**
 * useChannelBox is a post or reply box's text, its @ of the team's bots and
 * its send (POST to base), which empties the box and hands the message on.
 */
function useChannelBox(base: string, listId: string, apps: Installed[] | null, onSent: (m: ChannelMessage) => void) {
  const [text, setText] = useState("");
  const { busy, error, setError, run } = useAsync();
  const at = useBotMentions(listId, apps, text, setText);
  async function send() {
    const t = text.trim();
    if (!t) return;
    const m = await run(() => post<ChannelMessage>(base, { body: at.body(t) }));
    if (m) {
      setText("");
      at.reset();
      onSent(m);
    }
  }
  return { text, setText, at, busy, error, setError, send };
}

function ReplyBox(props: { base: string; place: Place; onSent: (m: ChannelMessage) => void; label: string; apps: Installed[] | null }) {
  const id = `reply-${props.base.split("/").slice(-2, -1)[0]}`;
  const { text, at, busy, error, send } = useChannelBox(props.base, `${id}-mentions`, props.apps, props.onSent);
  return (
    <form
      class="reply-box"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <ExtensionButton place={props.place} apps={props.apps} personal label={`Message extensions (${props.label})`} onSent={props.onSent} />
      <label for={id} class="visually-hidden">
        {props.label}
      </label>
      {at.list}
      <input
        id={id}
        ref={at.el}
        placeholder="Reply"
        value={text}
        {...at.aria}
        onInput={(e) => at.onInput(e.currentTarget.value, e.currentTarget.selectionStart ?? e.currentTarget.value.length)}
        onKeyDown={(e) => void at.onKeyDown(e)}
      />
      <button type="submit" class="secondary small" disabled={busy || !text.trim()}>
        Reply
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function PostBox(props: { base: string; place: Place; onSent: (m: ChannelMessage) => void; apps: Installed[] | null }) {
  const { text, setText, at, busy, error, setError, send } = useChannelBox(props.base, "post-mentions", props.apps, props.onSent);
  useEffect(() => {
    setText("");
    at.reset();
  }, [props.base]);

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
        <ExtensionButton place={props.place} apps={props.apps} personal onSent={props.onSent} />
        <label for="post-input" class="visually-hidden">
          New post
        </label>
        {at.list}
        <textarea
          id="post-input"
          ref={at.el}
          rows={1}
          value={text}
          placeholder="Start a new conversation"
          {...at.aria}
          onInput={(e) => at.onInput(e.currentTarget.value, e.currentTarget.selectionStart ?? e.currentTarget.value.length)}
          onKeyDown={(e) => {
            if (at.onKeyDown(e)) return;
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

/** TeamPeople lists the team's people; owners also add people by address. */
function TeamPeople(props: { teamId: string; members: TeamMember[]; isOwner: boolean; onChanged: (m: TeamMember[]) => void }) {
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  async function add(a: string) {
    const ok = await run(async () => {
      await post(`/v1.0/teams/${enc(props.teamId)}/members`, { ...memberFor(a), roles: [] });
      props.onChanged(await getAll<TeamMember>(`/v1.0/teams/${enc(props.teamId)}/members`));
      return true;
    });
    if (ok) setDone(`Added ${a}.`);
    return !!ok;
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
      {props.isOwner && (
        <>
          <AddByAddress id="add-team-member" label="Add someone by email" busy={busy} onAdd={add} />
          <ErrorBox error={error} />
          {done && <Notice kind="success">{done}</Notice>}
        </>
      )}
    </aside>
  );
}

/** TeamsHome is the main pane of the Teams tab when no channel is open. */
export function TeamsHome() {
  const left = new URLSearchParams(location.search).has("left");
  return (
    <section class="main placeholder" aria-label="Nothing selected">
      <div class="empty">
        {left ? <Notice kind="info">An owner removed you from a team. Its channels are no longer in your list.</Notice> : <p>Pick a channel.</p>}
      </div>
    </section>
  );
}

/**
 * TeamManage is the owners' page of a team (/teams/{id}/manage): its name,
 * its channels (create, rename, delete; General stays) and its people (add
 * by address, make owner or member, remove). The API decides (team.May);
 * the page offers the controls to owners only and tells anyone else whom it
 * is for.
 */
export function TeamManage(props: { s: State; teamId: string }) {
  const { teamId } = props;
  const tbase = `/v1.0/teams/${enc(teamId)}`;
  const [team, setTeam] = useState<Team | null>(null);
  const [channels, setChannels] = useState<Channel[]>([]);
  const [members, setMembers] = useState<TeamMember[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const load = async () => {
    try {
      const [t, cs, ms] = await Promise.all([
        get<Team>(tbase),
        getAll<Channel>(`${tbase}/channels`),
        getAll<TeamMember>(`${tbase}/members`),
      ]);
      setTeam(t);
      setChannels(cs);
      setMembers(ms);
    } catch (e) {
      setLoadError(e);
    }
  };
  useEffect(() => {
    void load();
    return session.onTeamEvent((e) => {
      if (e.teamId !== teamId || e.type === "messageCreated" || e.type === "messageUpdated" || e.type === "messageDeleted" || e.type === "typing") return;
      const who = e.member as TeamMember | undefined;
      if (e.type === "memberRemoved" && who?.userId === props.s.me?.id) {
        navigate("/teams?left=1", true);
        return;
      }
      void load();
    });
  }, [teamId]);
  useEffect(() => setPageTitle(team ? `Manage ${team.displayName}` : "Manage team"), [team?.displayName]);

  const me = members?.find((m) => m.userId === props.s.me?.id);
  const isOwner = !!me?.roles.includes("owner");
  const general = channels.find((c) => c.isGeneral);
  const back = general ? `/teams/${enc(teamId)}/channels/${enc(general.id)}` : "/teams";

  return (
    <section class="main form-page" aria-labelledby="manage-team-title">
      <div class="chat-head">
        <Link href={back} class="back" aria-label="Back to the team">
          ‹ <span class="back-text">Team</span>
        </Link>
        <h1 id="manage-team-title" class="chat-title">
          Manage {team?.displayName ?? "team"}
        </h1>
      </div>
      <div class="stack narrow manage-team">
        <ErrorBox error={loadError} />
        {members === null ? (
          !loadError && <p class="muted">Loading…</p>
        ) : !isOwner ? (
          <div class="panel" data-testid="not-owner">
            <p>Only the team's owners can change its name, channels and people.</p>
            <p class="muted small">Ask an owner if something here should change.</p>
          </div>
        ) : (
          <>
            <TeamName base={tbase} team={team} onSaved={setTeam} />
            <TeamChannels base={tbase} channels={channels} onChanged={load} />
            <TeamMembers base={tbase} members={members} me={props.s.me?.id} onChanged={load} />
          </>
        )}
      </div>
    </section>
  );
}

function TeamName(props: { base: string; team: Team | null; onSaved: (t: Team) => void }) {
  const [name, setName] = useState(props.team?.displayName ?? "");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAsync();
  useEffect(() => setName(props.team?.displayName ?? ""), [props.team?.displayName]);
  async function save(e: Event) {
    e.preventDefault();
    setDone(false);
    const n = name.trim();
    const ok = await run(async () => {
      await patch(props.base, { displayName: n });
      return true;
    });
    if (ok && props.team) {
      props.onSaved({ ...props.team, displayName: n });
      setDone(true);
    }
  }
  return (
    <form class="panel stack small-gap" onSubmit={save} aria-labelledby="team-name-title">
      <h2 id="team-name-title" class="section-title">
        Team name
      </h2>
      <label for="rename-team" class="visually-hidden">
        Team name
      </label>
      <div class="row">
        <input id="rename-team" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <button type="submit" class="secondary" disabled={busy || !name.trim() || name.trim() === props.team?.displayName}>
          Save name
        </button>
      </div>
      <ErrorBox error={error} />
      {done && <Notice kind="success">The team's name is saved.</Notice>}
    </form>
  );
}

function TeamChannels(props: { base: string; channels: Channel[]; onChanged: () => Promise<void> }) {
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<string | null>(null);
  const [editName, setEditName] = useState("");
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const { busy, error, setError, done, act } = useChange(props.onChanged);
  return (
    <section class="panel stack small-gap" aria-labelledby="channels-title" data-testid="manage-channels">
      <h2 id="channels-title" class="section-title">
        Channels
      </h2>
      <ul class="manage-list">
        {props.channels.map((c) => (
          <li key={c.id} data-channel={c.displayName}>
            {editing === c.id ? (
              <form
                class="row"
                onSubmit={async (e) => {
                  e.preventDefault();
                  const n = editName.trim();
                  if (await act(() => patch(`${props.base}/channels/${enc(c.id)}`, { displayName: n }), `Renamed to ${n}.`)) setEditing(null);
                }}
              >
                <label for={`rename-${c.id}`} class="visually-hidden">
                  New name for {c.displayName}
                </label>
                <input id={`rename-${c.id}`} value={editName} onInput={(e) => setEditName(e.currentTarget.value)} />
                <button type="submit" class="primary small" disabled={busy || !editName.trim()}>
                  Save
                </button>
                <button type="button" class="secondary small" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <div class="row manage-row">
                <span class="manage-name"># {c.displayName}</span>
                {c.isGeneral ? (
                  <span class="muted small">Every team has General; it can't be renamed or deleted.</span>
                ) : (
                  <>
                    <button
                      type="button"
                      class="secondary small"
                      aria-label={`Rename ${c.displayName}`}
                      onClick={() => {
                        setEditing(c.id);
                        setEditName(c.displayName);
                        setError(null);
                      }}
                    >
                      Rename
                    </button>
                    <button type="button" class="ghost small danger-text" aria-label={`Delete ${c.displayName}`} onClick={() => setDeleting(c)}>
                      Delete
                    </button>
                  </>
                )}
              </div>
            )}
            {deleting?.id === c.id && (
              <Confirm
                title={`Delete # ${c.displayName}?`}
                text="The channel and its posts go for everyone in the team. This can't be undone."
                action="Delete channel"
                danger
                busy={busy}
                onCancel={() => setDeleting(null)}
                onConfirm={async () => {
                  if (await act(() => del(`${props.base}/channels/${enc(c.id)}`), `# ${c.displayName} is deleted.`)) setDeleting(null);
                }}
              />
            )}
          </li>
        ))}
      </ul>
      <form
        class="stack small-gap"
        onSubmit={async (e) => {
          e.preventDefault();
          const n = name.trim();
          if (await act(() => post(`${props.base}/channels`, { displayName: n, membershipType: "standard" }), `# ${n} is created.`)) setName("");
        }}
      >
        <label for="new-channel">New channel</label>
        <div class="row">
          <input id="new-channel" value={name} placeholder="Channel name" onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" class="secondary" disabled={busy || !name.trim()}>
            Create channel
          </button>
        </div>
        <p class="hint">Everyone in the team is in every channel and reads all of it.</p>
      </form>
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </section>
  );
}

function TeamMembers(props: { base: string; members: TeamMember[]; me: string | undefined; onChanged: () => Promise<void> }) {
  const [addr, setAddr] = useState("");
  const [asOwner, setAsOwner] = useState(false);
  const [removing, setRemoving] = useState<TeamMember | null>(null);
  const { busy, error, done, act } = useChange(props.onChanged);
  const owners = props.members.filter((m) => m.roles.includes("owner")).length;
  const sorted = props.members.slice().sort((a, b) => rank(a) - rank(b) || a.displayName.localeCompare(b.displayName));
  return (
    <section class="panel stack small-gap" aria-labelledby="members-title" data-testid="manage-members">
      <h2 id="members-title" class="section-title">
        People
      </h2>
      <ul class="manage-list">
        {sorted.map((m) => {
          const owner = m.roles.includes("owner");
          const guest = m.userType === "Guest";
          const self = m.userId === props.me;
          return (
            <li key={m.id} data-member={m.email ?? m.displayName}>
              <div class="row manage-row">
                <Avatar name={m.displayName} size="sm" />
                <span class="manage-name">
                  <strong>{m.displayName}</strong> <PersonBadge guest={guest} external={m.isExternal} /> {owner && <Tag>Owner</Tag>}
                  {m.email && <span class="muted small block">{m.email}</span>}
                </span>
                {!guest && !owner && (
                  <button type="button" class="secondary small" disabled={busy} aria-label={`Make owner: ${m.displayName}`} onClick={() => void act(() => patch(`${props.base}/members/${enc(m.id)}`, { roles: ["owner"] }), `${m.displayName} is an owner now.`)}>
                    Make owner
                  </button>
                )}
                {owner && owners > 1 && (
                  <button type="button" class="secondary small" disabled={busy} aria-label={`Make member: ${m.displayName}`} onClick={() => void act(() => patch(`${props.base}/members/${enc(m.id)}`, { roles: [] }), `${m.displayName} is a member now.`)}>
                    Make member
                  </button>
                )}
                {!self && (
                  <button type="button" class="ghost small danger-text" disabled={busy} aria-label={`Remove ${m.displayName}`} onClick={() => setRemoving(m)}>
                    Remove
                  </button>
                )}
              </div>
              {removing?.id === m.id && (
                <Confirm
                  title={`Remove ${m.displayName} from the team?`}
                  text={`${m.displayName} loses every channel of this team at once. What they posted stays. You can add them again later.`}
                  action="Remove"
                  danger
                  busy={busy}
                  onCancel={() => setRemoving(null)}
                  onConfirm={async () => {
                    if (await act(() => del(`${props.base}/members/${enc(m.id)}`), `${m.displayName} is no longer in the team.`)) setRemoving(null);
                  }}
                />
              )}
            </li>
          );
        })}
      </ul>
      <form
        class="stack small-gap"
        onSubmit={async (e) => {
          e.preventDefault();
          const a = addr.trim();
          if (await act(() => post(`${props.base}/members`, { ...memberFor(a), roles: asOwner ? ["owner"] : [] }), `Added ${a}.`)) {
            setAddr("");
            setAsOwner(false);
          }
        }}
      >
        <label for="manage-add-member">Add someone by email</label>
        <div class="row">
          <input id="manage-add-member" value={addr} placeholder="name@example.com" onInput={(e) => setAddr(e.currentTarget.value)} />
          <button type="submit" class="secondary" disabled={busy || !addr.trim()}>
            Add
          </button>
        </div>
        <label class="check">
          <input type="checkbox" checked={asOwner} onChange={(e) => setAsOwner(e.currentTarget.checked)} /> Add as an owner (not for guests)
        </label>
        <p class="hint">People in your organisation and its guests. Guests see only the teams they are in.</p>
      </form>
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </section>
  );
}

function rank(m: TeamMember): number {
  return m.roles.includes("owner") ? 0 : m.userType === "Guest" ? 2 : 1;
}
