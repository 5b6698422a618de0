// Shared pieces of the admin center: the user picker (there is no user
// directory listing in the API yet, so it offers the people this admin
// already knows and accepts an id), and "not available" handling.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, type User, get } from "../api";
import type { State } from "../session";

const cache = new Map<string, User>();
// Look-ups by id, answered or on their way, failures included: each id is
// asked for once per page load, however many rows name it.
const asked = new Map<string, Promise<User | null>>();

/** lookupUser fetches (and remembers) a user by id or address. */
export async function lookupUser(key: string): Promise<User> {
  const k = key.trim();
  const hit = cache.get(k) ?? Array.from(cache.values()).find((u) => same(u, k));
  if (hit) return hit;
  const u = k.includes("@")
    ? (await get<{ value: User[] }>(`/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq '${k.replace(/'/g, "''")}'`)}`)).value[0]
    : await get<User>(`/v1.0/users/${encodeURIComponent(k)}`);
  if (!u) throw new ApiError(404, "notFound", `No user ${k}.`);
  remember(u);
  return u;
}

/** userById resolves an id once; null when the admin may not see that person. */
export function userById(id: string): Promise<User | null> {
  const hit = cache.get(id);
  if (hit) return Promise.resolve(hit);
  let p = asked.get(id);
  if (!p) {
    p = get<User>(`/v1.0/users/${encodeURIComponent(id)}`).then(
      (u) => {
        remember(u);
        return u;
      },
      () => null,
    );
    asked.set(id, p);
  }
  return p;
}

export function remember(u: User): void {
  cache.set(u.id, u);
}

function same(u: User, k: string): boolean {
  const l = k.toLowerCase();
  return u.id === k || u.userPrincipalName?.toLowerCase() === l || (u.mail ?? "").toLowerCase() === l;
}

/** knownUsers lists people of my organisation this client has seen. */
export function knownUsers(s: State): User[] {
  if (s.me) remember(s.me);
  for (const e of Object.values(s.chats)) {
    for (const m of e.members ?? []) {
      if (m.userId && !m.isExternal && !cache.has(m.userId)) {
        cache.set(m.userId, {
          id: m.userId,
          displayName: m.displayName,
          userPrincipalName: m.email ?? "",
          mail: m.email,
          userType: "Member",
          tenantId: m.tenantId,
          userIdentityType: m.userIdentityType,
          isExternal: false,
        });
      }
    }
  }
  return Array.from(cache.values()).filter((u) => !u.isExternal && (!s.me?.tenantId || u.tenantId === s.me.tenantId));
}

/** resolveUser turns what an admin typed (address or id) into a user. */
export async function resolveUser(s: State, typed: string): Promise<User> {
  const k = typed.trim();
  const known = knownUsers(s).find((u) => same(u, k));
  if (known) return known;
  try {
    return await lookupUser(k);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      throw new Error(`No one signs in as "${k}" in your organisation. Check the address.`);
    }
    throw e;
  }
}

export function UserField(props: { id: string; label: string; s: State; value: string; onInput: (v: string) => void; hint?: string }) {
  const users = knownUsers(props.s);
  const listId = `${props.id}-list`;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        list={listId}
        autoComplete="off"
        spellcheck={false}
        value={props.value}
        placeholder="name@yourdomain.com"
        aria-describedby={`${props.id}-hint`}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      <datalist id={listId}>
        {users.map((u) => (
          <option key={u.id} value={u.mail ?? u.userPrincipalName}>
            {u.displayName}
          </option>
        ))}
      </datalist>
      <p class="hint" id={`${props.id}-hint`}>
        {props.hint ?? "The sign-in address of someone in your organisation."}
      </p>
    </div>
  );
}

/**
 * UserName shows a user id as a name. Someone the admin may not see (a
 * person of another organisation) is named as such, never by a raw id.
 */
export function UserName(props: { id: string; plain?: boolean }) {
  const [u, setU] = useState<User | null | undefined>(cache.get(props.id));
  useEffect(() => {
    if (u) return;
    let live = true;
    void userById(props.id).then((x) => live && setU(x));
    return () => void (live = false);
  }, [props.id]);
  if (u === undefined) return <span class="muted">…</span>;
  if (u === null) return <span class="user-name">someone outside your organisation</span>;
  return (
    <span class="user-name">
      {u.displayName}
      {!props.plain && <span class="muted small"> {u.mail ?? u.userPrincipalName}</span>}
    </span>
  );
}

/** notAvailable tells whether an error means the route is not on this server. */
export function notAvailable(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && (e.code === "notFound" || e.code === "httpError");
}

/** Check is one rule of an explanation, in words: whether it passed and where its value came from. */
export interface CheckLine {
  pass: boolean;
  text: string;
  source: string;
}

/**
 * Verdict is an explanation's answer (explain's two modes): the decision
 * as a title, what the mode adds, and every rule, passed or failed, with
 * its source.
 */
export function Verdict(props: { allowed: boolean; title: string; testId: string; checks: CheckLine[]; children?: ComponentChildren }) {
  return (
    <section class={`panel verdict ${props.allowed ? "yes" : "no"}`} aria-live="polite" data-testid={props.testId}>
      <h2 class="verdict-title">{props.title}</h2>
      {props.children}
      <ul class="checks">
        {props.checks.map((c, i) => (
          <li key={i} class={c.pass ? "pass" : "fail"}>
            <span class="check-icon" aria-hidden="true">
              {c.pass ? "✓" : "✗"}
            </span>
            <span class="check-text">
              <span class="visually-hidden">{c.pass ? "Passes: " : "Fails: "}</span>
              {c.text}
              {c.source && <span class="muted small check-source">{c.source}</span>}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
