// Starting a chat by typing email addresses or phone numbers (docs/rules.md §6):
// one address makes a 1:1 chat, several a group chat with a topic.
import { setPageTitle } from "../title";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Chat, type User, get, memberFor, post } from "../api";
import { navigate } from "../router";
import { type State, session } from "../session";
import { Avatar, ErrorBox, Field, Link, useAsync } from "../ui";

function split(s: string): string[] {
  return s
    .split(/[,;\n]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function NewChat(props: { s: State }) {
  const [people, setPeople] = useState<string[]>([]);
  const [input, setInput] = useState("");
  const [topic, setTopic] = useState("");
  const { busy, error, run } = useAsync();
  const personal = props.s.me?.userType === "Personal";

  const addressRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    setPageTitle("New chat");
    // autofocus acts only on the first page load; focus here on every visit.
    addressRef.current?.focus();
  }, []);

  // Suggestions: my organisation and people I already chat with, never
  // anyone else (the server decides; an outsider is reached by typing the
  // full address).
  const [suggest, setSuggest] = useState<User[]>([]);
  useEffect(() => {
    const q = input.trim();
    if (q.length < 2 || /[,;]/.test(q)) {
      setSuggest([]);
      return;
    }
    const t = window.setTimeout(() => {
      get<{ value: User[] }>(`/parley/v1/people?q=${encodeURIComponent(q)}&$top=5`).then(
        (r) => setSuggest(r.value.filter((u) => u.id !== props.s.me?.id)),
        () => setSuggest([]),
      );
    }, 200);
    return () => clearTimeout(t);
  }, [input]);
  const all = [...people, ...split(input)].filter((v, i, a) => a.indexOf(v) === i);
  const group = all.length > 1;

  function addTyped() {
    const add = split(input);
    if (!add.length) return;
    setPeople([...people, ...add.filter((a) => !people.includes(a))]);
    setInput("");
  }

  async function start(e: Event) {
    e.preventDefault();
    if (!all.length) return;
    const chat = await run(() =>
      post<Chat>("/v1.0/chats", {
        chatType: group ? "group" : "oneOnOne",
        ...(group ? { topic: topic.trim() } : {}),
        members: all.map(memberFor),
      }),
    );
    if (chat) {
      await session.loadChat(chat.id).catch(() => undefined);
      navigate(`/chats/${encodeURIComponent(chat.id)}`, true);
    }
  }

  return (
    <section class="main form-page" aria-labelledby="new-chat-title">
      <div class="chat-head">
        <Link href="/" class="back" aria-label="Back to chats">
          ‹ <span class="back-text">Chats</span>
        </Link>
        <h1 id="new-chat-title" class="chat-title">
          New chat
        </h1>
      </div>
      <form class="stack narrow" onSubmit={start} noValidate>
        <p class="muted">
          {personal
            ? "Type the exact email address or phone number of the person you want to chat with."
            : "Type a full email address or phone number: a colleague, someone in another organisation, or anyone with a personal account. People without an account get an invitation."}
        </p>
        {people.length > 0 && (
          <ul class="chips" aria-label="People in the new chat">
            {people.map((p) => (
              <li key={p} class="chip">
                {p}
                <button
                  type="button"
                  class="chip-x"
                  aria-label={`Remove ${p}`}
                  onClick={() => setPeople(people.filter((x) => x !== p))}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <div class="field">
          <label for="new-chat-address">Email address or phone number</label>
          <div class="row">
            <input
              id="new-chat-address"
              type="text"
              inputMode="email"
              autoComplete="off"
              placeholder="name@example.com or +1 415 555 0100"
              value={input}
              onInput={(e) => setInput(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === ",") {
                  e.preventDefault();
                  addTyped();
                }
              }}
              aria-describedby="new-chat-hint"
              ref={addressRef}
            />
            <button type="button" class="secondary" onClick={addTyped} disabled={!input.trim()}>
              Add another
            </button>
          </div>
          <p class="hint" id="new-chat-hint">
            Add more than one person to make a group chat.
          </p>
          {suggest.length > 0 && (
            <ul class="suggestions" aria-label="Suggestions">
              {suggest.map((u) => {
                const addr = u.mail ?? u.userPrincipalName;
                return (
                  <li key={u.id}>
                    <button
                      type="button"
                      class="ghost suggestion"
                      onClick={() => {
                        if (!people.includes(addr)) setPeople([...people, addr]);
                        setInput("");
                        setSuggest([]);
                        addressRef.current?.focus();
                      }}
                    >
                      <Avatar name={u.displayName} external={u.isExternal} size="sm" />
                      <span>
                        {u.displayName} <span class="muted small">{addr}</span>
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </div>
        {group && (
          <Field id="new-chat-topic" label="Group name (optional)" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
        )}
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !all.length}>
            {busy ? "Starting…" : group ? "Start group chat" : "Start chat"}
          </button>
        </div>
      </form>
    </section>
  );
}
