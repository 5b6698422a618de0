// One message request (docs/rules.md §5): who it is from (name, verified address,
// organisation or "personal account", External badge), what they wrote as
// plain text (links are not links, images are not loaded), and the four
// answers.
import { useEffect, useState } from "preact/hooks";
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

export function RequestView(props: { s: State; id: string }) {
  const { s, id } = props;
  const r = s.requests.find((x) => x.chatId === id);
  const [address, setAddress] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const { busy, error, run } = useAsync();
  const fromId = r?.from.user.id;

  useEffect(() => {
    setAddress(null);
    setResult(null);
    if (!fromId) return;
    get<User>(`/v1.0/users/${encodeURIComponent(fromId)}`)
      .then((u) => setAddress(u.mail ?? u.userPrincipalName ?? null))
      .catch(() => setAddress(null));
  }, [fromId]);

  useEffect(() => {
    document.title = `Request · Parley`;
  }, []);

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
          {u.displayName} is not in your organisation. Until you accept, links in their messages are shown as text and pictures are not
          loaded. They can't see whether you've read this.
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
        <div class="request-actions">
          <button type="button" class="primary" disabled={busy} onClick={() => void answer("accept")}>
            Accept
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => void answer("decline")}>
            Decline
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => void answer("block")}>
            Block
          </button>
          <button type="button" class="danger" disabled={busy} onClick={() => void answer("reportSpam")}>
            Report spam
          </button>
        </div>
        <p class="hint">
          Accept to chat with {u.displayName}. Decline to remove the request: they can't send new ones for a while. Block stops them
          until you unblock them. Report spam also tells your admins.
        </p>
      </div>
    </section>
  );
}
