// Search (docs/rules.md §7): the messages I may see, newest or best first,
// with the matched words highlighted; a hit opens its chat or channel. The
// hit names a channel only by ids, so its label comes from my teams. The server trims
// results by membership, so nothing here decides what may be shown.
import { useEffect, useState } from "preact/hooks";
import { type Message, enc, get, nextPath } from "../api";
import { navigate } from "../router";
import { type State, chatTitle } from "../session";
import { useTeams } from "../teams/Teams";
import { setPageTitle } from "../title";
import { Avatar, ErrorBox, Link, PersonBadge, Time } from "../ui";

interface Hit {
  hitId: string;
  rank: number;
  summary: string;
  // A channel message has chatId null and names its team and channel instead.
  resource: Omit<Message, "chatId"> & { chatId: string | null; channelIdentity?: { teamId: string; channelId: string } };
}

/** decode turns HTML-escaped text into text, in an inert document (nothing runs or loads). */
function decode(s: string): string {
  return new DOMParser().parseFromString(s, "text/html").body.textContent ?? "";
}

/** Summary shows Graph's summary: <c0>match</c0> highlighted, <ddd/> as an ellipsis, the rest as text. */
export function Summary(props: { text: string }) {
  const parts = props.text.replace(/<ddd\/>/g, "…").split(/<c0>(.*?)<\/c0>/g);
  return (
    <span class="hit-summary">
      {parts.map((p, i) => (i % 2 ? <mark key={i}>{decode(p)}</mark> : decode(p)))}
    </span>
  );
}

export function SearchPage(props: { s: State }) {
  const q = new URLSearchParams(location.search).get("q") ?? "";
  const [sort, setSort] = useState<"newest" | "relevance">("newest");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { teams } = useTeams();
  useEffect(() => setPageTitle(q ? `Search: ${q}` : "Search"), [q]);
  useEffect(() => {
    setHits(null);
    setError(null);
    if (!q.trim()) {
      setHits([]);
      return;
    }
    get<{ value: Hit[]; total: number; "@odata.nextLink"?: string }>(`/parley/v1/search/messages?q=${enc(q)}&sort=${sort}&$top=25`).then((r) => {
      setHits(r.value);
      setTotal(r.total);
      setNext(r["@odata.nextLink"] ?? null);
    }, setError);
  }, [q, sort]);
  async function more() {
    if (!next) return;
    const r = await get<{ value: Hit[]; "@odata.nextLink"?: string }>(nextPath(next)).catch((e) => {
      setError(e);
      return null;
    });
    if (r) {
      setHits((h) => [...(h ?? []), ...r.value]);
      setNext(r["@odata.nextLink"] ?? null);
    }
  }
  return (
    <section class="main form-page search-page" aria-labelledby="search-title">
      <div class="chat-head">
        <Link href="/" class="back" aria-label="Back to chats">
          ‹ <span class="back-text">Chats</span>
        </Link>
        <h1 id="search-title" class="chat-title">
          Search
        </h1>
      </div>
      <div class="stack narrow">
        <p class="muted small">
          Words match as prefixes; "quotes" find a phrase; <code>from:</code> an address or <code>me</code>, <code>in:</code> a chat's
          name, <code>after:</code>, <code>before:</code> or <code>on:</code> a date (2026-12-01).
        </p>
        <fieldset class="segmented">
          <legend>Order</legend>
          <label>
            <input type="radio" name="search-sort" checked={sort === "newest"} onChange={() => setSort("newest")} /> Newest first
          </label>
          <label>
            <input type="radio" name="search-sort" checked={sort === "relevance"} onChange={() => setSort("relevance")} /> Best match first
          </label>
        </fieldset>
        <ErrorBox error={error} />
        {hits === null ? (
          <p class="muted">Searching…</p>
        ) : hits.length === 0 ? (
          <p class="muted">{q.trim() ? `Nothing found for “${q}”.` : "Type what to look for in the search box."}</p>
        ) : (
          <>
            <p class="muted small" role="status">
              {total} {total === 1 ? "message" : "messages"}
            </p>
            <ol class="hits" aria-label="Search results">
              {hits.map((h) => {
                const m = h.resource;
                const ci = m.channelIdentity;
                let href: string;
                let where: string;
                if (ci) {
                  href = `/teams/${enc(ci.teamId)}/channels/${enc(ci.channelId)}`;
                  const t = teams?.find((x) => x.team.id === ci.teamId);
                  const c = t?.channels.find((x) => x.id === ci.channelId);
                  where = t && c ? `# ${c.displayName} · ${t.team.displayName}` : "a channel";
                } else {
                  const id = m.chatId ?? "";
                  href = `/chats/${enc(id)}`;
                  const e = props.s.chats[id];
                  where = e ? chatTitle(e, props.s.me) : "a chat";
                }
                const who = m.from.user?.displayName ?? m.from.application?.displayName ?? "Someone";
                return (
                  <li key={h.hitId}>
                    <a
                      href={href}
                      class="hit"
                      onClick={(ev) => {
                        ev.preventDefault();
                        navigate(href);
                      }}
                    >
                      <Avatar name={who} external={m.from.user?.isExternal} size="sm" />
                      <span class="hit-main">
                        <span class="hit-head">
                          <strong>{who}</strong> <PersonBadge identityType={m.from.user?.userIdentityType} external={m.from.user?.isExternal} />
                          <span class="muted small">in {where}</span>
                          <Time iso={m.createdDateTime} />
                        </span>
                        <Summary text={h.summary} />
                      </span>
                    </a>
                  </li>
                );
              })}
            </ol>
            {next && (
              <div class="center">
                <button type="button" class="secondary" onClick={() => void more()}>
                  More results
                </button>
              </div>
            )}
          </>
        )}
      </div>
    </section>
  );
}

/** SearchBox is the search field of the top bar. */
export function SearchBox() {
  const [q, setQ] = useState(() => (location.pathname === "/search" ? (new URLSearchParams(location.search).get("q") ?? "") : ""));
  return (
    <form
      class="search-box"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) navigate(`/search?q=${enc(q.trim())}`);
      }}
    >
      <label for="search-input" class="visually-hidden">
        Search messages
      </label>
      <input id="search-input" type="search" placeholder="Search messages" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
    </form>
  );
}
