// The left column: my chats and, apart from them, my message requests.
import type { ChatRequest } from "../api";
import { plainText } from "../richtext";
import { type ChatEntry, type State, chatTitle, sortedChats } from "../session";
import { TeamList } from "../teams/Teams";
import { Avatar, ExternalBadge, Link, Tag, Time } from "../ui";

export function Sidebar(props: { s: State; tab: "chats" | "requests" | "teams"; selected: string | null }) {
  const { s, tab } = props;
  const nReq = s.requests.length;
  return (
    <aside class="sidebar" aria-label="Conversations">
      <div class="sidebar-head">
        <nav class="tabs" aria-label="Lists">
          <Link href="/" class={`tab${tab === "chats" ? " active" : ""}`} aria-current={tab === "chats" ? "page" : undefined}>
            Chats
          </Link>
          <Link
            href="/requests"
            class={`tab${tab === "requests" ? " active" : ""}`}
            aria-current={tab === "requests" ? "page" : undefined}
          >
            Requests
            {nReq > 0 && (
              <span class="count" aria-label={`${nReq} waiting`}>
                {nReq}
              </span>
            )}
          </Link>
          <Link href="/teams" class={`tab${tab === "teams" ? " active" : ""}`} aria-current={tab === "teams" ? "page" : undefined}>
            Teams
          </Link>
        </nav>
        <div class="row new-buttons">
          <Link href="/new" class="button primary new-chat" data-testid="new-chat">
            New chat
          </Link>
          <Link href="/meetings/new" class="button secondary" data-testid="new-meeting">
            Meet
          </Link>
        </div>
      </div>
      {tab === "chats" ? (
        <ChatList s={s} selected={props.selected} />
      ) : tab === "teams" ? (
        <TeamList selected={props.selected} />
      ) : (
        <RequestList s={s} selected={props.selected} />
      )}
    </aside>
  );
}

/**
 * arrows moves focus through a list of chats with the arrow keys (and Home,
 * End), as in a list box; Enter opens the focused one.
 */
function arrows(e: KeyboardEvent): void {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key)) return;
  const list = e.currentTarget as HTMLElement;
  const links = Array.from(list.querySelectorAll<HTMLAnchorElement>("a.conv"));
  if (!links.length) return;
  const i = links.indexOf(document.activeElement as HTMLAnchorElement);
  let j = i;
  if (e.key === "ArrowDown") j = i < 0 ? 0 : Math.min(links.length - 1, i + 1);
  else if (e.key === "ArrowUp") j = i < 0 ? 0 : Math.max(0, i - 1);
  else if (e.key === "Home") j = 0;
  else j = links.length - 1;
  e.preventDefault();
  links[j].focus();
}

function lastLine(e: ChatEntry, s: State): string {
  if (e.last) {
    if (e.last.deletedDateTime) return "Message deleted";
    const who = e.last.from.user?.id === s.me?.id ? "You: " : "";
    const t = plainText(e.last.body.contentType, e.last.body.content);
    return who + (t || (e.last.attachments.length ? "Card" : ""));
  }
  const others = (e.members ?? []).filter((m) => m.userId !== s.me?.id);
  if (others.some((m) => m.requestState === "pending")) return "Waiting for them to accept";
  return "";
}

function ChatList(props: { s: State; selected: string | null }) {
  const { s } = props;
  if (!s.chatsLoaded) return <p class="empty muted">Loading chats…</p>;
  const list = sortedChats(s);
  if (!list.length) {
    return (
      <div class="empty">
        <p>No chats yet.</p>
        <p class="muted small">Start one with anyone's email address or phone number.</p>
      </div>
    );
  }
  return (
    <ul class="conv-list" aria-label="Chats" onKeyDown={arrows}>
      {list.map((e) => {
        const title = chatTitle(e, s.me);
        const others = (e.members ?? []).filter((m) => m.userId !== s.me?.id);
        const pending = others.some((m) => m.requestState === "pending");
        const unreachable =
          s.unreachable[e.chat.id] || (e.chat.chatType === "oneOnOne" && others.length > 0 && others.every((m) => m.requestState === "declined"));
        return (
          <li key={e.chat.id}>
            <Link
              href={`/chats/${encodeURIComponent(e.chat.id)}`}
              class={`conv${props.selected === e.chat.id ? " selected" : ""}${e.unread ? " unread" : ""}`}
              aria-current={props.selected === e.chat.id ? "page" : undefined}
              data-chat-id={e.chat.id}
            >
              <Avatar
                name={title}
                external={e.chat.isExternal}
                presence={e.chat.chatType === "oneOnOne" && others[0]?.userId ? s.presence[others[0].userId] : undefined}
              />
              <span class="conv-main">
                <span class="conv-top">
                  <span class="conv-title">{title}</span>
                  <Time iso={e.last?.createdDateTime ?? e.chat.lastUpdatedDateTime} />
                </span>
                <span class="conv-tags">
                  {e.chat.isExternal && <ExternalBadge title="This chat has people from outside your organisation" />}
                  {e.chat.isReadOnly && <Tag kind="readonly">Read-only</Tag>}
                  {pending && !unreachable && <Tag kind="pending">Pending</Tag>}
                  {unreachable && <Tag kind="readonly">Can't be reached</Tag>}
                  {e.unread > 0 && (
                    <span class="unread-count" aria-label={`${e.unread} unread`} data-testid="unread">
                      {e.unread > 99 ? "99+" : e.unread}
                    </span>
                  )}
                </span>
                <span class="conv-last">{lastLine(e, s)}</span>
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}

export function orgLine(r: ChatRequest): string {
  return r.organizationName ?? "Personal account";
}

function RequestList(props: { s: State; selected: string | null }) {
  const { s } = props;
  if (!s.requestsLoaded) return <p class="empty muted">Loading requests…</p>;
  if (!s.requests.length) {
    return (
      <div class="empty">
        <p>No requests.</p>
        <p class="muted small">When someone outside your organisation starts a chat with you, it waits here until you accept it.</p>
      </div>
    );
  }
  return (
    <ul class="conv-list" aria-label="Requests" onKeyDown={arrows}>
      {s.requests.map((r) => {
        const name = r.from.user.displayName;
        // The newest preview, whatever order they came in.
        const first = r.previews.reduce<(typeof r.previews)[number] | undefined>(
          (a, m) => (!a || (m.createdDateTime ?? "") > (a.createdDateTime ?? "") ? m : a),
          undefined,
        );
        return (
          <li key={r.chatId}>
            <Link
              href={`/requests/${encodeURIComponent(r.chatId)}`}
              class={`conv${props.selected === r.chatId ? " selected" : ""}`}
              aria-current={props.selected === r.chatId ? "page" : undefined}
              data-request-id={r.chatId}
            >
              <Avatar name={name} external={r.isExternal} />
              <span class="conv-main">
                <span class="conv-top">
                  <span class="conv-title">{name}</span>
                  <Time iso={first?.createdDateTime} />
                </span>
                <span class="conv-tags">
                  {r.isExternal && <ExternalBadge />}
                  <span class="muted small">{orgLine(r)}</span>
                </span>
                <span class="conv-last">
                  {first ? plainText(first.body.contentType, first.body.content) : "Wants to chat with you"}
                </span>
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
