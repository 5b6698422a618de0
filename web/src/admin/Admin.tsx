// The admin center (docs/rules.md §2, §3, §4 explain, §6 delivery failures, §10
// audit), for users with isAdmin on GET /v1.0/me.
import { setPageTitle } from "../title";
import { useEffect, useState } from "preact/hooks";
import { ApiError, type User, del, enc, errorText, get, getToken, nextPath, patch, post } from "../api";
import type { State } from "../session";
import { ErrorBox, Link, Notice, Switch, Tag, fullTime, useAsync } from "../ui";
import { AppExplain, AppsAdmin } from "./Apps";
import { UserField, UserName, Verdict, lookupUser, notAvailable, remember, resolveUser } from "./common";

const sections = [
  { path: "/admin", label: "External access" },
  { path: "/admin/policies", label: "Policies" },
  { path: "/admin/meetings", label: "Meetings" },
  { path: "/admin/apps", label: "Apps" },
  { path: "/admin/explain", label: "Explain" },
  { path: "/admin/outbox", label: "Deliveries" },
  { path: "/admin/audit", label: "Audit log" },
];

export function Admin(props: { s: State; path: string }) {
  const { s, path } = props;
  const current = sections.find((x) => x.path === path) ?? sections[0];
  const isAdmin = !!s.me?.isAdmin;
  useEffect(() => {
    if (isAdmin) setPageTitle(`${current.label} · Admin`);
  }, [current.label, isAdmin]);
  if (!s.me) return <p class="empty muted">Loading…</p>;
  if (!s.me.isAdmin) return <NotAdmin s={s} />;
  return (
    <main class="admin">
      <nav class="admin-nav" aria-label="Admin sections">
        {sections.map((x) => (
          <Link key={x.path} href={x.path} class={x.path === current.path ? "active" : ""} aria-current={x.path === current.path ? "page" : undefined}>
            {x.label}
          </Link>
        ))}
      </nav>
      <div class="admin-content">
        {current.path === "/admin" && <ExternalAccess />}
        {current.path === "/admin/policies" && <Policies s={s} />}
        {current.path === "/admin/meetings" && <MeetingSettings />}
        {current.path === "/admin/apps" && <AppsAdmin s={s} />}
        {current.path === "/admin/explain" && <Explain s={s} />}
        {current.path === "/admin/outbox" && <Outbox />}
        {current.path === "/admin/audit" && <Audit />}
      </div>
    </main>
  );
}

/** NotAdmin is what someone without admin rights sees at /admin. */
function NotAdmin(props: { s: State }) {
  const personal = props.s.me?.userType === "Personal";
  useEffect(() => setPageTitle("Admin center"), []);
  return (
    <main class="admin not-admin" aria-labelledby="not-admin-title">
      <div class="panel narrow-panel">
        <h1 id="not-admin-title">Admin center</h1>
        {personal ? (
          <p>
            The admin center is where organisations manage who their people can chat with. A personal account has no organisation and no
            admins: who can reach you is up to you, in your settings.
          </p>
        ) : (
          <p>
            Only your organisation's admins can open the admin center. If a setting keeps you from chatting with someone, ask one of
            them.
          </p>
        )}
        <div class="row">
          <Link href="/" class="button primary">
            Back to chats
          </Link>
          <Link href="/settings" class="button secondary">
            Your settings
          </Link>
        </div>
      </div>
    </main>
  );
}

function NotAvailable(props: { what: string }) {
  return (
    <Notice kind="warning">
      {props.what} is not available on this server yet. The rest of the admin center works as usual.
    </Notice>
  );
}

// ---- External access settings (docs/rules.md §2) ----

interface Federation {
  allowTeamsConsumer: boolean;
  allowTeamsConsumerInbound: boolean;
  allowFederatedUsers: boolean;
  allowAllKnownDomains: boolean;
  allowedDomains: string[];
  blockedDomains: string[];
}

function ExternalAccess() {
  const [f, setF] = useState<Federation | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    get<Federation>("/parley/v1/admin/federationConfiguration").then(setF, setLoadError);
  }, []);

  async function save(p: Partial<Federation>, what: string) {
    setSaved(null);
    const r = await run(() => patch<Federation>("/parley/v1/admin/federationConfiguration", p));
    if (r) {
      setF(r);
      setSaved(`Saved: ${what}.`);
    }
  }

  if (loadError) return <ErrorBox error={loadError} />;
  if (!f) return <p class="muted">Loading…</p>;
  return (
    <div class="stack">
      <header>
        <h1>External access</h1>
        <p class="muted">
          Who people in your organisation can chat with outside it. Changes apply at once: chats that a change forbids become read-only,
          and turn writable again when you allow them.
        </p>
      </header>
      <div aria-live="polite">
        <ErrorBox error={error} />
        {saved && <Notice kind="success">{saved}</Notice>}
      </div>
      <section class="panel" aria-labelledby="consumer-title">
        <h2 id="consumer-title" class="section-title">
          Personal accounts
        </h2>
        <Switch
          id="allowTeamsConsumer"
          label="People in your organisation can chat with personal accounts"
          description="Chats with people who use Parley with a personal email address or phone number, in both directions."
          checked={f.allowTeamsConsumer}
          disabled={busy}
          onChange={(v) => void save({ allowTeamsConsumer: v }, v ? "chat with personal accounts is on" : "chat with personal accounts is off")}
        />
        <Switch
          id="allowTeamsConsumerInbound"
          label="Personal accounts can start chats with people in your organisation"
          description={
            f.allowTeamsConsumer
              ? "When off, only your people can start such chats; personal accounts can still reply."
              : "Has no effect while chat with personal accounts is off."
          }
          checked={f.allowTeamsConsumerInbound}
          disabled={busy || !f.allowTeamsConsumer}
          onChange={(v) =>
            void save({ allowTeamsConsumerInbound: v }, v ? "personal accounts can start chats" : "personal accounts can no longer start chats")
          }
        />
      </section>
      <section class="panel" aria-labelledby="fed-title">
        <h2 id="fed-title" class="section-title">
          Other organisations
        </h2>
        <Switch
          id="allowFederatedUsers"
          label="People in your organisation can chat with people in other organisations"
          description="Work accounts of other organisations on Parley, subject to the domain lists below and to their own settings."
          checked={f.allowFederatedUsers}
          disabled={busy}
          onChange={(v) => void save({ allowFederatedUsers: v }, v ? "chat with other organisations is on" : "chat with other organisations is off")}
        />
        <fieldset class="radio-group" disabled={busy || !f.allowFederatedUsers}>
          <legend>Which domains</legend>
          <label>
            <input
              type="radio"
              name="domains-mode"
              checked={f.allowAllKnownDomains}
              onChange={() => void save({ allowAllKnownDomains: true }, "all domains allowed except blocked ones")}
            />{" "}
            Allow all domains, except the blocked ones
          </label>
          <label>
            <input
              type="radio"
              name="domains-mode"
              checked={!f.allowAllKnownDomains}
              onChange={() => void save({ allowAllKnownDomains: false }, "only the allowed domains")}
            />{" "}
            Allow only the domains listed below
          </label>
        </fieldset>
        {!f.allowAllKnownDomains && (
          <DomainList
            id="allowed"
            title="Allowed domains"
            empty="No domains allowed yet: nobody outside can be reached until you add one."
            list={f.allowedDomains}
            busy={busy}
            onSave={(l, what) => void save({ allowedDomains: l }, what)}
          />
        )}
        <FileSharing />
        <DomainList
          id="blocked"
          title="Blocked domains"
          empty="No blocked domains."
          hint="People in organisations with these domains can never chat with yours, whatever else is allowed."
          list={f.blockedDomains}
          busy={busy}
          onSave={(l, what) => void save({ blockedDomains: l }, what)}
        />
      </section>
    </div>
  );
}

/** FileSharing is the organisation's switch for files in chats with people outside it. */
function FileSharing() {
  const [on, setOn] = useState<boolean | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  useEffect(() => {
    get<{ allowExternalFileSharing: boolean }>("/parley/v1/admin/fileConfiguration").then(
      (c) => setOn(c.allowExternalFileSharing),
      () => setOn(null),
    );
  }, []);
  if (on === null) return null;
  return (
    <div>
      <Switch
        id="allowExternalFileSharing"
        label="People in your organisation can share files with people outside it"
        description="When off, nobody here can upload or download files in chats that include external people."
        checked={on}
        disabled={busy}
        onChange={async (v) => {
          setSaved(null);
          const r = await run(() => patch<{ allowExternalFileSharing: boolean }>("/parley/v1/admin/fileConfiguration", { allowExternalFileSharing: v }));
          if (r) {
            setOn(r.allowExternalFileSharing);
            setSaved(`Saved: file sharing with people outside is ${r.allowExternalFileSharing ? "on" : "off"}.`);
          }
        }}
      />
      <ErrorBox error={error} />
      {saved && <Notice kind="success">{saved}</Notice>}
    </div>
  );
}

function DomainList(props: {
  id: string;
  title: string;
  empty: string;
  hint?: string;
  list: string[];
  busy: boolean;
  onSave: (l: string[], what: string) => void;
}) {
  const [d, setD] = useState("");
  const [err, setErr] = useState<string | null>(null);
  function add(e: Event) {
    e.preventDefault();
    const v = d.trim().toLowerCase().replace(/^@/, "");
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(v)) {
      setErr("Enter a domain such as fabrikam.com.");
      return;
    }
    setErr(null);
    if (!props.list.includes(v)) props.onSave([...props.list, v], `${v} added to ${props.title.toLowerCase()}`);
    setD("");
  }
  return (
    <div class="domain-list">
      <h3 class="sub-title">{props.title}</h3>
      {props.hint && <p class="hint">{props.hint}</p>}
      {props.list.length === 0 ? (
        <p class="muted small">{props.empty}</p>
      ) : (
        <ul class="chips" aria-label={props.title}>
          {props.list.map((x) => (
            <li key={x} class="chip">
              {x}
              <button
                type="button"
                class="chip-x"
                aria-label={`Remove ${x}`}
                disabled={props.busy}
                onClick={() => props.onSave(props.list.filter((y) => y !== x), `${x} removed from ${props.title.toLowerCase()}`)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="row" onSubmit={add}>
        <label for={`${props.id}-domain`} class="visually-hidden">
          Domain to add to {props.title.toLowerCase()}
        </label>
        <input id={`${props.id}-domain`} placeholder="fabrikam.com" value={d} onInput={(e) => setD(e.currentTarget.value)} />
        <button type="submit" class="secondary" disabled={props.busy || !d.trim()}>
          Add
        </button>
      </form>
      {err && (
        <p class="field-error" role="alert">
          {err}
        </p>
      )}
    </div>
  );
}

// ---- Meeting settings (docs/rules.md §8) ----

interface MeetingConfig {
  allowAnonymousUsersToJoinMeeting: boolean;
  lobbyBypass: "organizer" | "organization" | "everyone" | string;
  anonymousUsersCanInteractWithApps: boolean;
}

function MeetingSettings() {
  const [c, setC] = useState<MeetingConfig | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  useEffect(() => {
    get<MeetingConfig>("/parley/v1/admin/meetingConfiguration").then(setC, setLoadError);
  }, []);
  async function save(p: Partial<MeetingConfig>, what: string) {
    setSaved(null);
    const r = await run(() => patch<MeetingConfig>("/parley/v1/admin/meetingConfiguration", p));
    if (r) {
      setC(r);
      setSaved(`Saved: ${what}.`);
    }
  }
  if (loadError) return notAvailable(loadError) ? <NotAvailable what="Meeting settings" /> : <ErrorBox error={loadError} />;
  if (!c) return <p class="muted">Loading…</p>;
  return (
    <div class="stack">
      <header>
        <h1>Meetings</h1>
        <p class="muted">
          Who may join your organisation's meetings with the link, and who waits in the lobby until someone lets them in. Changes apply
          to every meeting at once.
        </p>
      </header>
      <div aria-live="polite">
        <ErrorBox error={error} />
        {saved && <Notice kind="success">{saved}</Notice>}
      </div>
      <section class="panel" aria-labelledby="anon-title">
        <h2 id="anon-title" class="section-title">
          People without an account
        </h2>
        <Switch
          id="allowAnonymousUsersToJoinMeeting"
          label="Anyone with the link can join without an account"
          description="They type a name, show as Unverified and can only take part in that meeting's chat. When off, only invited people join."
          checked={c.allowAnonymousUsersToJoinMeeting}
          disabled={busy}
          onChange={(v) => void save({ allowAnonymousUsersToJoinMeeting: v }, v ? "people without an account can join" : "only invited people can join")}
        />
        <Switch
          id="anonymousUsersCanInteractWithApps"
          label="People without an account can use apps in meetings"
          description="They can always act on cards; this allows the rest (messaging a bot, tabs)."
          checked={c.anonymousUsersCanInteractWithApps}
          disabled={busy}
          onChange={(v) => void save({ anonymousUsersCanInteractWithApps: v }, v ? "people without an account can use apps" : "people without an account can't use apps")}
        />
      </section>
      <section class="panel" aria-labelledby="lobby-title">
        <h2 id="lobby-title" class="section-title">
          Lobby
        </h2>
        <fieldset class="radio-group" disabled={busy}>
          <legend>Who goes straight in (everyone else waits to be let in)</legend>
          {(
            [
              ["organizer", "Only the organiser"],
              ["organization", "People in your organisation"],
              ["everyone", "Everyone, including people without an account"],
            ] as const
          ).map(([v, label]) => (
            <label key={v}>
              <input type="radio" name="lobby-bypass" checked={c.lobbyBypass === v} onChange={() => void save({ lobbyBypass: v }, `${label.toLowerCase()} skip the lobby`)} />{" "}
              {label}
            </label>
          ))}
        </fieldset>
      </section>
    </div>
  );
}

// ---- External access policies (docs/rules.md §3) ----

interface Policy {
  name: string;
  enableFederationAccess: boolean;
  enableTeamsConsumerAccess: boolean;
  enableTeamsConsumerInbound: boolean;
  userCount?: number;
  userIds?: string[];
}

const policySwitches: { key: keyof Policy; label: string }[] = [
  { key: "enableFederationAccess", label: "Can chat with people in other organisations" },
  { key: "enableTeamsConsumerAccess", label: "Can chat with personal accounts" },
  { key: "enableTeamsConsumerInbound", label: "Personal accounts can start chats with them" },
];

function Policies(props: { s: State }) {
  const [list, setList] = useState<Policy[] | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const { busy, error, setError, run } = useAsync();

  async function load() {
    const r = await run(() => get<{ value: Policy[] }>("/parley/v1/admin/externalAccessPolicies?expand=users"));
    if (r) setList(r.value);
  }
  useEffect(() => {
    void load();
  }, []);

  return (
    <div class="stack">
      <header>
        <h1>External access policies</h1>
        <p class="muted">
          A policy narrows what the organisation allows, for the people it is given to. Everyone without a policy of their own has Global.
          A person's right is the organisation setting <em>and</em> their policy.
        </p>
      </header>
      <div aria-live="polite">
        <ErrorBox error={error} onDismiss={() => setError(null)} />
        {msg && <Notice kind="success">{msg}</Notice>}
      </div>
      {list === null ? (
        <p class="muted">Loading…</p>
      ) : (
        list.map((p) => (
          <PolicyCard
            key={p.name}
            p={p}
            s={props.s}
            busy={busy}
            onChanged={(m) => {
              setMsg(m);
              void load();
            }}
          />
        ))
      )}
      <NewPolicy
        onCreated={(name) => {
          setMsg(`Policy ${name} created. Give it to people below its switches.`);
          void load();
        }}
      />
      <WhichPolicy s={props.s} />
    </div>
  );
}

function PolicyCard(props: { p: Policy; s: State; busy: boolean; onChanged: (m: string) => void }) {
  const { p } = props;
  const global = p.name === "Global";
  const [who, setWho] = useState("");
  const [confirm, setConfirm] = useState<"ask" | { inUse: string } | null>(null);
  const [showHolders, setShowHolders] = useState(false);
  const { busy, error, setError, run } = useAsync();
  const slug = p.name.replace(/[^A-Za-z0-9_-]/g, "_");

  async function toggle(key: keyof Policy, v: boolean) {
    const r = await run(() => patch<Policy>(`/parley/v1/admin/externalAccessPolicies/${enc(p.name)}`, { [key]: v }));
    if (r) props.onChanged(`Policy ${p.name} saved.`);
  }

  async function grant(e: Event) {
    e.preventDefault();
    const ok = await run(async () => {
      const u: User = await resolveUser(props.s, who);
      remember(u);
      await post(`/parley/v1/admin/externalAccessPolicies/${enc(p.name)}/grant`, { userIds: [u.id] });
      return u;
    });
    if (ok) {
      setWho("");
      props.onChanged(global ? `${ok.displayName} is back on Global.` : `${ok.displayName} now has ${p.name}.`);
    }
  }

  async function remove(reset: boolean) {
    try {
      await del(`/parley/v1/admin/externalAccessPolicies/${enc(p.name)}${reset ? "?resetUsers=true" : ""}`);
      setConfirm(null);
      props.onChanged(reset ? `Policy ${p.name} deleted; its people are on Global now.` : `Policy ${p.name} deleted.`);
    } catch (e) {
      if (e instanceof ApiError && e.code === "policyInUse") setConfirm({ inUse: e.message });
      else setError(e);
    }
  }

  return (
    <section class="panel policy" aria-labelledby={`policy-${slug}`} data-policy={p.name}>
      <div class="policy-head">
        <h2 id={`policy-${slug}`} class="section-title">
          {p.name} {global && <Tag>Org-wide default</Tag>}
        </h2>
        <span class="muted small">
          {global
            ? "Everyone without another policy"
            : `${p.userCount ?? p.userIds?.length ?? 0} ${(p.userCount ?? 0) === 1 ? "person" : "people"}`}
        </span>
      </div>
      {policySwitches.map((sw) => (
        <Switch
          key={sw.key}
          id={`${slug}-${sw.key}`}
          label={sw.label}
          checked={Boolean(p[sw.key])}
          disabled={busy || props.busy}
          onChange={(v) => void toggle(sw.key, v)}
        />
      ))}
      {!global && (p.userIds?.length ?? 0) > 0 && (
        <div>
          <button type="button" class="link-button" aria-expanded={showHolders} onClick={() => setShowHolders(!showHolders)}>
            {showHolders ? "Hide who has it" : "Show who has it"}
          </button>
          {showHolders && (
            <ul class="holders">
              {p.userIds!.map((id) => (
                <li key={id}>
                  <UserName id={id} />
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <form class="grant" onSubmit={grant}>
        <UserField
          id={`${slug}-grant`}
          label={global ? "Put someone back on Global" : `Give ${p.name} to`}
          s={props.s}
          value={who}
          onInput={setWho}
        />
        <button type="submit" class="secondary" disabled={busy || !who.trim()}>
          {global ? "Reset to Global" : "Give policy"}
        </button>
      </form>
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      {!global && (
        <div class="row">
          {confirm === null && (
            <button type="button" class="ghost danger-text" onClick={() => setConfirm("ask")}>
              Delete policy
            </button>
          )}
          {confirm === "ask" && (
            <>
              <span>Delete {p.name}?</span>
              <button type="button" class="danger small" onClick={() => void remove(false)}>
                Delete
              </button>
              <button type="button" class="ghost small" onClick={() => setConfirm(null)}>
                Cancel
              </button>
            </>
          )}
          {confirm !== null && typeof confirm === "object" && (
            <div class="alert warning" role="alert">
              <p>{confirm.inUse}</p>
              <div class="row">
                <button type="button" class="danger small" onClick={() => void remove(true)}>
                  Reset them to Global and delete
                </button>
                <button type="button" class="ghost small" onClick={() => setConfirm(null)}>
                  Keep the policy
                </button>
              </div>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

const allOn = { enableFederationAccess: true, enableTeamsConsumerAccess: true, enableTeamsConsumerInbound: true };

function NewPolicy(props: { onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [sw, setSw] = useState(allOn);
  const { busy, error, run } = useAsync();
  async function create(e: Event) {
    e.preventDefault();
    const n = name.trim();
    const r = await run(() => post<Policy>("/parley/v1/admin/externalAccessPolicies", { name: n, ...sw }));
    if (r) {
      setName("");
      setSw(allOn);
      props.onCreated(r.name);
    }
  }
  return (
    <section class="panel" aria-labelledby="new-policy-title">
      <h2 id="new-policy-title" class="section-title">
        New policy
      </h2>
      <form class="stack" onSubmit={create}>
        <div class="field">
          <label for="new-policy-name">Name</label>
          <input id="new-policy-name" value={name} placeholder="NoPersonalAccounts" onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div>
          {policySwitches.map((x) => (
            <Switch
              key={x.key}
              id={`new-${x.key}`}
              label={x.label}
              checked={sw[x.key as keyof typeof sw]}
              onChange={(v) => setSw({ ...sw, [x.key]: v })}
            />
          ))}
        </div>
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !name.trim()}>
            Create policy
          </button>
        </div>
      </form>
    </section>
  );
}

function WhichPolicy(props: { s: State }) {
  const [who, setWho] = useState("");
  const [answer, setAnswer] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  async function look(e: Event) {
    e.preventDefault();
    setAnswer(null);
    const r = await run(async () => {
      const u = await resolveUser(props.s, who);
      const p = await get<{ name: string }>(`/parley/v1/admin/users/${enc(u.id)}/externalAccessPolicy`);
      return `${u.displayName} has ${p.name}.`;
    });
    if (r) setAnswer(r);
  }
  return (
    <section class="panel" aria-labelledby="which-title">
      <h2 id="which-title" class="section-title">
        Which policy does someone have?
      </h2>
      <form class="grant" onSubmit={look}>
        <UserField id="which-user" label="Person" s={props.s} value={who} onInput={setWho} />
        <button type="submit" class="secondary" disabled={busy || !who.trim()}>
          Look up
        </button>
      </form>
      <ErrorBox error={error} />
      {answer && <Notice>{answer}</Notice>}
    </section>
  );
}

// ---- Explain (docs/rules.md §4) ----

const ruleText: Record<string, string> = {
  sameTenant: "Both are in your organisation",
  "guest.hostOnly": "Guests chat only inside their host organisation",
  "anonymous.meetingOnly": "Anonymous participants chat only in their meeting",
  "account.kind": "The account type allows chats outside the organisation",
  "account.missing": "The account exists",
  "tenant.allowTeamsConsumer": "Your organisation allows chats with personal accounts",
  "tenant.allowTeamsConsumerInbound": "Your organisation lets personal accounts start chats",
  "tenant.allowFederatedUsers": "Your organisation allows chats with other organisations",
  "tenant.blockedDomains": "The address's domain is not blocked",
  "tenant.allowedDomains": "The address's domain is allowed",
  "policy.enableFederationAccess": "Their policy allows chats with other organisations",
  "policy.enableTeamsConsumerAccess": "Their policy allows chats with personal accounts",
  "policy.enableTeamsConsumerInbound": "Their policy lets personal accounts start chats",
  "target.allowChatsFromOrganizations": "The person accepts chats from organisations",
  block: "Nobody has blocked the other",
  "request.declined": "No recent declined request",
  otherOrganization: "The other side's organisation accepts this",
};

/** sourceText says where a check's value came from, in words (never a code). */
function sourceText(src: string): string {
  if (src.startsWith("policy ")) {
    const name = src.slice(7);
    if (name === "not loaded") return "Their policy could not be read";
    if (name === "(unnamed)") return "Their policy";
    return `Policy ${name}`;
  }
  const words: Record<string, string> = {
    "tenant setting": "Organisation setting",
    "tenant settings not loaded": "The organisation settings could not be read",
    "personal setting": "Their own setting",
    "block list": "Blocked people",
    "request block": "Blocked from a message request",
    "request decline": "A declined message request",
    "tenant membership": "Same organisation",
    "guest account": "Guest account",
    "anonymous participant": "Anonymous meeting participant",
    "account kind": "Account type",
    directory: "Directory",
  };
  if (words[src]) return words[src];
  // The other side's answer, already a sentence; anything else unknown is not shown.
  return /^[A-Z]?[a-z' ]+$/.test(src) && src.includes(" ") ? src.charAt(0).toUpperCase() + src.slice(1) : "";
}

interface Explanation {
  allowed: boolean;
  checks: { rule: string; value: boolean; source: string }[];
}

/** Explain answers "why (not)" for a chat with an address, or for an app in a conversation. */
function Explain(props: { s: State }) {
  const [mode, setMode] = useState<"people" | "apps">("people");
  return (
    <div class="stack">
      <header>
        <h1>Explain</h1>
        <p class="muted">
          {mode === "people"
            ? "Can someone in your organisation start a chat with an address, and why (not)? Every rule on your side, with its value and where it comes from. The other side appears only as its organisation's answer; nothing about their accounts is shown."
            : "Can someone use an app of your catalog in a conversation your organisation hosts (or in their personal apps), and why (not)? Every rule, in the order the server checks them, with where its value comes from."}
        </p>
      </header>
      <fieldset class="segmented">
        <legend>Explain</legend>
        <label>
          <input type="radio" name="explain-mode" checked={mode === "people"} onChange={() => setMode("people")} /> Chats with an address
        </label>
        <label>
          <input type="radio" name="explain-mode" checked={mode === "apps"} onChange={() => setMode("apps")} /> Apps
        </label>
      </fieldset>
      {mode === "people" ? <ExplainChat s={props.s} /> : <AppExplain s={props.s} />}
    </div>
  );
}

function ExplainChat(props: { s: State }) {
  const [who, setWho] = useState("");
  const [address, setAddress] = useState("");
  const [res, setRes] = useState<{ u: User; address: string; ex: Explanation } | null>(null);
  const { busy, error, run } = useAsync();

  async function ask(e: Event) {
    e.preventDefault();
    setRes(null);
    const r = await run(async () => {
      const u = await resolveUser(props.s, who);
      const ex = await get<Explanation>(
        `/parley/v1/admin/explain?userId=${enc(u.id)}&address=${enc(address.trim())}`,
      );
      return { u, address: address.trim(), ex };
    });
    if (r) setRes(r);
  }

  return (
    <>
      <form class="panel stack" onSubmit={ask}>
        <div class="grid-2">
          <UserField id="explain-user" label="Person in your organisation" s={props.s} value={who} onInput={setWho} />
          <div class="field">
            <label for="explain-address">Email address or phone number they want to reach</label>
            <input
              id="explain-address"
              value={address}
              placeholder="someone@example.com"
              onInput={(e) => setAddress(e.currentTarget.value)}
              aria-describedby="explain-address-hint"
            />
            <p class="hint" id="explain-address-hint">
              The answer depends on the address's domain, never on whether it has an account.
            </p>
          </div>
        </div>
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !who.trim() || !address.trim()}>
            {busy ? "Checking…" : "Explain"}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {res && (
        <Verdict
          allowed={res.ex.allowed}
          title={`${res.u.displayName} ${res.ex.allowed ? "can" : "can't"} start a chat with ${res.address}`}
          testId="explain-result"
          checks={res.ex.checks.map((c) => ({
            pass: c.value,
            text: ruleText[c.rule] ?? (c.value ? "Another rule allows it" : "Another rule refuses it"),
            source: sourceText(c.source),
          }))}
        />
      )}
    </>
  );
}

// ---- Outbox failures (docs/rules.md §6) ----

interface OutboxEntry {
  id: string;
  channel: string;
  to: string;
  subject: string;
  status: string;
  attempts: number;
  lastError: string;
  createdDateTime: string | null;
  sentDateTime: string | null;
  failedDateTime: string | null;
}

function Outbox() {
  const [status, setStatus] = useState<"failed" | "">("failed");
  const [list, setList] = useState<OutboxEntry[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    setList(null);
    setErr(null);
    get<{ value: OutboxEntry[] }>(`/parley/v1/admin/outbox${status ? `?status=${status}` : ""}`).then((r) => setList(r.value), setErr);
  }, [status]);
  return (
    <div class="stack">
      <header>
        <h1>Deliveries</h1>
        <p class="muted">Email to your organisation's own addresses: sign-up notices and password reset codes (codes hidden). Invitations your people send outside are not listed, since whether one goes out says whether the address has an account; the server operator sees them. Failed ones are retried with backoff before they show up as failed.</p>
      </header>
      <fieldset class="segmented">
        <legend>Show</legend>
        <label>
          <input type="radio" name="outbox-status" checked={status === "failed"} onChange={() => setStatus("failed")} /> Failed
        </label>
        <label>
          <input type="radio" name="outbox-status" checked={status === ""} onChange={() => setStatus("")} /> All
        </label>
      </fieldset>
      {err ? (
        notAvailable(err) ? <NotAvailable what="The delivery list" /> : <ErrorBox error={err} />
      ) : list === null ? (
        <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="muted">{status === "failed" ? "No failed deliveries." : "Nothing sent yet."}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">To</th>
                <th scope="col">What</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.id}>
                  <td>
                    {m.to} <span class="muted small">{m.channel}</span>
                  </td>
                  <td>{m.subject}</td>
                  <td>
                    <Tag kind={m.status === "failed" ? "readonly" : ""}>{m.status}</Tag>
                  </td>
                  <td>{m.attempts}</td>
                  <td class="wrap">{m.lastError}</td>
                  <td>{fullTime(m.failedDateTime ?? m.sentDateTime ?? m.createdDateTime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// ---- Audit log (docs/rules.md §10) ----

interface AuditRecord {
  id: string;
  time: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown> | null;
  /** summary is the server's sentence: who did what, names resolved as this admin may see them. */
  summary: string;
}

const isID = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** settingLabel names the settings and policy switches audit records carry. */
const settingLabel: Record<string, string> = {
  allowTeamsConsumer: "Chat with personal accounts",
  allowTeamsConsumerInbound: "Personal accounts can start chats",
  allowFederatedUsers: "Chat with other organisations",
  allowAllKnownDomains: "All domains allowed (except blocked ones)",
  allowedDomains: "Allowed domains",
  blockedDomains: "Blocked domains",
  enableFederationAccess: "Can chat with other organisations",
  enableTeamsConsumerAccess: "Can chat with personal accounts",
  enableTeamsConsumerInbound: "Personal accounts can start chats with them",
  name: "Name",
  chatType: "Kind of chat",
  members: "People",
  usersReset: "People put back on Global",
  userPrincipalName: "Sign-in address",
  userType: "Account type",
};

function show(v: unknown): string {
  if (v === true) return "on";
  if (v === false) return "off";
  if (Array.isArray(v)) return v.length ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ") : "none";
  if (v === null || v === undefined || v === "") return "none";
  if (v === "oneOnOne") return "one-to-one";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * AuditDetails shows what an entry changed: for a before/after pair only
 * the fields that differ, people by name.
 */
function AuditDetails(props: { r: AuditRecord }) {
  const d = props.r.details ?? {};
  const rows: [string, preact.ComponentChildren][] = [];
  const before = d.before as Record<string, unknown> | undefined;
  const after = d.after as Record<string, unknown> | undefined;
  if (before && after && typeof before === "object" && typeof after === "object") {
    for (const k of Object.keys(after)) {
      if (same(before[k], after[k])) continue;
      if (Array.isArray(before[k]) && Array.isArray(after[k])) {
        const b = before[k] as unknown[];
        const a = after[k] as unknown[];
        const added = a.filter((x) => !b.includes(x));
        const removed = b.filter((x) => !a.includes(x));
        rows.push([
          settingLabel[k] ?? k,
          [added.length ? `added ${show(added)}` : "", removed.length ? `removed ${show(removed)}` : ""].filter(Boolean).join("; "),
        ]);
      } else rows.push([settingLabel[k] ?? k, `${show(before[k])} → ${show(after[k])}`]);
    }
    if (!rows.length) rows.push(["", "nothing changed"]);
  } else {
    const flat = d.policy && typeof d.policy === "object" ? (d.policy as Record<string, unknown>) : d;
    for (const [k, v] of Object.entries(flat)) {
      if (k === "name" || k === "from" || k === "to" || k === "chatId") continue;
      if (k === "userIds" && Array.isArray(v)) {
        rows.push([
          "People",
          v.map((id, i) => (
            <span key={String(id)}>
              {i > 0 && ", "}
              {typeof id === "string" && isID(id) ? <UserName id={id} plain /> : String(id)}
            </span>
          )),
        ]);
        continue;
      }
      rows.push([settingLabel[k] ?? k, show(v)]);
    }
  }
  if (!rows.length) return null;
  return (
    <ul class="kv small">
      {rows.map(([k, v], i) => (
        <li key={i}>
          {k && <span class="muted">{k}: </span>}
          {v}
        </li>
      ))}
    </ul>
  );
}

const auditKinds: [string, string][] = [
  ["", "Everything"],
  ["federationConfiguration.", "External access settings"],
  ["externalAccessPolicy.", "Policies and grants"],
  ["chat.", "Chats with people outside"],
  ["request.", "Message requests answered"],
  ["user.blocked", "Blocks"],
  ["invitation.", "Invitations"],
  ["user.created", "Accounts created"],
];

function Audit() {
  const [filters, setFilters] = useState({ action: "", actor: "", since: "", until: "" });
  const [applied, setApplied] = useState(filters);
  const [rows, setRows] = useState<AuditRecord[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const { busy, run } = useAsync();
  const [exportError, setExportError] = useState<unknown>(null);
  const [filterError, setFilterError] = useState<unknown>(null);

  /** apply turns a typed sign-in address into the actor id the log keeps. */
  async function apply() {
    setFilterError(null);
    let actor = filters.actor.trim();
    if (actor && !isID(actor)) {
      try {
        actor = (await lookupUser(actor)).id;
      } catch (e) {
        setFilterError(e instanceof ApiError && e.status === 404 ? `No one signs in as "${actor}" in your organisation.` : e);
        return;
      }
    }
    setApplied({ ...filters, actor });
  }

  const query = (f: typeof filters) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v.trim()) q.set(k, v.trim());
    return q.toString();
  };

  useEffect(() => {
    setRows(null);
    setErr(null);
    const q = query(applied);
    get<{ value: AuditRecord[]; "@odata.nextLink"?: string }>(`/parley/v1/admin/audit?$top=50${q ? `&${q}` : ""}`).then((r) => {
      setRows(r.value);
      setNext(r["@odata.nextLink"] ?? null);
    }, setErr);
  }, [applied]);

  async function more() {
    if (!next) return;
    const r = await run(() => get<{ value: AuditRecord[]; "@odata.nextLink"?: string }>(nextPath(next)));
    if (r) {
      setRows((x) => [...(x ?? []), ...r.value]);
      setNext(r["@odata.nextLink"] ?? null);
    }
  }

  async function exportLog() {
    setExportError(null);
    try {
      const q = query(applied);
      const res = await fetch(`/parley/v1/admin/audit/export${q ? `?${q}` : ""}`, {
        headers: { Authorization: `Bearer ${getToken() ?? ""}` },
      });
      if (!res.ok) {
        let msg = `The export failed (${res.status}).`;
        try {
          const b = await res.json();
          if (b?.error?.message) msg = b.error.message;
        } catch {
          // not JSON
        }
        throw new Error(msg);
      }
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = "parley-audit.jsonl";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      setExportError(errorText(e));
    }
  }

  const set = (k: keyof typeof filters) => (e: Event) => setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <div class="stack wide">
      <header>
        <h1>Audit log</h1>
        <p class="muted">Settings and policy changes, grants, external chats, requests answered, blocks, reports and invitations.</p>
      </header>
      {err && notAvailable(err) ? (
        <NotAvailable what="The audit log" />
      ) : (
        <>
          <form
            class="panel filters"
            onSubmit={(e) => {
              e.preventDefault();
              void apply();
            }}
          >
            <div class="field">
              <label for="audit-action">What</label>
              <select id="audit-action" value={filters.action} onChange={set("action")}>
                {auditKinds.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="audit-actor">Who (sign-in address)</label>
              <input id="audit-actor" placeholder="name@yourdomain.com" value={filters.actor} onInput={set("actor")} />
            </div>
            <div class="field">
              <label for="audit-since">From</label>
              <input id="audit-since" type="date" value={filters.since} onInput={set("since")} />
            </div>
            <div class="field">
              <label for="audit-until">Until (not including)</label>
              <input id="audit-until" type="date" value={filters.until} onInput={set("until")} />
            </div>
            <div class="row">
              <button type="submit" class="primary">
                Filter
              </button>
              <button type="button" class="secondary" onClick={() => void exportLog()}>
                Export
              </button>
            </div>
          </form>
          <ErrorBox error={filterError} />
          <ErrorBox error={exportError} />
          {err ? (
            <ErrorBox error={err} />
          ) : rows === null ? (
            <p class="muted">Loading…</p>
          ) : rows.length === 0 ? (
            <p class="muted">Nothing recorded for these filters.</p>
          ) : (
            <ol class="audit-list" aria-label="Audit records">
              {rows.map((r) => (
                <li key={r.id} class="audit-row" data-action={r.action}>
                  <div class="audit-head">
                    <p class="audit-what">{r.summary}</p>
                    <time dateTime={r.time} class="muted small nowrap" title={fullTime(r.time)}>
                      {fullTime(r.time)}
                    </time>
                  </div>
                  <AuditDetails r={r} />
                  <code class="audit-action muted small">{r.action}</code>
                </li>
              ))}
            </ol>
          )}
          {next && (
            <div class="center">
              <button type="button" class="secondary" disabled={busy} onClick={() => void more()}>
                {busy ? "Loading…" : "Load more"}
              </button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
