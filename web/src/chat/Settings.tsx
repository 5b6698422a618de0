// Personal settings (docs/rules.md §3): who may start chats with me, and the people
// I blocked.
import { useEffect, useState } from "preact/hooks";
import { type User, del, get, patch } from "../api";
import type { State } from "../session";
import { Avatar, ErrorBox, ExternalBadge, Link, Notice, Switch, identityLabel, useAsync } from "../ui";

export function Settings(props: { s: State; onSignOut: () => void }) {
  const me = props.s.me;
  const personal = me?.userType === "Personal";
  const [allow, setAllow] = useState<boolean | null>(null);
  const [blocked, setBlocked] = useState<User[] | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { error, run } = useAsync();

  useEffect(() => {
    document.title = "Settings · Parley";
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
              <div class="muted small">{personal ? "Personal account" : me.isAdmin ? "Work account · admin" : "Work account"}</div>
            </div>
          </div>
        )}
        <ErrorBox error={error} />
        {saved && <Notice kind="success">{saved}</Notice>}
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
                    {identityLabel(u.userIdentityType) && <div class="muted small">{identityLabel(u.userIdentityType)}</div>}
                  </div>
                  <button type="button" class="secondary small" onClick={() => void unblock(u)}>
                    Unblock
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div class="row">
          <button type="button" class="secondary" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </div>
    </section>
  );
}
