// Apps in conversations and the personal apps page (docs/rules.md §9): the
// Apps panel of a chat or of a team's channels (installed apps, add from
// the catalog, remove), app tabs in a sandboxed frame, message-extension
// search from a chat's composer, and the apps installed for the person. Every decision is the server's:
// the client offers what an install's `allowedActions` names and what the
// catalog lists, and shows the server's sentence when a call is refused.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Message, type User, call, del, enc, errorText, get, post } from "../api";
import type { TeamsApp } from "../admin/Apps";
import type { EventFrame } from "../events";
import { AdaptiveCardView, type CardAction } from "../card";
import { navigate } from "../router";
import { session } from "../session";
import { setPageTitle } from "../title";
import { type Picked, composeBody } from "../richtext";
import { ErrorBox, Link, MentionList, Notice, atQuery, useAsync } from "../ui";

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

/**
 * useInstalled loads a chat's installed apps (with a meeting token when
 * given) and loads them again when an installedAppsChanged event names the
 * chat (an anonymous page passes its own events to reload).
 */
export function useInstalled(chatId: string, token?: string) {
  return useInstalledAt(chatId ? `/v1.0/chats/${enc(chatId)}/installedApps` : "", (e) => e.chatId === chatId, token);
}

/** useTeamApps loads a team's installed apps (its channels share them), live like useInstalled. */
export function useTeamApps(teamId: string) {
  return useInstalledAt(teamId ? `/v1.0/teams/${enc(teamId)}/installedApps` : "", (e) => e.teamId === teamId);
}

function useInstalledAt(path: string, mine: (e: EventFrame) => boolean, token?: string) {
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
    if (!path || token) return;
    // An app added, removed or changed here (by anyone, or a policy):
    // the list, and what the server now allows, are read again.
    return session.onInstalledAppsChanged((e) => {
      if (mine(e)) void load();
    });
  }, [path, token]);
  return { apps, error, reload: load };
}

/**
 * mine holds the person's own apps (GET /v1.0/users/{id}/teamwork/installedApps,
 * their setup policy's included), read once per page load for the ⊞ button
 * and replaced whenever My apps reads them.
 */
let mine: { userId: string; apps: Promise<Installed[]> } | null = null;

function personalApps(userId: string): Promise<Installed[]> {
  if (mine?.userId !== userId) {
    const apps = get<{ value: Installed[] }>(`/v1.0/users/${enc(userId)}/teamwork/installedApps`).then((r) => r.value);
    mine = { userId, apps };
    apps.catch(() => {
      if (mine?.apps === apps) mine = null; // asked again next time
    });
  }
  return mine.apps;
}

/** usePersonalApps gives the person's own apps while on, else none. */
function usePersonalApps(on: boolean): Installed[] {
  const me = session.state.me;
  const [apps, setApps] = useState<Installed[]>([]);
  useEffect(() => {
    setApps([]);
    if (!on || !me) return;
    let live = true;
    personalApps(me.id).then(
      (a) => live && setApps(a),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [on, me?.id]);
  return apps;
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

/** ExtensionAnswer is a bot's answer to a message extension: results, or a task module (Teams' shapes). */
interface ExtensionAnswer {
  composeExtension?: { type?: string; text?: string; attachments?: ExtensionResult[] };
  task?: { type?: string; value?: unknown };
}

/** Place is where a message extension acts: a chat, or a team's channel. */
export interface Place {
  /** key tells conversations apart: the popup closes when it changes. */
  key: string;
  /** apps is the base of the place's …/apps/{appId}/… routes. */
  apps: string;
  /** messages is where a chosen card is posted. */
  messages: string;
}

export const chatPlace = (chatId: string): Place => ({
  key: chatId,
  apps: `/parley/v1/chats/${enc(chatId)}`,
  messages: `/v1.0/chats/${enc(chatId)}/messages`,
});

export const channelPlace = (teamId: string, channelId: string): Place => ({
  key: `${teamId}/${channelId}`,
  apps: `/parley/v1/teams/${enc(teamId)}/channels/${enc(channelId)}`,
  messages: `/v1.0/teams/${enc(teamId)}/channels/${enc(channelId)}/messages`,
});

/** cardText is a card as JSON text, from an attachment ({contentType, content}) or the card itself. */
function cardText(c: unknown): string {
  const inner = c && typeof c === "object" && "content" in c ? (c as { content: unknown }).content : c;
  return typeof inner === "string" ? inner : JSON.stringify(inner ?? {});
}

/** resultTitle names a result: its preview's title, else the card's first text, else its place. */
function resultTitle(r: ExtensionResult, i: number): string {
  if (r.preview?.content?.title) return r.preview.content.title;
  try {
    const c = (typeof r.content === "string" ? JSON.parse(r.content) : r.content) as { body?: { text?: string }[] };
    const t = c?.body?.find((x) => typeof x?.text === "string")?.text;
    if (t) return t.length > 60 ? `${t.slice(0, 57)}…` : t;
  } catch {
    // not JSON: named by its place
  }
  return `Result ${i + 1}`;
}

/** ViaApp says which app's message extension made a message ("via Polls"), as Teams does. */
export function ViaApp(props: { m: Message }) {
  const v = props.m.viaApp;
  if (!v?.displayName) return null;
  return (
    <span class="via muted small" data-testid="via-app">
      via {v.displayName}
    </span>
  );
}

/**
 * ExtensionButton is the composer's message extensions: it lists the
 * commands of the place's apps that the person may run (those with
 * messageExtension). A search command sends the query to the server, which
 * decides and asks the bot; an action command asks the bot for its task
 * (fetchTask) and shows its Adaptive Card, whose submit goes back as
 * submitAction. A chosen result is posted as a card that carries the app
 * (viaAppId). With a token it acts for an anonymous meeting session.
 */
export function ExtensionButton(props: {
  place: Place;
  apps: Installed[] | null;
  /**
   * personal offers the person's own apps too, where the server accepts
   * them: a conversation their own organisation hosts (a bot's 1:1 chat
   * included). The server still decides each call.
   */
  personal?: boolean;
  /** label names the button and its popup where a page has several (a channel's reply boxes). */
  label?: string;
  token?: string;
  disabled?: boolean;
  onSent?: (m: Message) => void;
}) {
  const { place } = props;
  const own = usePersonalApps(!!props.personal && !props.token);
  const [open, setOpen] = useState(false);
  const [pick, setPick] = useState<{ app: Installed; cmd: AppCommand } | null>(null);
  const [q, setQ] = useState("");
  const [results, setResults] = useState<ExtensionResult[] | null>(null);
  const [task, setTask] = useState<{ title: string; card: string } | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The place's installs first: an app both there and personal is the place's.
  const here = props.apps ?? [];
  const apps = [...here, ...own.filter((p) => !here.some((a) => a.teamsApp.id === p.teamsApp.id))];
  const cmds = apps.flatMap((app) =>
    may(app, "messageExtension") ? (app.teamsApp.composeExtensionCommands ?? []).map((cmd) => ({ app, cmd })) : [],
  );
  const reset = () => {
    setPick(null);
    setResults(null);
    setTask(null);
    setSaid(null);
    setErr(null);
    setQ("");
  };
  const close = () => {
    setOpen(false);
    reset();
  };
  useEffect(close, [place.key]);
  if (!cmds.length) return null;

  const route = (app: Installed, what: string) => `${place.apps}/apps/${enc(app.teamsApp.id)}/${what}`;
  async function ask<T>(f: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setErr(null);
    try {
      return await f();
    } catch (x) {
      setErr(errorText(x));
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  /** show puts a bot's answer on screen: a task's card or text, or results to send. */
  function show(r: ExtensionAnswer | null | undefined) {
    setTask(null);
    setSaid(null);
    setResults(null);
    const t = r?.task;
    if (t?.type === "continue") {
      const v = (t.value ?? {}) as { card?: unknown; title?: string };
      setTask({ title: v.title ?? "", card: cardText(v.card) });
    } else if (t?.type === "message") {
      setSaid(typeof t.value === "string" ? t.value : "Done.");
    } else if (r?.composeExtension) {
      if (r.composeExtension.type === "message") setSaid(r.composeExtension.text ?? "Done.");
      else setResults(r.composeExtension.attachments ?? []);
    } else {
      setSaid("Done.");
    }
  }
  async function choose(app: Installed, cmd: AppCommand) {
    reset();
    setPick({ app, cmd });
    if (cmd.type !== "action") return;
    const r = await ask(() =>
      call<ExtensionAnswer>("POST", route(app, "composeExtensionAction"), { token: props.token, body: { commandId: cmd.id, phase: "fetchTask" } }),
    );
    if (r !== undefined) show(r);
  }
  async function search(e: Event) {
    e.preventDefault();
    if (!pick) return;
    const r = await ask(() =>
      call<ExtensionAnswer>("POST", route(pick.app, "composeExtensionQuery"), {
        token: props.token,
        body: { commandId: pick.cmd.id, parameters: [{ name: "query", value: q.trim() }] },
      }),
    );
    if (r !== undefined) setResults(r?.composeExtension?.attachments ?? []);
    else setResults(null);
  }
  async function submit(a: CardAction) {
    if (!pick) return;
    // The task card's data (its inputs included) goes back to the bot.
    const r = await call<ExtensionAnswer>("POST", route(pick.app, "composeExtensionAction"), {
      token: props.token,
      body: { commandId: pick.cmd.id, phase: "submitAction", data: a.data },
    });
    show(r);
  }
  async function insert(r: ExtensionResult) {
    if (!pick) return;
    const app = pick.app;
    const m = await ask(() =>
      call<Message>("POST", place.messages, {
        token: props.token,
        body: {
          body: { contentType: "html", content: "" },
          attachments: [{ id: "1", contentType: CARD_TYPE, content: typeof r.content === "string" ? r.content : JSON.stringify(r.content) }],
          viaAppId: app.teamsApp.id,
        },
      }),
    );
    if (m !== undefined) {
      close();
      if (m) props.onSent?.(m);
    }
  }
  const label = pick ? `${pick.app.teamsApp.displayName}: ${pick.cmd.title}` : "";
  const name = props.label ?? "Message extensions";
  return (
    <div class="ext-wrap">
      <button
        type="button"
        class="ghost attach"
        aria-label={name}
        title={name}
        aria-expanded={open}
        disabled={props.disabled}
        onClick={() => (open ? close() : setOpen(true))}
      >
        ⊞
      </button>
      {open && (
        <div
          class={`ext-pop${task ? " ext-task" : ""}`}
          role="dialog"
          aria-label={name}
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
                  <button type="button" class="ghost small" onClick={() => void choose(app, cmd)}>
                    {app.teamsApp.displayName}: {cmd.title}
                  </button>
                </li>
              ))}
            </ul>
          ) : pick.cmd.type === "action" ? (
            <>
              <h3 class="sub-title">{task?.title || label}</h3>
              {busy && !task && <p class="muted small">Asking {pick.app.teamsApp.displayName}…</p>}
              {task && (
                <div class="ext-card" data-testid="extension-task">
                  <AdaptiveCardView key={task.card} json={task.card} onAction={submit} />
                </div>
              )}
            </>
          ) : (
            <form class="row" onSubmit={search}>
              <label for="ext-query" class="visually-hidden">
                {label}
              </label>
              <input id="ext-query" value={q} placeholder={pick.cmd.title} onInput={(e) => setQ(e.currentTarget.value)} ref={(el) => el?.focus()} />
              <button type="submit" class="secondary small" disabled={busy}>
                Search
              </button>
            </form>
          )}
          {said && (
            <p class="ext-said" role="status" data-testid="extension-message">
              {said}
            </p>
          )}
          {results && results.length === 0 && <p class="muted small">Nothing found.</p>}
          {results && results.length > 0 && (
            <ul class="ext-results" data-testid="extension-results">
              {results.map((r, i) => {
                const title = resultTitle(r, i);
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
          {err && (
            <p class="send-failed" role="alert">
              {err}
            </p>
          )}
          <div class="row">
            {pick && (
              <button type="button" class="ghost small" onClick={reset}>
                Back
              </button>
            )}
            <button type="button" class="ghost small" onClick={close}>
              Close
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

/**
 * useBotMentions is the "@" of a box that mentions bots only (a channel's
 * post and reply boxes, the join page's meeting chat): it offers the bots
 * of the place's apps that the server lets this person mention; a picked bot is written
 * <at>Name</at> (as the chat composer writes it: bots are not members, so no
 * mentions entry names them), which is what the server looks for to hand
 * the message to that bot.
 */
export function useBotMentions(listId: string, apps: Installed[] | null, text: string, setText: (t: string) => void) {
  const [picked, setPicked] = useState<Picked[]>([]);
  const [query, setQuery] = useState<{ start: number; q: string } | null>(null);
  const [active, setActive] = useState(0);
  const el = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const bots = useMemo(() => {
    if (!query) return [];
    const q = query.q.toLowerCase();
    return (apps ?? []).filter((i) => botOf(i) && may(i, "mention") && i.teamsApp.displayName.toLowerCase().includes(q)).slice(0, 6);
  }, [query, apps]);
  const listed = query !== null && bots.length > 0;

  function onInput(value: string, caret: number) {
    setText(value);
    const q = atQuery(value, caret);
    setQuery(q);
    if (q) setActive(0);
  }

  function pick(i: Installed) {
    if (!query) return;
    const box = el.current;
    const caret = box?.selectionStart ?? text.length;
    const name = i.teamsApp.displayName;
    setText(`${text.slice(0, query.start)}@${name} ${text.slice(caret)}`);
    const entry: Picked = { name, userId: `bot:${botOf(i)!.id}`, bot: true };
    setPicked((p) => (p.some((x) => x.userId === entry.userId) ? p : [...p, entry]));
    const pos = query.start + name.length + 2;
    setQuery(null);
    requestAnimationFrame(() => {
      if (!box) return;
      box.focus();
      box.setSelectionRange(pos, pos);
    });
  }

  /** onKeyDown moves through and picks from the list; true when it used the key. */
  function onKeyDown(e: KeyboardEvent): boolean {
    if (!listed) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setActive((active + (e.key === "ArrowDown" ? 1 : bots.length - 1)) % bots.length);
      return true;
    }
    if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      pick(bots[active]);
      return true;
    }
    if (e.key === "Escape") {
      setQuery(null);
      return true;
    }
    return false;
  }

  const list = listed ? (
    <MentionList
      id={listId}
      label="Bots to mention"
      options={bots.map((i) => ({ key: i.id, name: i.teamsApp.displayName, bot: true }))}
      active={active}
      onPick={(k) => pick(bots[k])}
    />
  ) : null;
  const aria = {
    "aria-controls": listed ? listId : undefined,
    "aria-autocomplete": "list" as const,
    "aria-activedescendant": listed ? `${listId}-${active}` : undefined,
  };
  return {
    el,
    list,
    aria,
    onInput,
    onKeyDown,
    body: (t: string) => composeBody(t, picked).body,
    reset: () => {
      setPicked([]);
      setQuery(null);
    },
  };
}

/** hasPersonalBot says whether an app's bot can chat 1:1 (a bot, in personal scope); the server decides the rest. */
const hasPersonalBot = (i: Installed) => !!botOf(i) && (i.teamsApp.scopes ?? []).includes("personal");

/**
 * useBotChat opens the 1:1 chat with an app's bot (POST
 * /parley/v1/me/apps/{appId}/chat, made on first use) and goes to it.
 */
function useBotChat() {
  const { busy, error, setError, run } = useAsync();
  async function open(i: Installed) {
    const r = await run(async () => {
      const { chatId } = await post<{ chatId: string }>(`/parley/v1/me/apps/${enc(i.teamsApp.id)}/chat`);
      await session.loadChat(chatId).catch(() => undefined);
      return chatId;
    });
    if (r) navigate(`/chats/${enc(r)}`);
  }
  return { busy, error, setError, open };
}

/** PersonalApps is the person's apps page: installed for them (or by their setup policy), opened to their tab. */
export function PersonalApps(props: { me: User | null; appId: string | null }) {
  const me = props.me;
  const [apps, setApps] = useState<Installed[] | null>(null);
  const [catalog, setCatalog] = useState<CatalogApp[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, setError, run } = useAsync();
  const chat = useBotChat();
  const base = me ? `/v1.0/users/${enc(me.id)}/teamwork/installedApps` : "";
  const load = async () => {
    if (!base) return;
    const r = await get<{ value: Installed[] }>(base);
    setApps(r.value);
    if (me) mine = { userId: me.id, apps: Promise.resolve(r.value) };
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
                  {hasPersonalBot(i) && (
                    <button type="button" class="link-button small" disabled={chat.busy} onClick={() => void chat.open(i)} aria-label={`Chat with ${i.teamsApp.displayName}`}>
                      Chat
                    </button>
                  )}
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
          <ErrorBox error={chat.error} onDismiss={() => chat.setError(null)} />
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
        {botOf(i) && (
          <p class="muted small">
            This app has a bot: its messages to you arrive in your chats{hasPersonalBot(i) ? ", and Chat beside its name opens your chat with it" : ""}. You can
            mention it where it is added.
          </p>
        )}
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
