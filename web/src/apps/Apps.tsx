// Apps in conversations and the personal apps page (docs/rules.md §9): the
// Apps panel of a chat or of a team's channels (installed apps, add from
// the catalog, remove), app tabs in a sandboxed frame, message-extension
// search from a chat's composer, and the apps installed for the person. Every decision is the server's:
// the client offers what an install's `allowedActions` names and what the
// catalog lists, and shows the server's sentence when a call is refused.
import { useEffect, useRef, useState } from "preact/hooks";
import { type User, call, del, enc, errorText, get, post } from "../api";
import type { TeamsApp } from "../admin/Apps";
import { navigate } from "../router";
import { setPageTitle } from "../title";
import { ErrorBox, Link, Notice, useAsync } from "../ui";

export const CARD_TYPE = "application/vnd.microsoft.card.adaptive";

export interface AppTab {
  entityId: string;
  name: string;
  contentUrl: string;
}

export interface AppCommand {
  id: string;
  title: string;
  type: string;
}

/** CatalogApp is the catalog's teamsApp with Parley's tabs and commands. */
export type CatalogApp = TeamsApp & { tabs?: AppTab[]; composeExtensionCommands?: AppCommand[] };

/** Installed is Graph's teamsAppInstallation with Parley's allowedActions. */
export interface Installed {
  id: string;
  teamsApp: CatalogApp;
  isPinned?: boolean;
  /** What the caller may do with it here, as the server's decision answers. */
  allowedActions?: string[];
}

export const may = (i: Installed, action: string) => (i.allowedActions ?? []).includes(action);
export const botOf = (i: Installed) => i.teamsApp.appDefinitions[0]?.bot ?? null;

/** useInstalled loads a chat's installed apps (with a meeting token when given). */
export function useInstalled(chatId: string, token?: string) {
  return useInstalledAt(chatId ? `/v1.0/chats/${enc(chatId)}/installedApps` : "", token);
}

/** useTeamApps loads a team's installed apps (its channels share them). */
export function useTeamApps(teamId: string) {
  return useInstalledAt(teamId ? `/v1.0/teams/${enc(teamId)}/installedApps` : "");
}

function useInstalledAt(path: string, token?: string) {
  const [apps, setApps] = useState<Installed[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async () => {
    if (!path) return;
    try {
      const r = await call<{ value: Installed[] }>("GET", path, { token });
      setApps(r.value);
      setError(null);
    } catch (e) {
      setError(e);
      setApps([]);
    }
  };
  useEffect(() => {
    setApps(null);
    void load();
  }, [path, token]);
  return { apps, error, reload: load };
}

interface PanelProps {
  readOnly: boolean;
  apps: Installed[] | null;
  reload: () => Promise<void>;
  onOpenTab: (app: string, t: AppTab) => void;
}

/** ChatApps is a chat's Apps panel: installed apps, their tabs, add and remove. */
export function ChatApps(props: PanelProps & { chatId: string }) {
  return <AppsPanel {...props} base={`/v1.0/chats/${enc(props.chatId)}/installedApps`} where="chat" scopes={["groupChat", "meeting"]} />;
}

/**
 * TeamApps is a channel's Apps panel: the apps of its team (a team's apps
 * serve all its channels, as in Teams), their tabs, add and remove.
 */
export function TeamApps(props: PanelProps & { teamId: string }) {
  return <AppsPanel {...props} base={`/v1.0/teams/${enc(props.teamId)}/installedApps`} where="team" scopes={["team"]} />;
}

function AppsPanel(props: PanelProps & { base: string; where: string; scopes: string[] }) {
  const [catalog, setCatalog] = useState<CatalogApp[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  const { base, where } = props;
  useEffect(() => {
    // The catalog answers only to those who may browse it: anyone else gets
    // no add section (the server's refusal, not a rule of the client).
    get<{ value: CatalogApp[] }>("/v1.0/appCatalogs/teamsApps").then(
      (c) => setCatalog(c.value),
      () => setCatalog([]),
    );
  }, [base]);
  async function add(a: CatalogApp) {
    setDone(null);
    const ok = await run(async () => {
      await post(base, { "teamsApp@odata.bind": `${location.origin}/v1.0/appCatalogs/teamsApps/${a.id}` });
      await props.reload();
      return true;
    });
    if (ok) setDone(`${a.displayName} was added to this ${where}.`);
  }
  async function remove(i: Installed) {
    setDone(null);
    const ok = await run(async () => {
      await del(`${base}/${enc(i.id)}`);
      await props.reload();
      return true;
    });
    if (ok) setDone(`${i.teamsApp.displayName} was removed from this ${where}.`);
  }
  const installed = props.apps;
  const have = new Set((installed ?? []).map((i) => i.teamsApp.id));
  const addable = catalog.filter((a) => !have.has(a.id) && !a.isBlocked && a.scopes.some((s) => props.scopes.includes(s)));
  return (
    <aside class="people" id="apps-panel" aria-label={`Apps in this ${where}`}>
      <h2 class="section-title">Apps</h2>
      {installed === null ? (
        <p class="muted">Loading…</p>
      ) : installed.length === 0 ? (
        <p class="muted small">No apps in this {where} yet.</p>
      ) : (
        <ul class="people-list" data-testid="installed-apps">
          {installed.map((i) => (
            <li key={i.id} data-app={i.teamsApp.displayName}>
              <span class="avatar sm app-icon" aria-hidden="true">
                {i.teamsApp.displayName.slice(0, 1).toUpperCase()}
              </span>
              <div class="person">
                <strong>{i.teamsApp.displayName}</strong>
                {botOf(i) && may(i, "mention") && <div class="muted small">Bot: type @ to mention it</div>}
                {may(i, "tab") &&
                  (i.teamsApp.tabs ?? []).map((t) => (
                    <button
                      key={t.entityId}
                      type="button"
                      class="link-button small"
                      aria-label={`Open tab ${t.name || ""} of ${i.teamsApp.displayName}`.replace("  ", " ")}
                      onClick={() => props.onOpenTab(i.teamsApp.displayName, t)}
                    >
                      Open tab
                    </button>
                  ))}
              </div>
              {!props.readOnly && may(i, "remove") && (
                <button type="button" class="link-button small" disabled={busy} onClick={() => void remove(i)} aria-label={`Remove ${i.teamsApp.displayName}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!props.readOnly && addable.length > 0 && (
        <>
          <h3 class="sub-title">Add an app</h3>
          <ul class="people-list">
            {addable.map((a) => (
              <li key={a.id}>
                <div class="person">
                  <strong>{a.displayName}</strong>
                  {a.appDefinitions[0]?.description && <div class="muted small">{a.appDefinitions[0].description}</div>}
                </div>
                <button type="button" class="secondary small" disabled={busy} onClick={() => void add(a)} aria-label={`Add ${a.displayName}`}>
                  Add
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <ErrorBox error={error} />
      {done && <Notice kind="success">{done}</Notice>}
    </aside>
  );
}

/**
 * TabFrame shows an app's tab: its https URL in a frame sandboxed without
 * allow-same-origin (the page can run its scripts and forms but can reach
 * neither Parley's origin, its storage nor the token), sent no referrer.
 */
export function TabFrame(props: { app: string; tab: AppTab; onClose?: () => void; back?: string }) {
  const { app, tab } = props;
  const safe = /^https:\/\//i.test(tab.contentUrl);
  return (
    <section class="tab-view" aria-label={`${app}: ${tab.name || "tab"}`} data-testid="app-tab">
      <div class="tab-head">
        <strong>
          {app}
          {tab.name && tab.name !== app ? ` · ${tab.name}` : ""}
        </strong>
        <span class="muted small tab-url">{tab.contentUrl}</span>
        {props.onClose && (
          <button type="button" class="ghost small" onClick={props.onClose}>
            {props.back ?? "Back to the chat"}
          </button>
        )}
      </div>
      {safe ? (
        <iframe
          class="tab-frame"
          src={tab.contentUrl}
          title={`${app} tab`}
          sandbox="allow-scripts allow-forms"
          referrerpolicy="no-referrer"
          loading="lazy"
        />
      ) : (
        <p class="muted">This tab's address is not https, so it is not shown.</p>
      )}
    </section>
  );
}

interface ExtensionResult {
  contentType: string;
  content: unknown;
  preview?: { contentType: string; content: { title?: string; text?: string } };
}

/**
 * ExtensionButton is the composer's message-extension search: it lists the
 * commands of the chat's apps that the person may run, sends the query to
 * the server (which decides and asks the bot), and posts a chosen result
 * as a card. With a token it acts for an anonymous meeting session.
 */
export function ExtensionButton(props: { chatId: string; apps?: Installed[] | null; token?: string; disabled?: boolean }) {
  const own = useInstalled(props.apps === undefined ? props.chatId : "", props.token);
  const apps = props.apps === undefined ? own.apps : props.apps;
  const [open, setOpen] = useState(false);
  const [pick, setPick] = useState<{ app: Installed; cmd: AppCommand } | null>(null);
  const [q, setQ] = useState("");
  const [results, setResults] = useState<ExtensionResult[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const boxRef = useRef<HTMLDivElement>(null);
  const cmds = (apps ?? []).flatMap((app) => (may(app, "messageExtension") ? (app.teamsApp.composeExtensionCommands ?? []).filter((c) => c.type !== "action").map((cmd) => ({ app, cmd })) : []));
  useEffect(() => {
    setOpen(false);
    setPick(null);
  }, [props.chatId]);
  if (!cmds.length) return null;
  const close = () => {
    setOpen(false);
    setPick(null);
    setResults(null);
    setErr(null);
    setQ("");
  };
  async function search(e: Event) {
    e.preventDefault();
    if (!pick) return;
    setBusy(true);
    setErr(null);
    try {
      const r = await call<{ composeExtension?: { attachments?: ExtensionResult[] } }>(
        "POST",
        `/parley/v1/chats/${enc(props.chatId)}/apps/${enc(pick.app.teamsApp.id)}/composeExtensionQuery`,
        { token: props.token, body: { commandId: pick.cmd.id, parameters: [{ name: "query", value: q.trim() }] } },
      );
      setResults(r?.composeExtension?.attachments ?? []);
    } catch (x) {
      setResults(null);
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  }
  async function insert(r: ExtensionResult) {
    setBusy(true);
    setErr(null);
    try {
      await call("POST", `/v1.0/chats/${enc(props.chatId)}/messages`, {
        token: props.token,
        body: {
          body: { contentType: "html", content: "" },
          attachments: [{ id: "1", contentType: CARD_TYPE, content: typeof r.content === "string" ? r.content : JSON.stringify(r.content) }],
        },
      });
      close();
    } catch (x) {
      setErr(errorText(x));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="ext-wrap" ref={boxRef}>
      <button
        type="button"
        class="ghost attach"
        aria-label="Message extensions"
        title="Message extensions"
        aria-expanded={open}
        disabled={props.disabled}
        onClick={() => (open ? close() : setOpen(true))}
      >
        ⊞
      </button>
      {open && (
        <div
          class="ext-pop"
          role="dialog"
          aria-label="Message extensions"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation();
              close();
            }
          }}
        >
          {!pick ? (
            <ul class="ext-list">
              {cmds.map(({ app, cmd }) => (
                <li key={app.id + cmd.id}>
                  <button type="button" class="ghost small" onClick={() => setPick({ app, cmd })}>
                    {app.teamsApp.displayName}: {cmd.title}
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <>
              <form class="row" onSubmit={search}>
                <label for="ext-query" class="visually-hidden">
                  {`${pick.app.teamsApp.displayName}: ${pick.cmd.title}`}
                </label>
                <input id="ext-query" value={q} placeholder={pick.cmd.title} onInput={(e) => setQ(e.currentTarget.value)} ref={(el) => el?.focus()} />
                <button type="submit" class="secondary small" disabled={busy}>
                  Search
                </button>
              </form>
              {results && results.length === 0 && <p class="muted small">Nothing found.</p>}
              {results && results.length > 0 && (
                <ul class="ext-results" data-testid="extension-results">
                  {results.map((r, i) => {
                    const title = r.preview?.content?.title || `Result ${i + 1}`;
                    return (
                      <li key={i}>
                        <span>{title}</span>
                        <button type="button" class="secondary small" disabled={busy || r.contentType !== CARD_TYPE} onClick={() => void insert(r)} aria-label={`Send ${title}`}>
                          Send
                        </button>
                      </li>
                    );
                  })}
                </ul>
              )}
            </>
          )}
          {err && (
            <p class="send-failed" role="alert">
              {err}
            </p>
          )}
          <button type="button" class="ghost small" onClick={close}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}

/** PersonalApps is the person's apps page: installed for them (or by their setup policy), opened to their tab. */
export function PersonalApps(props: { me: User | null; appId: string | null }) {
  const me = props.me;
  const [apps, setApps] = useState<Installed[] | null>(null);
  const [catalog, setCatalog] = useState<CatalogApp[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, setError, run } = useAsync();
  const base = me ? `/v1.0/users/${enc(me.id)}/teamwork/installedApps` : "";
  const load = async () => {
    if (!base) return;
    const r = await get<{ value: Installed[] }>(base);
    setApps(r.value);
  };
  useEffect(() => {
    setPageTitle("Apps");
    load().catch(setError);
    get<{ value: CatalogApp[] }>("/v1.0/appCatalogs/teamsApps").then(
      (c) => setCatalog(c.value),
      () => setCatalog([]),
    );
  }, [me?.id]);
  const open = apps?.find((i) => i.teamsApp.id === props.appId) ?? null;
  const have = new Set((apps ?? []).map((i) => i.teamsApp.id));
  const addable = catalog.filter((a) => !have.has(a.id) && !a.isBlocked && a.scopes.includes("personal"));
  async function add(a: CatalogApp) {
    setDone(null);
    const ok = await run(async () => {
      await post(base, { "teamsApp@odata.bind": `${location.origin}/v1.0/appCatalogs/teamsApps/${a.id}` });
      await load();
      return true;
    });
    if (ok) setDone(`${a.displayName} was added to your apps.`);
  }
  return (
    <section class="main apps-page" aria-label="Your apps">
      <div class="apps-layout">
        <nav class="apps-list" aria-label="Your apps">
          <h1 class="section-title">Your apps</h1>
          {apps === null ? (
            <p class="muted">Loading…</p>
          ) : apps.length === 0 ? (
            <p class="muted small">No apps yet.</p>
          ) : (
            <ul data-testid="personal-apps">
              {apps.map((i) => (
                <li key={i.id}>
                  <Link href={`/apps/${enc(i.teamsApp.id)}`} aria-current={open?.id === i.id ? "page" : undefined}>
                    <span class="avatar sm app-icon" aria-hidden="true">
                      {i.teamsApp.displayName.slice(0, 1).toUpperCase()}
                    </span>{" "}
                    {i.teamsApp.displayName}
                  </Link>
                  {i.isPinned && <span class="muted small"> · pinned</span>}
                </li>
              ))}
            </ul>
          )}
          {addable.length > 0 && (
            <>
              <h2 class="sub-title">Add an app</h2>
              <ul>
                {addable.map((a) => (
                  <li key={a.id} class="row">
                    <span>{a.displayName}</span>
                    <button type="button" class="secondary small" disabled={busy} onClick={() => void add(a)} aria-label={`Add ${a.displayName} to your apps`}>
                      Add
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          <ErrorBox error={error} onDismiss={() => setError(null)} />
          {done && <Notice kind="success">{done}</Notice>}
        </nav>
        <div class="apps-main">
          {!open ? (
            <p class="empty muted">{props.appId && apps ? "This app is not among your apps." : "Pick an app."}</p>
          ) : (
            <PersonalApp i={open} />
          )}
        </div>
      </div>
    </section>
  );
}

function PersonalApp(props: { i: Installed }) {
  const { i } = props;
  const tabs = may(i, "tab") ? (i.teamsApp.tabs ?? []) : [];
  const [n, setN] = useState(0);
  useEffect(() => setN(0), [i.id]);
  const t = tabs[Math.min(n, tabs.length - 1)];
  return (
    <div class="stack personal-app">
      <header>
        <h2>{i.teamsApp.displayName}</h2>
        {i.teamsApp.appDefinitions[0]?.description && <p class="muted">{i.teamsApp.appDefinitions[0].description}</p>}
        {botOf(i) && <p class="muted small">This app has a bot: its messages to you arrive in your chats, and you can mention it where it is added.</p>}
      </header>
      {tabs.length > 1 && (
        <div class="row" role="group" aria-label="Tabs">
          {tabs.map((x, k) => (
            <button key={x.entityId} type="button" class={k === n ? "secondary small" : "ghost small"} aria-pressed={k === n} onClick={() => setN(k)}>
              {x.name || `Tab ${k + 1}`}
            </button>
          ))}
        </div>
      )}
      {t ? <TabFrame app={i.teamsApp.displayName} tab={t} /> : <p class="muted">This app has no personal tab.</p>}
      <p>
        <button type="button" class="link-button small" onClick={() => navigate("/")}>
          Back to your chats
        </button>
      </p>
    </div>
  );
}
