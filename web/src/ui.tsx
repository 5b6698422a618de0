// Small building blocks shared by every page.
import type { AnchorHTMLAttributes, ComponentChildren, InputHTMLAttributes } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { errorText } from "./api";
import { linkClick } from "./router";

/** ExternalBadge marks a person or chat from outside my organisation (docs/rules.md §5). */
export function ExternalBadge(props: { title?: string }) {
  return (
    <span class="badge external" title={props.title ?? "From outside your organisation"}>
      External
    </span>
  );
}

/** UnverifiedBadge marks an anonymous meeting participant: nobody checked who they are. */
export function UnverifiedBadge() {
  return (
    <span class="badge unverified" title="Joined with the meeting link, without an account: nobody checked who this is">
      Unverified
    </span>
  );
}

/** GuestBadge marks a guest of the organisation (docs/rules.md §1). */
export function GuestBadge() {
  return (
    <span class="badge guest" title="A guest in this organisation">
      Guest
    </span>
  );
}

/** PersonBadge is the one badge a person gets: Unverified, Guest or External. */
export function PersonBadge(props: { identityType?: string | null; external?: boolean; guest?: boolean }) {
  if (props.identityType === "anonymousGuest") return <UnverifiedBadge />;
  if (props.guest) return <GuestBadge />;
  if (props.external) return <ExternalBadge />;
  return null;
}

export function Tag(props: { children: ComponentChildren; kind?: string; title?: string }) {
  return (
    <span class={`badge ${props.kind ?? ""}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} onClick={linkClick} />;
}

/** ErrorBox shows a failure in words (never raw JSON). */
export function ErrorBox(props: { error: unknown; onDismiss?: () => void }) {
  if (!props.error) return null;
  return (
    <div class="alert error" role="alert">
      <span>{typeof props.error === "string" ? props.error : errorText(props.error)}</span>
      {props.onDismiss && (
        <button type="button" class="link-button" onClick={props.onDismiss} aria-label="Dismiss">
          Dismiss
        </button>
      )}
    </div>
  );
}

export function Notice(props: { children: ComponentChildren; kind?: "info" | "success" | "warning" }) {
  return (
    <div class={`alert ${props.kind ?? "info"}`} role="status">
      {props.children}
    </div>
  );
}

/** Field is a labelled input; every form field has a label. */
export function Field(
  props: Omit<InputHTMLAttributes<HTMLInputElement>, "type"> & { type?: string; label: string; hint?: string; id: string; value?: string },
) {
  const { label, hint, id, ...rest } = props as InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: string; id: string };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...rest} />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** Switch is an on/off setting: a checkbox with role switch and a label. */
export function Switch(props: {
  id: string;
  label: string;
  description?: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (v: boolean) => void;
}) {
  return (
    <div class={`switch-row${props.disabled ? " disabled" : ""}`}>
      <div class="switch-text">
        <label for={props.id}>{props.label}</label>
        {props.description && (
          <p class="hint" id={`${props.id}-desc`}>
            {props.description}
          </p>
        )}
      </div>
      <input
        type="checkbox"
        role="switch"
        class="switch"
        id={props.id}
        checked={props.checked}
        disabled={props.disabled}
        aria-describedby={props.description ? `${props.id}-desc` : undefined}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
    </div>
  );
}

const presenceWords: Record<string, string> = {
  Available: "Available",
  AvailableIdle: "Available",
  Away: "Away",
  BeRightBack: "Be right back",
  Busy: "Busy",
  BusyIdle: "Busy",
  DoNotDisturb: "Do not disturb",
  Offline: "Offline",
};

/** presenceText names an availability, or "" when unknown. */
export function presenceText(a: string | undefined): string {
  return (a && presenceWords[a]) || "";
}

export function Avatar(props: { name: string; external?: boolean; size?: "sm" | "md"; presence?: string }) {
  const initials =
    props.name
      .replace(/[^\p{L}\p{N} ]/gu, " ")
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]?.toUpperCase())
      .join("") || "?";
  let h = 0;
  for (const c of props.name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const p = presenceText(props.presence);
  return (
    <span class={`avatar ${props.size ?? "md"}${props.external ? " ext" : ""}`} data-hue={h % 6} aria-hidden={p ? undefined : "true"}>
      <span aria-hidden="true">{initials}</span>
      {p && <span class={`presence-dot ${props.presence}`} role="img" aria-label={p} title={p} data-testid="presence" />}
    </span>
  );
}

/** useAsync runs an action, keeping busy and error state for a form. */
export function useAsync() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function run<T>(f: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await f();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

/**
 * useChange runs a change that the page then reloads (onChanged), keeping
 * busy and error state and the sentence that says it is done; act answers
 * whether it worked.
 */
export function useChange(onChanged: () => Promise<unknown>) {
  const { busy, error, setError, run } = useAsync();
  const [done, setDone] = useState<string | null>(null);
  async function act(f: () => Promise<unknown>, said: string): Promise<boolean> {
    setDone(null);
    const ok = await run(async () => {
      await f();
      await onChanged();
      return true;
    });
    if (ok) setDone(said);
    return !!ok;
  }
  return { busy, error, setError, done, act };
}

/**
 * Confirm asks before something that cannot be undone (deleting a channel,
 * removing someone, ending a meeting, renewing a join link): it says what
 * will happen, puts the focus on the confirming button, and Cancel (or
 * Escape) leaves everything as it was.
 */
export function Confirm(props: {
  title: string;
  text: string;
  action: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => ref.current?.focus(), []);
  return (
    <div
      class="panel confirm"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          props.onCancel();
        }
      }}
    >
      <h3 id={`${id}-title`} class="section-title">
        {props.title}
      </h3>
      <p id={`${id}-text`}>{props.text}</p>
      <div class="row">
        <button type="button" ref={ref} class={props.danger ? "danger" : "primary"} disabled={props.busy} onClick={props.onConfirm}>
          {props.action}
        </button>
        <button type="button" class="secondary" disabled={props.busy} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/**
 * SidePanel is a chat's side panel (its people, apps or meeting): beside
 * the messages on a desktop, over them on a phone.
 */
export function SidePanel(props: { id: string; label: string; class?: string; testid?: string; children: ComponentChildren }) {
  return (
    <aside class={props.class ? `people ${props.class}` : "people"} id={props.id} aria-label={props.label} data-testid={props.testid}>
      {props.children}
    </aside>
  );
}

/** AuthCard is the card of the pages outside the app (sign-in, sign-up, join pages): Parley's name, a title, the rest. */
export function AuthCard(props: { title: string; wide?: boolean; children: ComponentChildren }) {
  return (
    <main class="auth-page">
      <div class={`auth-card${props.wide ? " wide" : ""}`}>
        <div class="brand-row">
          <span class="logo" aria-hidden="true">
            P
          </span>
          <span class="brand">Parley</span>
        </div>
        <h1>{props.title}</h1>
        {props.children}
      </div>
    </main>
  );
}

/**
 * AddByAddress is a one-field form that adds someone by e-mail address or
 * phone number (to a chat or a team); the field empties when onAdd says
 * it worked.
 */
export function AddByAddress(props: { id: string; label: string; busy: boolean; onAdd: (address: string) => Promise<boolean> }) {
  const [addr, setAddr] = useState("");
  return (
    <form
      class="stack small-gap"
      onSubmit={async (e) => {
        e.preventDefault();
        const a = addr.trim();
        if (a && (await props.onAdd(a))) setAddr("");
      }}
    >
      <label for={props.id}>{props.label}</label>
      <div class="row">
        <input id={props.id} value={addr} onInput={(e) => setAddr(e.currentTarget.value)} placeholder="name@example.com" />
        <button type="submit" class="secondary small" disabled={props.busy || !addr.trim()}>
          Add
        </button>
      </div>
    </form>
  );
}

/**
 * atQuery finds the "@…" being typed before the caret: where the @ is and
 * what follows it, or null (an @ inside a word, across a line or another @,
 * or more than 30 characters back is no mention).
 */
export function atQuery(value: string, caret: number): { start: number; q: string } | null {
  const before = value.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at >= 0 && (at === 0 || /\s/.test(before[at - 1])) && !/[\n@]/.test(before.slice(at + 1)) && caret - at <= 30) {
    return { start: at, q: before.slice(at + 1) };
  }
  return null;
}

/** MentionOption is one entry of a MentionList: a person or a bot. */
export interface MentionOption {
  key: string;
  name: string;
  external?: boolean;
  bot?: boolean;
}

/**
 * MentionList is the listbox of people and bots to mention that the @ of a
 * message box opens; the box keeps the focus and points at the active
 * option (aria-activedescendant `${id}-${active}`).
 */
export function MentionList(props: { id: string; label: string; options: MentionOption[]; active: number; onPick: (k: number) => void }) {
  return (
    <ul class="mention-list" id={props.id} role="listbox" aria-label={props.label}>
      {props.options.map((o, k) => (
        <li
          key={o.key}
          id={`${props.id}-${k}`}
          role="option"
          aria-selected={k === props.active}
          class={k === props.active ? "active" : ""}
          onMouseDown={(e) => {
            e.preventDefault();
            props.onPick(k);
          }}
        >
          <Avatar name={o.name} external={o.external} size="sm" />
          <span>{o.name}</span>
          {o.external && <ExternalBadge />}
          {o.bot && <Tag kind="bot">Bot</Tag>}
        </li>
      ))}
    </ul>
  );
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const yearDayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** dayKey is a local calendar day, for telling days apart. */
export function dayKey(iso: string | null | undefined): string {
  return iso ? new Date(iso).toDateString() : "";
}

/** dayLabel names a day: Today, Yesterday, or its date (with the year when not this year). */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (d.toDateString() === now.toDateString()) return "Today";
  if (d.toDateString() === y.toDateString()) return "Yesterday";
  return d.getFullYear() === now.getFullYear() ? weekdayFmt.format(d) : yearDayFmt.format(d);
}

/**
 * Time shows when something happened: the time of day for today (or when
 * clock is set, always), else the date; the full date and time in a tooltip.
 */
export function Time(props: { iso: string | null | undefined; clock?: boolean; class?: string }) {
  if (!props.iso) return null;
  const d = new Date(props.iso);
  const today = new Date().toDateString() === d.toDateString();
  return (
    <time dateTime={props.iso} title={fullFmt.format(d)} class={props.class}>
      {today || props.clock ? timeFmt.format(d) : dayFmt.format(d)}
    </time>
  );
}

export function fullTime(iso: string | null | undefined): string {
  return iso ? fullFmt.format(new Date(iso)) : "";
}

/** identityLabel says what kind of account a person has, for a viewer. */
export function identityLabel(t: string, org?: string | null): string {
  switch (t) {
    case "personalMicrosoftAccountUser":
      return "Personal account";
    case "federatedUser":
      return org || "Other organisation";
    case "emailUser":
      return "Invited by email";
    case "phoneUser":
      return "Invited by phone";
    case "anonymousGuest":
      return "Joined by link (unverified)";
    default:
      return "";
  }
}
