// The signed-in session: who I am, my chats and their members, my message
// requests, the messages of the chats I opened, and the events connection
// that keeps all of it current.
import { useEffect, useState } from "preact/hooks";
import {
  type Chat,
  type ChatRequest,
  type Member,
  type Message,
  type Page,
  type User,
  del,
  enc,
  get,
  getAll,
  getToken,
  nextPath,
  patch,
  post,
} from "./api";
import { type ConnState, type EventFrame, Events } from "./events";

export interface ChatEntry {
  chat: Chat;
  members: Member[] | null;
  unread: boolean;
  /** last is the newest message this client has seen (live or loaded). */
  last?: Message;
}

export interface MessageList {
  /** items are oldest first. */
  items: Message[];
  next?: string;
  loading: boolean;
  error?: string;
}

export interface State {
  me: User | null;
  chats: Record<string, ChatEntry>;
  chatsLoaded: boolean;
  requests: ChatRequest[];
  requestsLoaded: boolean;
  messages: Record<string, MessageList>;
  conn: ConnState;
  openChatId: string | null;
  loadError?: string;
}

const initial = (): State => ({
  me: null,
  chats: {},
  chatsLoaded: false,
  requests: [],
  requestsLoaded: false,
  messages: {},
  conn: "connecting",
  openChatId: null,
});

export class Session {
  state: State = initial();
  private listeners = new Set<() => void>();
  private events: Events | null = null;
  private reloadTimer: number | undefined;
  // Events and fetches race: a GET that started before an event may answer
  // after it with the older state. tick counts events; touched keeps the
  // tick of each chat's last event; a fetched chat older than that is
  // dropped. The seq counters keep only the newest of overlapping loads.
  private tick = 0;
  private touched = new Map<string, number>();
  private chatsSeq = 0;
  private requestsSeq = 0;

  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => void this.listeners.delete(f);
  }

  private set(patch: Partial<State>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((f) => f());
  }

  private setChat(id: string, f: (e: ChatEntry) => ChatEntry): void {
    const cur = this.state.chats[id];
    if (!cur) return;
    this.set({ chats: { ...this.state.chats, [id]: f(cur) } });
  }

  private setMessages(id: string, f: (l: MessageList) => MessageList): void {
    const cur = this.state.messages[id] ?? { items: [], loading: false };
    this.set({ messages: { ...this.state.messages, [id]: f(cur) } });
  }

  /** start loads who I am and connects the events; data loads on connect. */
  async start(): Promise<void> {
    const me = await get<User>("/v1.0/me");
    this.set({ me });
    this.events = new Events({
      token: getToken,
      onEvent: (e) => this.onEvent(e),
      onState: (conn) => this.set({ conn }),
      onOpen: (resync) => {
        if (resync) void this.reload();
      },
    });
    this.events.start();
    // Load at once too, so the list shows even if the socket is slow.
    void this.reload();
  }

  stop(): void {
    this.events?.stop();
    this.events = null;
    clearTimeout(this.reloadTimer);
    this.touched.clear();
    this.state = initial();
  }

  /** reload fetches chats, requests and the open chat's messages again. */
  async reload(): Promise<void> {
    try {
      await Promise.all([this.loadChats(), this.loadRequests()]);
      const open = this.state.openChatId;
      if (open && this.state.messages[open]) await this.loadMessages(open);
      this.set({ loadError: undefined });
    } catch (e) {
      this.set({ loadError: e instanceof Error ? e.message : String(e) });
    }
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = window.setTimeout(() => void this.reload(), 150);
  }

  /**
   * stale tells whether an event changed a chat after a fetch that started
   * at tick: then the fetched copy is older than what we hold.
   */
  private stale(id: string, tick: number): boolean {
    return (this.touched.get(id) ?? 0) > tick;
  }

  async loadChats(): Promise<void> {
    const seq = ++this.chatsSeq;
    const tick = this.tick;
    const list = await getAll<Chat>("/v1.0/me/chats?$top=50");
    if (seq !== this.chatsSeq) return; // a newer load is on its way
    const chats: Record<string, ChatEntry> = {};
    for (const c of list) {
      const old = this.state.chats[c.id];
      const chat = old && this.stale(c.id, tick) ? old.chat : c;
      chats[c.id] = { chat, members: old?.members ?? null, unread: old?.unread ?? false, last: old?.last };
    }
    // Chats that events brought in after the fetch started stay.
    for (const [id, e] of Object.entries(this.state.chats)) {
      if (!chats[id] && this.stale(id, tick)) chats[id] = e;
    }
    this.set({ chats, chatsLoaded: true });
    await Promise.all(
      list.map((c) =>
        Promise.all([
          this.loadMembers(c.id).catch(() => undefined),
          chats[c.id].last ? undefined : this.loadLast(c.id).catch(() => undefined),
        ]),
      ),
    );
  }

  /**
   * loadLast fetches a chat's newest message for the list. Graph's
   * lastMessagePreview ($expand) would save this call per chat.
   */
  private async loadLast(id: string): Promise<void> {
    const page = await get<Page<Message>>(`/v1.0/chats/${enc(id)}/messages?$top=1`);
    const m = page.value[0];
    if (m) this.setChat(id, (e) => (e.last && Number(e.last.id) >= Number(m.id) ? e : { ...e, last: m }));
  }

  async loadMembers(id: string): Promise<void> {
    const page = await get<Page<Member>>(`/v1.0/chats/${enc(id)}/members`);
    this.setChat(id, (e) => ({ ...e, members: page.value }));
  }

  async loadChat(id: string): Promise<void> {
    const tick = this.tick;
    const chat = await get<Chat>(`/v1.0/chats/${enc(id)}`);
    if (!this.state.chats[id] || !this.stale(id, tick)) this.upsertChat(chat);
    await this.loadMembers(id);
  }

  private upsertChat(chat: Chat): void {
    const old = this.state.chats[chat.id];
    this.set({
      chats: {
        ...this.state.chats,
        [chat.id]: { chat, members: old?.members ?? null, unread: old?.unread ?? false, last: old?.last },
      },
    });
  }

  async loadRequests(): Promise<void> {
    const seq = ++this.requestsSeq;
    const page = await get<{ value: ChatRequest[] }>("/parley/v1/me/requests");
    if (seq !== this.requestsSeq) return; // a newer load is on its way
    this.set({ requests: page.value, requestsLoaded: true });
  }

  /** openChat marks a chat as the one on screen and loads its messages. */
  async openChat(id: string | null): Promise<void> {
    this.set({ openChatId: id });
    if (!id) return;
    if (this.state.chats[id]?.unread) this.setChat(id, (e) => ({ ...e, unread: false }));
    if (!this.state.chats[id]) {
      try {
        await this.loadChat(id);
      } catch (e) {
        this.setMessages(id, (l) => ({ ...l, error: e instanceof Error ? e.message : String(e) }));
        return;
      }
    }
    await this.loadMessages(id);
    post(`/v1.0/chats/${enc(id)}/markChatReadForUser`).catch(() => undefined);
  }

  async loadMessages(id: string): Promise<void> {
    this.setMessages(id, (l) => ({ ...l, loading: true, error: undefined }));
    try {
      const tick = this.tick;
      const page = await get<Page<Message>>(`/v1.0/chats/${enc(id)}/messages?$top=50`);
      let items = page.value.slice().reverse();
      if (this.stale(id, tick)) {
        // Events came in meanwhile: what they brought wins over the page.
        const byId = new Map(items.map((m) => [m.id, m]));
        for (const m of this.state.messages[id]?.items ?? []) byId.set(m.id, m);
        items = Array.from(byId.values()).sort((a, b) => Number(a.id) - Number(b.id));
      }
      this.setMessages(id, () => ({ items, next: page["@odata.nextLink"], loading: false }));
      if (items.length) this.setChat(id, (e) => ({ ...e, last: items[items.length - 1] }));
    } catch (e) {
      this.setMessages(id, (l) => ({ ...l, loading: false, error: e instanceof Error ? e.message : String(e) }));
    }
  }

  async loadOlder(id: string): Promise<void> {
    const cur = this.state.messages[id];
    if (!cur?.next || cur.loading) return;
    this.setMessages(id, (l) => ({ ...l, loading: true }));
    try {
      const page = await get<Page<Message>>(nextPath(cur.next));
      const older = page.value.slice().reverse();
      this.setMessages(id, (l) => ({
        items: [...older.filter((m) => !l.items.some((x) => x.id === m.id)), ...l.items],
        next: page["@odata.nextLink"],
        loading: false,
      }));
    } catch (e) {
      this.setMessages(id, (l) => ({ ...l, loading: false, error: e instanceof Error ? e.message : String(e) }));
    }
  }

  private putMessage(m: Message): void {
    const list = this.state.messages[m.chatId];
    if (list) {
      const i = list.items.findIndex((x) => x.id === m.id);
      const items = list.items.slice();
      if (i >= 0) items[i] = m;
      else {
        items.push(m);
        items.sort((a, b) => Number(a.id) - Number(b.id));
      }
      this.setMessages(m.chatId, (l) => ({ ...l, items }));
    }
  }

  async send(chatId: string, body: unknown): Promise<void> {
    const m = await post<Message>(`/v1.0/chats/${enc(chatId)}/messages`, body);
    this.putMessage(m);
    this.touch(m);
  }

  async edit(chatId: string, messageId: string, body: unknown): Promise<void> {
    await patch(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}`, body);
    const m = await get<Message>(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}`);
    this.putMessage(m);
  }

  async remove(chatId: string, messageId: string): Promise<void> {
    await del(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}`);
    const m = await get<Message>(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}`).catch(() => null);
    if (m) this.putMessage(m);
  }

  /** touch moves a chat up the list for a new message. */
  private touch(m: Message): void {
    this.setChat(m.chatId, (e) => ({
      ...e,
      chat: { ...e.chat, lastUpdatedDateTime: m.createdDateTime ?? e.chat.lastUpdatedDateTime },
      last: m,
      unread: e.unread || (this.state.openChatId !== m.chatId && m.from.user?.id !== this.state.me?.id),
    }));
  }

  async answer(chatId: string, answer: "accept" | "decline" | "block" | "reportSpam"): Promise<void> {
    await post(`/parley/v1/me/requests/${enc(chatId)}/${answer}`);
    this.set({ requests: this.state.requests.filter((r) => r.chatId !== chatId) });
    if (answer === "accept") await this.loadChat(chatId);
  }

  private onEvent(e: EventFrame): void {
    const id = e.chatId ?? "";
    this.tick++;
    if (id) this.touched.set(id, this.tick);
    const isRequest = this.state.requests.some((r) => r.chatId === id);
    switch (e.type) {
      case "messageCreated":
      case "messageUpdated":
      case "messageDeleted": {
        const m = e.message as Message | undefined;
        if (isRequest) {
          // Previews come from the server as plain text (docs/rules.md §5).
          void this.loadRequests();
          return;
        }
        if (!this.state.chats[id]) {
          this.scheduleReload();
          return;
        }
        if (m) {
          this.putMessage(m);
          if (e.type === "messageCreated") this.touch(m);
          else if (this.state.chats[id]?.last?.id === m.id) this.setChat(id, (c) => ({ ...c, last: m }));
          if (e.type === "messageCreated" && this.state.openChatId === id) {
            post(`/v1.0/chats/${enc(id)}/markChatReadForUser`).catch(() => undefined);
          }
        }
        return;
      }
      case "memberAdded":
      case "memberRemoved": {
        const m = e.member as Member | undefined;
        if (e.type === "memberRemoved" && m?.userId && m.userId === this.state.me?.id) {
          const chats = { ...this.state.chats };
          delete chats[id];
          this.set({ chats });
          return;
        }
        if (this.state.chats[id]) void this.loadMembers(id).catch(() => undefined);
        else this.scheduleReload();
        return;
      }
      case "chatCreated":
      case "chatUpdated": {
        const c = e.chat as Chat | undefined;
        if (c && (c.requestState === undefined || c.requestState === "" || c.requestState === "accepted")) {
          this.upsertChat(c);
          void this.loadMembers(c.id).catch(() => undefined);
        } else {
          this.scheduleReload();
        }
        return;
      }
      case "requestReceived":
      case "requestDeclined":
        void this.loadRequests().catch(() => undefined);
        return;
      case "requestAccepted":
        // Either side: the chat joins the list, the member shows who it is.
        this.scheduleReload();
        return;
      case "chatReadOnly":
        this.setChat(id, (c) => ({ ...c, chat: { ...c.chat, isReadOnly: true, readOnlyReason: String(e.reason ?? "") } }));
        return;
      case "chatWritable":
        this.setChat(id, (c) => ({ ...c, chat: { ...c.chat, isReadOnly: false, readOnlyReason: undefined } }));
        return;
      case "resync":
        this.scheduleReload();
        return;
    }
  }
}

export const session = new Session();

/** useSession re-renders on every session change. */
export function useSession(): State {
  const [, bump] = useState(0);
  useEffect(() => session.subscribe(() => bump((n) => n + 1)), []);
  return session.state;
}

/** chatTitle names a chat for me: its topic, or the other people. */
export function chatTitle(e: ChatEntry, me: User | null): string {
  if (e.chat.chatType === "group" && e.chat.topic) return e.chat.topic;
  const others = (e.members ?? []).filter((m) => !me || m.userId !== me.id);
  if (others.length) return others.map((m) => m.displayName || m.email || "Someone").join(", ");
  if (e.members) return e.chat.chatType === "group" ? "Group chat" : "Just you";
  return "Chat";
}

/** sortedChats lists chats newest first. */
export function sortedChats(s: State): ChatEntry[] {
  return Object.values(s.chats).sort((a, b) =>
    (b.chat.lastUpdatedDateTime ?? b.chat.createdDateTime ?? "").localeCompare(
      a.chat.lastUpdatedDateTime ?? a.chat.createdDateTime ?? "",
    ),
  );
}
