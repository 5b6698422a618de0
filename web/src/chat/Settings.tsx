// Personal settings (docs/rules.md §3): who may start chats with me, and the people
// I blocked.
import { setPageTitle } from "../title";
import { useEffect, useState } from "preact/hooks";
import { type User, del, get, patch, post } from "../api";
import { type State, orgOf, session } from "../session";
import { Avatar, ErrorBox, ExternalBadge, Field, Link, Notice, Switch, identityLabel, useAsync } from "../ui";

export function Settings(props: { s: State; onSignOut: () => void }) {
  const me = props.s.me;
  const personal = me?.userType === "Personal";
  const [allow, setAllow] = useState<boolean | null>(null);
  const [blocked, setBlocked] = useState<User[] | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { error, run } = useAsync();

  useEffect(() => {
    setPageTitle("Settings");
    if (personal) {
      void run(async () => {
        const s = await get<{ allowChatsFromOrganizations: boolean }>("/parley/v1/me/settings");
        setAllow(s.allowChatsFromOrganizations);
      });
    }
    void run(async () => {
      const b = await get<{ value: User[] }>("/parley/v1/me/blockedUsers");
      setBlocked(b.value);
    });
  }, [personal]);

  async function toggle(v: boolean) {
    setSaved(null);
    const ok = await run(async () => {
      const s = await patch<{ allowChatsFromOrganizations: boolean }>("/parley/v1/me/settings", { allowChatsFromOrganizations: v });
      setAllow(s.allowChatsFromOrganizations);
      return true;
    });
    if (ok) setSaved("Saved.");
  }

  async function unblock(u: User) {
    setSaved(null);
    const ok = await run(async () => {
      await del(`/parley/v1/me/blockedUsers/${encodeURIComponent(u.id)}`);
      setBlocked((b) => (b ?? []).filter((x) => x.id !== u.id));
      return true;
    });
    if (ok) setSaved(`${u.displayName} is unblocked.`);
  }

  return (
    <section class="main form-page" aria-labelledby="settings-title">
      <div class="chat-head">
        <Link href="/" class="back" aria-label="Back to chats">
          ‹ <span class="back-text">Chats</span>
        </Link>
        <h1 id="settings-title" class="chat-title">
          Settings
        </h1>
      </div>
      <div class="stack narrow">
        {me && (
          <div class="panel profile">
            <Avatar name={me.displayName} />
            <div>
              <strong>{me.displayName}</strong>
              <div class="muted">{me.mail ?? me.userPrincipalName}</div>
              <div class="muted small">
                {personal ? "Personal account" : me.userType === "Guest" ? "Guest" : me.isAdmin ? "Work account · admin" : "Work account"}
              </div>
            </div>
          </div>
        )}
        <ErrorBox error={error} />
        {saved && <Notice kind="success">{saved}</Notice>}
        {me && <Profile me={me} />}
        <Status />
        <Notifications />
        {personal && (
          <div class="panel">
            <h2 class="section-title">Who can reach you</h2>
            {allow === null ? (
              <p class="muted">Loading…</p>
            ) : (
              <Switch
                id="allow-orgs"
                label="Allow chats from people in organisations"
                description="When this is off, people at work or school accounts can't start new chats with you. They aren't told that you turned it off."
                checked={allow}
                onChange={(v) => void toggle(v)}
              />
            )}
          </div>
        )}
        <div class="panel">
          <h2 class="section-title">Blocked people</h2>
          {blocked === null ? (
            <p class="muted">Loading…</p>
          ) : blocked.length === 0 ? (
            <p class="muted">You haven't blocked anyone. You can block someone from a request or from a chat's People list.</p>
          ) : (
            <ul class="people-list">
              {blocked.map((u) => (
                <li key={u.id}>
                  <Avatar name={u.displayName} external={u.isExternal} size="sm" />
                  <div class="person">
                    <div>
                      <strong>{u.displayName}</strong> {u.isExternal && <ExternalBadge />}
                    </div>
                    {u.mail && <div class="muted small">{u.mail}</div>}
                    {identityLabel(u.userIdentityType, orgOf(props.s, u.tenantId)) && (
                      <div class="muted small">{identityLabel(u.userIdentityType, orgOf(props.s, u.tenantId))}</div>
                    )}
                  </div>
                  <button type="button" class="secondary small" onClick={() => void unblock(u)}>
                    Unblock
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <Password />
        <Sessions onSignOut={props.onSignOut} />
      </div>
    </section>
  );
}

/** Profile changes the name other people see. */
function Profile(props: { me: User }) {
  const [name, setName] = useState(props.me.displayName);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  async function save(e: Event) {
    e.preventDefault();
    setDone(null);
    const u = await run(() => patch<User>("/v1.0/me", { displayName: name.trim() }));
    if (u) {
      session.setMe(u);
      setName(u.displayName);
      setDone("Your name is saved. People see it in chats from now on.");
    }
  }
  return (
    <form class="panel stack small-gap" onSubmit={save} aria-labelledby="profile-title">
      <h2 id="profile-title" class="section-title">
        Your name
      </h2>
      <Field id="profile-name" label="Name people see" value={name} autoComplete="name" onInput={(e) => setName(e.currentTarget.value)} />
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
      <div class="row">
        <button type="submit" class="primary" disabled={busy || !name.trim() || name.trim() === props.me.displayName}>
          Save name
        </button>
      </div>
    </form>
  );
}

/** Password changes the password; other sessions end, this one stays. */
function Password() {
  const [cur, setCur] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, setError, run } = useAsync();
  async function change(e: Event) {
    e.preventDefault();
    setDone(null);
    if (next !== again) {
      setError("The new passwords don't match.");
      return;
    }
    const ok = await run(async () => {
      await post("/parley/v1/me/password", { currentPassword: cur, newPassword: next });
      return true;
    });
    if (ok) {
      setCur("");
      setNext("");
      setAgain("");
      setDone("Password changed. You stay signed in here; your other sessions were signed out.");
    }
  }
  return (
    <form class="panel stack small-gap" onSubmit={change} aria-labelledby="password-title">
      <h2 id="password-title" class="section-title">
        Password
      </h2>
      <Field id="pw-current" type="password" label="Current password" autoComplete="current-password" value={cur} onInput={(e) => setCur(e.currentTarget.value)} />
      <Field
        id="pw-new"
        type="password"
        label="New password"
        autoComplete="new-password"
        hint="At least 8 characters."
        value={next}
        onInput={(e) => setNext(e.currentTarget.value)}
      />
      <Field id="pw-again" type="password" label="New password again" autoComplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
      <div class="row">
        <button type="submit" class="primary" disabled={busy || !cur || !next || !again}>
          Change password
        </button>
      </div>
    </form>
  );
}

/** Sessions signs out everywhere else, or here. */
function Sessions(props: { onSignOut: () => void }) {
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  async function others() {
    setDone(null);
    const r = await run(() => post<{ signedOut: number }>("/parley/v1/me/signOutOtherSessions"));
    if (r) {
      setDone(
        r.signedOut === 0
          ? "You weren't signed in anywhere else."
          : `Signed out of ${r.signedOut} other ${r.signedOut === 1 ? "session" : "sessions"}.`,
      );
    }
  }
  return (
    <div class="panel stack small-gap">
      <h2 class="section-title">Sessions</h2>
      <p class="muted">Signed in on a shared or lost device? End every session but this one.</p>
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
      <div class="row">
        <button type="button" class="secondary" disabled={busy} onClick={() => void others()}>
          Sign out other sessions
        </button>
        <button type="button" class="secondary" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </div>
  );
}

/** Notifications asks the browser's permission for message notifications. */
function Notifications() {
  const supported = typeof Notification !== "undefined";
  const [perm, setPerm] = useState(supported ? Notification.permission : "denied");
  if (!supported) return null;
  return (
    <div class="panel stack small-gap">
      <h2 class="section-title">Notifications</h2>
      {perm === "granted" ? (
        <p class="muted" data-testid="notifications-on">
          Desktop notifications are on: new messages show while Parley's tab is in the background. The tab's title counts unread chats.
        </p>
      ) : perm === "denied" ? (
        <p class="muted">Your browser blocks notifications from Parley. Allow them in the browser's site settings to get them.</p>
      ) : (
        <>
          <p class="muted">Get a notification for new messages while Parley's tab is in the background.</p>
          <div class="row">
            <button type="button" class="secondary" onClick={() => void Notification.requestPermission().then(setPerm)}>
              Turn on notifications
            </button>
          </div>
        </>
      )}
    </div>
  );
}

const statuses: [string, string, string][] = [
  ["", "", "Automatic (from your activity)"],
  ["Available", "Available", "Available"],
  ["Busy", "Busy", "Busy"],
  ["DoNotDisturb", "DoNotDisturb", "Do not disturb"],
  ["BeRightBack", "BeRightBack", "Be right back"],
  ["Away", "Away", "Appear away"],
  ["Offline", "OffWork", "Appear offline"],
];

/** Status sets the presence others see (Graph's preferred presence), or lets activity decide. */
function Status() {
  const [cur, setCur] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  useEffect(() => {
    get<{ availability: string }>("/v1.0/me/presence").then((p) => setCur(p.availability), () => setCur(null));
  }, []);
  async function set(v: string) {
    setDone(null);
    const st = statuses.find((x) => x[0] === v)!;
    const ok = await run(async () => {
      if (!v) await post("/v1.0/me/presence/clearUserPreferredPresence", {});
      else await post("/v1.0/me/presence/setUserPreferredPresence", { availability: st[0], activity: st[1] });
      const p = await get<{ availability: string }>("/v1.0/me/presence");
      setCur(p.availability);
      return true;
    });
    if (ok) setDone(v ? `Your status is ${st[2].toLowerCase()} for the next 7 days, or until you change it.` : "Your status follows your activity again.");
  }
  if (cur === null) return null;
  return (
    <div class="panel stack small-gap">
      <h2 class="section-title">Status</h2>
      <div class="field">
        <label for="status-select">What people see</label>
        <select id="status-select" disabled={busy} onChange={(e) => void set(e.currentTarget.value)}>
          {statuses.map(([v, , label]) => (
            <option key={v} value={v} selected={v === "" ? false : v === cur}>
              {label}
            </option>
          ))}
        </select>
        <p class="hint">Shown to your organisation and to people you chat with; not to people whose request you haven't accepted.</p>
      </div>
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </div>
  );
}
