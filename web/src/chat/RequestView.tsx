// One message request (docs/rules.md §5): who it is from (name, verified address,
// organisation or "personal account", External badge), what they wrote as
// plain text (links are not links, images are not loaded), and the four
// answers.
import { setPageTitle } from "../title";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Message, type User, get } from "../api";
import { plainText } from "../richtext";
import { navigate } from "../router";
import { type State, session } from "../session";
import { Avatar, ErrorBox, ExternalBadge, Link, Time, useAsync } from "../ui";
import { orgLine } from "./Sidebar";

/** oldestFirst orders previews as a chat reads, whatever order they came in. */
function oldestFirst(ms: Message[]): Message[] {
  return ms.slice().sort((a, b) => (a.createdDateTime ?? "").localeCompare(b.createdDateTime ?? "") || Number(a.id) - Number(b.id));
}

type Answer = "accept" | "decline" | "block" | "reportSpam";

const done: Record<Exclude<Answer, "accept">, string> = {
  decline: "Request declined. They can't send you new requests for a while.",
  block: "Blocked. They can't reach you until you unblock them in Settings.",
  reportSpam: "Reported as spam and blocked. Thanks for helping keep Parley safe.",
};

const confirmTitle: Record<Exclude<Answer, "accept">, (name: string) => string> = {
  decline: (n) => `Decline ${n}'s request?`,
  block: (n) => `Block ${n}?`,
  reportSpam: (n) => `Report ${n} as spam?`,
};

const confirmButton: Record<Exclude<Answer, "accept">, string> = {
  decline: "Decline request",
  block: "Block",
  reportSpam: "Report and block",
};

function confirmText(a: Exclude<Answer, "accept">, name: string, personal: boolean): string {
  switch (a) {
    case "decline":
      return `The request goes away and ${name} can't send you a new one for a while. They are not told that you declined.`;
    case "block":
      return `${name} can't reach you until you unblock them in Settings. They are not told.`;
    case "reportSpam":
      return personal
        ? `${name} is blocked, and the report counts towards stopping their requests to other people too.`
        : `${name} is blocked, your organisation's admins see the report, and it counts towards stopping their requests to other people.`;
  }
}

export function RequestView(props: { s: State; id: string }) {
  const { s, id } = props;
  const r = s.requests.find((x) => x.chatId === id);
  const [address, setAddress] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Exclude<Answer, "accept"> | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const personal = s.me?.userType === "Personal";
  const { busy, error, run } = useAsync();
  const fromId = r?.from.user.id;

  useEffect(() => {
    setAddress(null);
    setResult(null);
    setConfirm(null);
    if (!fromId) return;
    get<User>(`/v1.0/users/${encodeURIComponent(fromId)}`)
      .then((u) => setAddress(u.mail ?? u.userPrincipalName ?? null))
      .catch(() => setAddress(null));
  }, [fromId]);

  useEffect(() => {
    setPageTitle("Request");
  }, []);

  function ask(a: Exclude<Answer, "accept">) {
    setConfirm(a);
    requestAnimationFrame(() => confirmRef.current?.focus());
  }

  async function answer(a: Answer) {
    const ok = await run(async () => {
      await session.answer(id, a);
      return true;
    });
    if (!ok) return;
    if (a === "accept") navigate(`/chats/${encodeURIComponent(id)}`, true);
    else setResult(done[a]);
  }

  if (result) {
    return (
      <section class="main request" aria-label="Request">
        <div class="chat-head">
          <Link href="/requests" class="back" aria-label="Back to requests">
            ‹ <span class="back-text">Requests</span>
          </Link>
        </div>
        <div class="empty">
          <p role="status">{result}</p>
          <Link href="/requests">Back to requests</Link>
        </div>
      </section>
    );
  }
  if (!r) {
    return (
      <section class="main request" aria-label="Request">
        <div class="chat-head">
          <Link href="/requests" class="back" aria-label="Back to requests">
            ‹ <span class="back-text">Requests</span>
          </Link>
        </div>
        <p class="empty muted">{s.requestsLoaded ? "This request is no longer waiting." : "Loading…"}</p>
      </section>
    );
  }

  const u = r.from.user;
  const topic = r.chat?.chatType === "group" ? r.chat.topic : null;
  return (
    <section class="main request" aria-label={`Request from ${u.displayName}`}>
      <div class="chat-head">
        <Link href="/requests" class="back" aria-label="Back to requests">
          ‹ <span class="back-text">Requests</span>
        </Link>
        <h1 class="chat-title">Message request</h1>
      </div>
      <div class="request-body">
        <div class="request-card">
          <Avatar name={u.displayName} external={r.isExternal} />
          <div>
            <h2 class="request-name">
              {u.displayName} {r.isExternal && <ExternalBadge />}
            </h2>
            {address && (
              <p class="request-address" data-testid="request-address">
                {address}
              </p>
            )}
            <p class="muted" data-testid="request-org">
              {orgLine(r)}
            </p>
            {topic && <p class="muted">Group chat: {topic}</p>}
          </div>
        </div>
        <p class="safety">
          {personal ? `You haven't chatted with ${u.displayName} before.` : `${u.displayName} is not in your organisation.`} Until you
          accept, links in their messages are shown as text and pictures are not loaded. They can't see whether you've read this.
        </p>
        <h3 class="section-title">Their messages</h3>
        {r.previews.length === 0 ? (
          <p class="muted">No messages yet.</p>
        ) : (
          <ol class="previews" aria-label="Message previews">
            {oldestFirst(r.previews).map((m) => (
              <li key={m.id} class="preview">
                <div class="preview-text">{plainText(m.body.contentType, m.body.content)}</div>
                <Time iso={m.createdDateTime} />
              </li>
            ))}
          </ol>
        )}
        <ErrorBox error={error} />
        {confirm ? (
          <div class="panel confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
            <h3 id="confirm-title" class="section-title">
              {confirmTitle[confirm](u.displayName)}
            </h3>
            <p id="confirm-text">{confirmText(confirm, u.displayName, personal)}</p>
            <div class="row">
              <button
                type="button"
                class={confirm === "decline" ? "primary" : "danger"}
                disabled={busy}
                ref={confirmRef}
                onClick={() => void answer(confirm)}
              >
                {confirmButton[confirm]}
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => setConfirm(null)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <>
            <div class="request-actions">
              <button type="button" class="primary" disabled={busy} onClick={() => void answer("accept")}>
                Accept
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => ask("decline")}>
                Decline
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => ask("block")}>
                Block
              </button>
              <button type="button" class="danger" disabled={busy} onClick={() => ask("reportSpam")}>
                Report spam
              </button>
            </div>
            <p class="hint">
              Accept to chat with {u.displayName}. Decline to remove the request: they can't send new ones for a while. Block stops them
              until you unblock them. Report spam blocks them too{personal ? "" : " and tells your organisation's admins"}.
            </p>
          </>
        )}
      </div>
    </section>
  );
}
