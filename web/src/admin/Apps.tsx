// The admin center's apps page (docs/rules.md §9): the tenant's app catalog
// (upload a Teams app package, block an app for everyone, delete it), bot
// registrations (the secret is shown once), and the app permission and
// setup policies with who has them.
import { useEffect, useState } from "preact/hooks";
import { ApiError, type User, del, enc, get, getToken, patch, post } from "../api";
import type { State } from "../session";
import { ErrorBox, Notice, Tag, useAsync } from "../ui";
import { UserField, UserName, Verdict, remember, resolveUser } from "./common";

export interface TeamsApp {
  id: string;
  externalId: string;
  displayName: string;
  appDefinitions: { version: string; description: string; bot: { id: string } | null }[];
  scopes: string[];
  isBlocked: boolean;
}

interface Bot {
  id: string;
  displayName: string;
  messagingEndpoint: string;
  secret?: string;
}

interface AppPolicy {
  name: string;
  mode?: string;
  appIds: string[];
  pinnedAppIds?: string[];
  userIds?: string[];
}

const scopeWords: Record<string, string> = { personal: "personal", groupChat: "group chats", team: "teams", meeting: "meetings" };

export function AppsAdmin(props: { s: State }) {
  const [apps, setApps] = useState<TeamsApp[] | null>(null);
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const { busy, error, setError, run } = useAsync();

  const load = async () => {
    const [a, b] = await Promise.all([
      get<{ value: TeamsApp[] }>("/v1.0/appCatalogs/teamsApps"),
      get<{ value: Bot[] }>("/parley/v1/admin/bots").catch(() => ({ value: [] as Bot[] })),
    ]);
    setApps(a.value);
    setBots(b.value);
  };
  useEffect(() => {
    load().catch(setError);
  }, []);

  async function upload(e: Event) {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("app-package") as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setMsg(null);
    const r = await run(async () => {
      const res = await fetch("/v1.0/appCatalogs/teamsApps", {
        method: "POST",
        headers: { Authorization: `Bearer ${getToken() ?? ""}`, "Content-Type": "application/zip", Accept: "application/json" },
        body: file,
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? "httpError", body?.error?.message ?? `The upload failed (${res.status}).`);
      return body as TeamsApp;
    });
    if (r) {
      input.value = "";
      setMsg(`${r.displayName} is in the catalog.`);
      await load();
    }
  }

  async function block(a: TeamsApp, v: boolean) {
    setMsg(null);
    const r = await run(() => patch<TeamsApp>(`/parley/v1/admin/teamsApps/${enc(a.id)}`, { isBlocked: v }));
    if (r) {
      setMsg(v ? `${a.displayName} is blocked for everyone.` : `${a.displayName} is allowed again.`);
      await load();
    }
  }

  async function remove(a: TeamsApp) {
    setMsg(null);
    const ok = await run(async () => {
      await del(`/v1.0/appCatalogs/teamsApps/${enc(a.id)}`);
      return true;
    });
    if (ok) {
      setMsg(`${a.displayName} was removed from the catalog.`);
      await load();
    }
  }

  return (
    <div class="stack">
      <header>
        <h1>Apps</h1>
        <p class="muted">
          Apps and bots your people can add to chats and meetings. Guests, people of other organisations and people without an account
          get what your Global policies allow.
        </p>
      </header>
      <div aria-live="polite">
        <ErrorBox error={error} onDismiss={() => setError(null)} />
        {msg && <Notice kind="success">{msg}</Notice>}
      </div>
      <section class="panel" aria-labelledby="catalog-title">
        <h2 id="catalog-title" class="section-title">
          Catalog
        </h2>
        {apps === null ? (
          <p class="muted">Loading…</p>
        ) : apps.length === 0 ? (
          <p class="muted">No apps yet. Upload a Teams app package below.</p>
        ) : (
          <ul class="people-list" data-testid="catalog">
            {apps.map((a) => (
              <li key={a.id} data-app={a.displayName}>
                <span class="avatar sm app-icon" aria-hidden="true">
                  {a.displayName.slice(0, 1).toUpperCase()}
                </span>
                <div class="person">
                  <div>
                    <strong>{a.displayName}</strong> <span class="muted small">{a.appDefinitions[0]?.version}</span>{" "}
                    {a.appDefinitions[0]?.bot && <Tag>Bot</Tag>} {a.isBlocked && <Tag kind="readonly">Blocked</Tag>}
                  </div>
                  {a.appDefinitions[0]?.description && <div class="muted small">{a.appDefinitions[0].description}</div>}
                  <div class="muted small">For {a.scopes.map((s) => scopeWords[s] ?? s).join(", ") || "no scope"}</div>
                </div>
                <div class="row">
                  <button type="button" class="secondary small" disabled={busy} onClick={() => void block(a, !a.isBlocked)}>
                    {a.isBlocked ? "Allow" : "Block"}
                  </button>
                  <button type="button" class="ghost small danger-text" disabled={busy} onClick={() => void remove(a)} aria-label={`Remove ${a.displayName}`}>
                    Remove
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
        <form class="stack small-gap" onSubmit={upload}>
          <div class="field">
            <label for="app-package">Upload an app package (.zip with manifest.json and icons)</label>
            <input id="app-package" name="app-package" type="file" accept=".zip,application/zip" />
          </div>
          <div class="row">
            <button type="submit" class="primary" disabled={busy}>
              Upload
            </button>
          </div>
        </form>
      </section>
      <Bots bots={bots} onChanged={load} />
      <AppPolicies s={props.s} kind="permission" apps={apps ?? []} />
      <AppPolicies s={props.s} kind="setup" apps={apps ?? []} />
    </div>
  );
}

function Bots(props: { bots: Bot[] | null; onChanged: () => Promise<void> }) {
  const [name, setName] = useState("");
  const [endpoint, setEndpoint] = useState("");
  const [created, setCreated] = useState<Bot | null>(null);
  const { busy, error, run } = useAsync();
  async function register(e: Event) {
    e.preventDefault();
    const b = await run(() => post<Bot>("/parley/v1/admin/bots", { displayName: name.trim(), messagingEndpoint: endpoint.trim() }));
    if (b) {
      setCreated(b);
      setName("");
      setEndpoint("");
      await props.onChanged();
    }
  }
  return (
    <section class="panel" aria-labelledby="bots-title">
      <h2 id="bots-title" class="section-title">
        Bots
      </h2>
      {props.bots && props.bots.length > 0 && (
        <ul class="people-list">
          {props.bots.map((b) => (
            <li key={b.id}>
              <div class="person">
                <strong>{b.displayName}</strong>
                <div class="muted small">{b.messagingEndpoint}</div>
                <div class="muted small">App id {b.id}</div>
              </div>
            </li>
          ))}
        </ul>
      )}
      {created?.secret && (
        <Notice kind="success">
          {created.displayName} is registered. Its app id is <code>{created.id}</code> and its secret is <code>{created.secret}</code>. Copy
          the secret now: it is not shown again.
        </Notice>
      )}
      <form class="stack small-gap" onSubmit={register}>
        <div class="grid-2">
          <div class="field">
            <label for="bot-name">Bot name</label>
            <input id="bot-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="bot-endpoint">Messaging endpoint</label>
            <input id="bot-endpoint" value={endpoint} placeholder="https://bot.example.com/api/messages" onInput={(e) => setEndpoint(e.currentTarget.value)} />
          </div>
        </div>
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="secondary" disabled={busy || !name.trim() || !endpoint.trim()}>
            Register bot
          </button>
        </div>
      </form>
    </section>
  );
}

const modeWords: Record<string, string> = {
  allowAll: "All apps allowed",
  allowListed: "Only the listed apps",
  blockListed: "All apps except the listed ones",
};

function AppPolicies(props: { s: State; kind: "permission" | "setup"; apps: TeamsApp[] }) {
  const base = props.kind === "permission" ? "/parley/v1/admin/appPermissionPolicies" : "/parley/v1/admin/appSetupPolicies";
  const [list, setList] = useState<AppPolicy[] | null>(null);
  const [who, setWho] = useState<Record<string, string>>({});
  const [msg, setMsg] = useState<string | null>(null);
  const { busy, error, setError, run } = useAsync();
  const appName = (id: string) => props.apps.find((a) => a.id === id || a.externalId === id)?.displayName ?? "an app no longer in the catalog";
  const load = () => get<{ value: AppPolicy[] }>(base).then((r) => setList(r.value), setError);
  useEffect(() => void load(), [base]);

  async function grant(p: AppPolicy, e: Event) {
    e.preventDefault();
    setMsg(null);
    const u = await run(async () => {
      const x: User = await resolveUser(props.s, who[p.name] ?? "");
      remember(x);
      await post(`${base}/${enc(p.name)}/grant`, { userIds: [x.id] });
      return x;
    });
    if (u) {
      setWho({ ...who, [p.name]: "" });
      setMsg(`${u.displayName} now has ${p.name}.`);
      await load();
    }
  }

  const title = props.kind === "permission" ? "App permission policies" : "App setup policies";
  return (
    <section class="panel" aria-labelledby={`${props.kind}-policies-title`}>
      <h2 id={`${props.kind}-policies-title`} class="section-title">
        {title}
      </h2>
      <p class="muted small">
        {props.kind === "permission"
          ? "Which apps people may use. Global applies to everyone without another policy, and always to guests and people from outside."
          : "Which apps are installed and pinned for people. Guests always get Global; to keep a bot from guests, give your own people a custom setup policy with it."}
      </p>
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      {msg && <Notice kind="success">{msg}</Notice>}
      {list === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <ul class="people-list" data-testid={`${props.kind}-policies`}>
          {list.map((p) => (
            <li key={p.name} class="app-policy">
              <div class="person">
                <div>
                  <strong>{p.name}</strong> {p.name === "Global" && <Tag>Org-wide default</Tag>}
                </div>
                {p.mode && <div class="small">{modeWords[p.mode] ?? p.mode}</div>}
                {p.appIds.length > 0 && <div class="muted small">Apps: {p.appIds.map(appName).join(", ")}</div>}
                {p.pinnedAppIds && p.pinnedAppIds.length > 0 && <div class="muted small">Pinned: {p.pinnedAppIds.map(appName).join(", ")}</div>}
                {p.userIds && p.userIds.length > 0 && (
                  <div class="muted small">
                    Given to{" "}
                    {p.userIds.map((id, i) => (
                      <span key={id}>
                        {i > 0 && ", "}
                        <UserName id={id} plain />
                      </span>
                    ))}
                  </div>
                )}
                {p.name !== "Global" && (
                  <form class="grant" onSubmit={(e) => void grant(p, e)}>
                    <UserField
                      id={`${props.kind}-${p.name}-grant`}
                      label={`Give ${p.name} to`}
                      s={props.s}
                      value={who[p.name] ?? ""}
                      onInput={(v) => setWho({ ...who, [p.name]: v })}
                    />
                    <button type="submit" class="secondary" disabled={busy || !(who[p.name] ?? "").trim()}>
                      Give policy
                    </button>
                  </form>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      <NewAppPolicy
        kind={props.kind}
        base={base}
        apps={props.apps}
        onCreated={(name) => {
          setMsg(`Policy ${name} created. Give it to people above.`);
          void load();
        }}
      />
    </section>
  );
}

/** NewAppPolicy creates a permission policy (a mode and its apps) or a setup policy (apps installed, some pinned). */
function NewAppPolicy(props: { kind: "permission" | "setup"; base: string; apps: TeamsApp[]; onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [mode, setMode] = useState("blockListed");
  const [chosen, setChosen] = useState<string[]>([]);
  const [pinned, setPinned] = useState<string[]>([]);
  const { busy, error, run } = useAsync();
  const id = `new-${props.kind}`;
  async function create(e: Event) {
    e.preventDefault();
    const body: Record<string, unknown> = { name: name.trim(), appIds: chosen };
    if (props.kind === "permission") body.mode = mode;
    else body.pinnedAppIds = pinned.filter((x) => chosen.includes(x));
    const r = await run(() => post<AppPolicy>(props.base, body));
    if (r) {
      setName("");
      setChosen([]);
      setPinned([]);
      props.onCreated(r.name);
    }
  }
  const toggle = (l: string[], v: string) => (l.includes(v) ? l.filter((x) => x !== v) : [...l, v]);
  return (
    <form class="stack small-gap new-app-policy" onSubmit={create}>
      <h3 class="sub-title">New {props.kind} policy</h3>
      <div class="field">
        <label for={`${id}-name`}>Name</label>
        <input id={`${id}-name`} value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </div>
      {props.kind === "permission" && (
        <div class="field">
          <label for={`${id}-mode`}>Which apps</label>
          <select id={`${id}-mode`} value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
            {Object.entries(modeWords).map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
      )}
      {props.apps.length > 0 && (props.kind === "setup" || mode !== "allowAll") && (
        <fieldset class="checks-list">
          <legend>{props.kind === "setup" ? "Apps installed for them" : mode === "allowListed" ? "Allowed apps" : "Blocked apps"}</legend>
          {props.apps.map((ap) => (
            <div key={ap.id} class="row">
              <label>
                <input type="checkbox" checked={chosen.includes(ap.id)} onChange={() => setChosen(toggle(chosen, ap.id))} /> {ap.displayName}
              </label>
              {props.kind === "setup" && chosen.includes(ap.id) && (
                <label>
                  <input type="checkbox" checked={pinned.includes(ap.id)} onChange={() => setPinned(toggle(pinned, ap.id))} /> pinned
                </label>
              )}
            </div>
          ))}
        </fieldset>
      )}
      <ErrorBox error={error} />
      <div class="row">
        <button type="submit" class="secondary" disabled={busy || !name.trim()}>
          Create policy
        </button>
      </div>
    </form>
  );
}

// ---- Explain, apps mode (docs/rules.md §9) ----

interface AppExplanation {
  allowed: boolean;
  who: string;
  action: string;
  context: string;
  message?: string;
  teamId?: string;
  channelId?: string;
  teamRole?: string;
  checks: { rule: string; passed: boolean; source: string; policy?: string }[];
}

const appRuleText: Record<string, string> = {
  "context.presence": "This kind of person can be in this conversation",
  "role.action": "This kind of person may do this with apps here",
  "app.scope": "The app's manifest declares this place",
  "tenant.blockedApps": "The app is not blocked for the whole organisation",
  "policy.appPermission": "The app permission policy allows the app",
  "meeting.anonymousUsersCanInteractWithApps": "People without an account can use apps in meetings",
  "app.installed": "The app is installed here, or is the person's own where that counts",
};

function appSourceText(c: AppExplanation["checks"][number]): string {
  switch (c.source) {
    case "own app permission policy":
      return c.policy ? `Their policy ${c.policy}` : "Their policy";
    case "host's Global app permission policy":
      return "Your organisation's Global policy";
  }
  const words: Record<string, string> = {
    "account kind": "Account type",
    "app manifest": "App manifest",
    "tenant app setting": "Organisation setting",
    "meeting setting": "Meeting setting",
    "installed apps": "Installed apps",
    "policy not loaded": "The policy could not be read",
  };
  return words[c.source] ?? "";
}

/** appActions: each action's value, its label in the form, and the verdict's words (APP for the app's name). */
const appActions: [string, string, string][] = [
  ["use", "Use it (chat with its bot)", "use APP"],
  ["mention", "@mention its bot", "@mention APP's bot"],
  ["card", "Act on its cards", "act on APP's cards"],
  ["tab", "Open its tab", "open APP's tab"],
  ["messageExtension", "Run its message extension", "run APP's message extension"],
  ["add", "Add it", "add APP"],
  ["update", "Update it", "update APP"],
  ["remove", "Remove it", "remove APP"],
  ["deepLink", "Install it from a link", "install APP from a link"],
  ["browse", "See it in the catalog", "see APP in the catalog"],
];

const whoText: Record<string, string> = {
  hostUser: "a person of your organisation",
  guest: "a guest",
  external: "a person of another organisation",
  personal: "a personal account",
  anonymous: "someone without an account",
};

const contextText: Record<string, string> = {
  personal: "their personal apps",
  oneOnOne: "a 1:1 chat",
  group: "a group chat",
  channel: "a team's channel",
  meeting: "a meeting chat",
};

/**
 * AppExplain is explain's apps mode (GET /parley/v1/admin/explain with
 * appId and conversationId): a person, an app of the catalog, a
 * conversation (a chat, team, channel or thread id; none for the person's
 * personal apps) and an action; the server's decision with its reasons.
 */
export function AppExplain(props: { s: State }) {
  const [who, setWho] = useState("");
  const [apps, setApps] = useState<TeamsApp[]>([]);
  const [appId, setAppId] = useState("");
  const [conv, setConv] = useState("");
  const [action, setAction] = useState("use");
  const [res, setRes] = useState<{ u: User; app: string; action: string; ex: AppExplanation } | null>(null);
  const { busy, error, setError, run } = useAsync();
  useEffect(() => {
    get<{ value: TeamsApp[] }>("/v1.0/appCatalogs/teamsApps").then((r) => {
      setApps(r.value);
      setAppId((cur) => cur || (r.value[0]?.id ?? ""));
    }, setError);
  }, []);

  async function ask(e: Event) {
    e.preventDefault();
    setRes(null);
    const r = await run(async () => {
      const u = await resolveUser(props.s, who);
      const q = new URLSearchParams({ userId: u.id, appId, action });
      if (conv.trim()) q.set("conversationId", conv.trim());
      const ex = await get<AppExplanation>(`/parley/v1/admin/explain?${q}`);
      remember(u);
      return { u, app: apps.find((a) => a.id === appId)?.displayName ?? "the app", action, ex };
    });
    if (r) setRes(r);
  }
  const doing = (a: string, app: string) => (appActions.find(([v]) => v === a)?.[2] ?? a).replace("APP", app);
  return (
    <>
      <form class="panel stack" onSubmit={ask}>
        <div class="grid-2">
          <UserField id="explain-app-user" label="Person" s={props.s} value={who} onInput={setWho} hint="The sign-in address of someone in your organisation (a guest included)." />
          <div class="field">
            <label for="explain-app">App</label>
            <select id="explain-app" value={appId} onChange={(e) => setAppId(e.currentTarget.value)}>
              {apps.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.displayName}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="explain-conversation">Conversation</label>
            <input
              id="explain-conversation"
              value={conv}
              spellcheck={false}
              autoComplete="off"
              placeholder="19:…@thread.v2"
              aria-describedby="explain-conversation-hint"
              onInput={(e) => setConv(e.currentTarget.value)}
            />
            <p class="hint" id="explain-conversation-hint">
              The id of a chat, a team, a channel or a channel's thread (as in the address of a chat or channel); empty for their personal apps.
            </p>
          </div>
          <div class="field">
            <label for="explain-action">What they want to do</label>
            <select id="explain-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
              {appActions.map(([v, label]) => (
                <option key={v} value={v}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !who.trim() || !appId}>
            {busy ? "Checking…" : "Explain"}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {res && (
        <Verdict
          allowed={res.ex.allowed}
          title={`${res.u.displayName} ${res.ex.allowed ? "can" : "can't"} ${doing(res.action, res.app)} here`}
          testId="explain-app-result"
          checks={res.ex.checks.map((c) => ({
            pass: c.passed,
            text: appRuleText[c.rule] ?? (c.passed ? "Another rule allows it" : "Another rule refuses it"),
            source: appSourceText(c),
          }))}
        >
          <p class="muted">
            As {whoText[res.ex.who] ?? "someone"} in {contextText[res.ex.context] ?? "this conversation"}
            {res.ex.teamRole && `, the team's ${res.ex.teamRole}`}.
          </p>
          {!res.ex.allowed && res.ex.message && <p data-testid="explain-app-message">{res.ex.message.charAt(0).toUpperCase() + res.ex.message.slice(1)}.</p>}
        </Verdict>
      )}
    </>
  );
}
