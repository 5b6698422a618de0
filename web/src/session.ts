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
  ApiError,
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
import { plainText } from "./richtext";
import { navigate } from "./router";

export interface ChatEntry {
  chat: Chat;
  members: Member[] | null;
  /** unread counts messages from others not yet seen (0: none). */
  unread: number;
  /** last is the newest message this client has seen (live or loaded). */
  last?: Message;
}

/** Outgoing is a message on its way (or that failed to go) from this tab. */
export interface Outgoing {
  key: string;
  chatId: string;
  body: unknown;
  /** text is what the composer held, shown while sending and on failure. */
  text: string;
  createdDateTime: string;
  state: "sending" | "failed";
  error?: string;
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
  /** outgoing messages per chat, oldest first. */
  outgoing: Record<string, Outgoing[]>;
  /** chats whose other side can't be reached (a send answered recipientUnavailable). */
  unreachable: Record<string, boolean>;
  /** organisation names by tenant id, as requests name them. */
  orgNames: Record<string, string>;
  /** who is typing in each chat: user id -> name, until the signal expires. */
  typing: Record<string, Record<string, { name: string; until: number }>>;
  /** presence by user id (Graph's availability), for the people of my 1:1 chats. */
  presence: Record<string, string>;
  /** read receipts this session heard: chat -> user id -> name and when they read. */
  receipts: Record<string, Record<string, { name: string; at: string }>>;
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
  outgoing: {},
  unreachable: {},
  orgNames: loadOrgNames(),
  typing: {},
  receipts: {},
  presence: {},
});

const ORG_KEY = "parley.orgNames";

function loadOrgNames(): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(ORG_KEY) ?? "{}");
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

let outgoingSeq = 0;

const MEETING_KEY = "parley.meetingChats";

/** meetingOfChat returns the meeting id this client knows for a meeting chat (the chat does not say). */
export function meetingOfChat(chatId: string): string | null {
  try {
    return (JSON.parse(localStorage.getItem(MEETING_KEY) ?? "{}") as Record<string, string>)[chatId] ?? null;
  } catch {
    return null;
  }
}

/** chatOfMeeting returns the meeting chat this client knows for a meeting id. */
export function chatOfMeeting(meetingId: string): string | null {
  try {
    const m = JSON.parse(localStorage.getItem(MEETING_KEY) ?? "{}") as Record<string, string>;
    return Object.keys(m).find((c) => m[c] === meetingId) ?? null;
  } catch {
    return null;
  }
}

/** rememberMeeting keeps which meeting a chat belongs to. */
export function rememberMeeting(chatId: string, meetingId: string): void {
  try {
    const m = JSON.parse(localStorage.getItem(MEETING_KEY) ?? "{}") as Record<string, string>;
    if (m[chatId] === meetingId) return;
    m[chatId] = meetingId;
    localStorage.setItem(MEETING_KEY, JSON.stringify(m));
  } catch {
    // no storage
  }
}

/** TYPING_MS is how long a typing signal shows without a new one. */
const TYPING_MS = 6000;

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
      presence: true,
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

  /** setMe keeps the account after a change to it (a new name). */
  setMe(me: User): void {
    this.set({ me: { ...this.state.me, ...me } });
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
      chats[c.id] = { chat, members: old?.members ?? null, unread: serverUnread(c) ?? old?.unread ?? 0, last: old?.last };
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
    if (!m) return;
    this.setChat(id, (e) => {
      if (e.last && Number(e.last.id) >= Number(m.id)) return e;
      // Without a count from the server, a newer message from someone else
      // than the last read time means at least one unread.
      const read = e.chat.viewpoint?.lastMessageReadDateTime;
      const fromOther = m.from.user?.id !== this.state.me?.id && !m.deletedDateTime;
      const unseen = fromOther && (!read || (m.createdDateTime ?? "") > read) && this.state.openChatId !== id;
      return { ...e, last: m, unread: e.unread || (serverUnread(e.chat) === undefined && unseen ? 1 : 0) };
    });
  }

  async loadMembers(id: string): Promise<void> {
    const page = await get<Page<Member>>(`/v1.0/chats/${enc(id)}/members`);
    this.setChat(id, (e) => ({ ...e, members: page.value }));
    // Presence of the other person of a 1:1 chat, once they accepted
    // (before that the server would not tell anyway).
    if (this.state.chats[id]?.chat.chatType === "oneOnOne") {
      for (const m of page.value) {
        if (m.userId && m.userId !== this.state.me?.id && m.requestState === "accepted" && !(m.userId in this.state.presence)) {
          void this.loadPresence(m.userId);
        }
      }
    }
  }

  private presenceAsked = new Set<string>();

  private async loadPresence(userId: string): Promise<void> {
    if (this.presenceAsked.has(userId)) return;
    this.presenceAsked.add(userId);
    try {
      const p = await get<{ availability: string }>(`/v1.0/users/${enc(userId)}/presence`);
      this.set({ presence: { ...this.state.presence, [userId]: p.availability } });
    } catch {
      // not visible: no dot
    }
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
        [chat.id]: { chat, members: old?.members ?? null, unread: serverUnread(chat) ?? old?.unread ?? 0, last: old?.last },
      },
    });
  }

  async loadRequests(): Promise<void> {
    const seq = ++this.requestsSeq;
    const page = await get<{ value: ChatRequest[] }>("/parley/v1/me/requests");
    if (seq !== this.requestsSeq) return; // a newer load is on its way
    this.set({ requests: page.value, requestsLoaded: true });
    this.learnOrgs(page.value);
  }

  /** learnOrgs keeps the organisation names requests give, to name them everywhere. */
  private learnOrgs(rs: ChatRequest[]): void {
    let changed = false;
    const names = { ...this.state.orgNames };
    for (const r of rs) {
      const t = r.from.user.tenantId;
      if (t && r.organizationName && names[t] !== r.organizationName) {
        names[t] = r.organizationName;
        changed = true;
      }
    }
    if (!changed) return;
    this.set({ orgNames: names });
    try {
      localStorage.setItem(ORG_KEY, JSON.stringify(names));
    } catch {
      // no storage: names last as long as the page
    }
  }

  /** openChat marks a chat as the one on screen and loads its messages. */
  async openChat(id: string | null): Promise<void> {
    this.set({ openChatId: id });
    if (!id) return;
    if (this.state.chats[id]?.unread) this.setChat(id, (e) => ({ ...e, unread: 0 }));
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

  /**
   * send shows the message as "Sending…" at once, then posts it; a failure
   * keeps it with the reason and a retry. recipientUnavailable marks the
   * chat as unable to reach the other side.
   */
  send(chatId: string, body: unknown, text: string): void {
    const o: Outgoing = {
      key: `o${++outgoingSeq}`,
      chatId,
      body,
      text,
      createdDateTime: new Date().toISOString(),
      state: "sending",
    };
    this.setOutgoing(chatId, (l) => [...l, o]);
    // The next keystroke signals typing again at once.
    this.lastTypingSent.delete(chatId);
    void this.post(o);
  }

  /** retry sends a failed message again. */
  retry(chatId: string, key: string): void {
    const o = this.state.outgoing[chatId]?.find((x) => x.key === key);
    if (!o || o.state !== "failed") return;
    this.setOutgoing(chatId, (l) => l.map((x) => (x.key === key ? { ...x, state: "sending", error: undefined } : x)));
    void this.post(o);
  }

  /** discard drops a failed message. */
  discard(chatId: string, key: string): void {
    this.setOutgoing(chatId, (l) => l.filter((x) => x.key !== key));
  }

  private setOutgoing(chatId: string, f: (l: Outgoing[]) => Outgoing[]): void {
    this.set({ outgoing: { ...this.state.outgoing, [chatId]: f(this.state.outgoing[chatId] ?? []) } });
  }

  private async post(o: Outgoing): Promise<void> {
    try {
      const m = await post<Message>(`/v1.0/chats/${enc(o.chatId)}/messages`, o.body);
      this.setOutgoing(o.chatId, (l) => l.filter((x) => x.key !== o.key));
      this.putMessage(m);
      this.touch(m);
      if (this.state.unreachable[o.chatId]) this.set({ unreachable: { ...this.state.unreachable, [o.chatId]: false } });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.setOutgoing(o.chatId, (l) => l.map((x) => (x.key === o.key ? { ...x, state: "failed", error } : x)));
      if (e instanceof ApiError && e.code === "recipientUnavailable") {
        this.set({ unreachable: { ...this.state.unreachable, [o.chatId]: true } });
      }
    }
  }

  async edit(chatId: string, messageId: string, body: unknown): Promise<void> {
    await patch(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}`, body);
    const m = await get<Message>(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}`);
    this.putMessage(m);
  }

  /** markUnread makes a chat's newest message unread again (on the server, so it lasts). */
  async markUnread(chatId: string): Promise<void> {
    const last = this.state.chats[chatId]?.last;
    const before = last?.createdDateTime ? new Date(Date.parse(last.createdDateTime) - 1).toISOString() : undefined;
    await post(`/v1.0/chats/${enc(chatId)}/markChatUnreadForUser`, before ? { lastMessageReadDateTime: before } : {});
    this.setChat(chatId, (e) => ({ ...e, unread: Math.max(1, e.unread) }));
  }

  /** react sets or removes one of my reactions on a message. */
  async react(chatId: string, messageId: string, reactionType: string, on: boolean): Promise<void> {
    await post(`/v1.0/chats/${enc(chatId)}/messages/${enc(messageId)}/${on ? "setReaction" : "unsetReaction"}`, { reactionType });
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
    const fromOther = m.from.user?.id !== this.state.me?.id;
    const seen = this.state.openChatId === m.chatId && document.visibilityState === "visible";
    this.setChat(m.chatId, (e) => ({
      ...e,
      chat: { ...e.chat, lastUpdatedDateTime: m.createdDateTime ?? e.chat.lastUpdatedDateTime },
      last: m,
      unread: fromOther && !seen ? e.unread + 1 : e.unread,
    }));
    if (fromOther && !seen) this.notify(m);
  }

  /** notify shows a browser notification for a message while the tab is hidden. */
  private notify(m: Message): void {
    if (document.visibilityState !== "hidden" || typeof Notification === "undefined" || Notification.permission !== "granted") return;
    const e = this.state.chats[m.chatId];
    const who = m.from.user?.displayName || "Someone";
    const title = e && e.chat.chatType === "group" && e.chat.topic ? `${who} in ${e.chat.topic}` : who;
    const text = m.attachments.length && !m.body.content ? "Sent a card" : plainText(m.body.contentType, m.body.content);
    try {
      const n = new Notification(title, { body: text.slice(0, 200), tag: m.chatId });
      n.onclick = () => {
        window.focus();
        navigate(`/chats/${enc(m.chatId)}`);
        n.close();
      };
    } catch {
      // Some browsers allow notifications only from a service worker.
    }
  }

  private meetingListeners = new Map<string, Set<() => void>>();
  private teamListeners = new Set<(e: EventFrame) => void>();
  private appListeners = new Set<(e: EventFrame) => void>();

  /**
   * onInstalledAppsChanged calls f with every installedAppsChanged event
   * (an app added to, removed from or changed in a chat or team: the event
   * carries chatId or teamId, appId and change).
   */
  onInstalledAppsChanged(f: (e: EventFrame) => void): () => void {
    this.appListeners.add(f);
    return () => void this.appListeners.delete(f);
  }

  /** onTeamEvent calls f with every event of a team or channel (they carry teamId). */
  onTeamEvent(f: (e: EventFrame) => void): () => void {
    this.teamListeners.add(f);
    return () => void this.teamListeners.delete(f);
  }

  /** onMeetingEvent calls f when the meeting's lobby or people change. */
  onMeetingEvent(meetingId: string, f: () => void): () => void {
    const set = this.meetingListeners.get(meetingId) ?? new Set();
    set.add(f);
    this.meetingListeners.set(meetingId, set);
    return () => void set.delete(f);
  }

  private meetingChanged(meetingId: string | null): void {
    if (meetingId) this.meetingListeners.get(meetingId)?.forEach((f) => f());
  }

  private typingTimer: number | undefined;
  private lastTypingSent = new Map<string, number>();

  private setTyping(chatId: string, userId: string, name: string, until: number): void {
    const cur = { ...(this.state.typing[chatId] ?? {}) };
    if (until > Date.now()) cur[userId] = { name, until };
    else delete cur[userId];
    this.set({ typing: { ...this.state.typing, [chatId]: cur } });
    clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(() => this.expireTyping(), 1000);
  }

  private expireTyping(): void {
    const now = Date.now();
    let left = false;
    const next: State["typing"] = {};
    for (const [c, who] of Object.entries(this.state.typing)) {
      const keep = Object.fromEntries(Object.entries(who).filter(([, w]) => w.until > now));
      next[c] = keep;
      if (Object.keys(keep).length) left = true;
    }
    this.set({ typing: next });
    if (left) this.typingTimer = window.setTimeout(() => this.expireTyping(), 1000);
  }

  /** typed tells the chat's other members that I am typing, at most every 3 s. */
  typed(chatId: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(chatId) ?? 0) < 3000) return;
    this.lastTypingSent.set(chatId, now);
    post(`/parley/v1/chats/${enc(chatId)}/typing`).catch(() => undefined);
  }

  /** dropEcho removes the oldest "Sending…" copy once the event brings the sent message. */
  private dropEcho(chatId: string): void {
    const l = this.state.outgoing[chatId];
    const i = l?.findIndex((x) => x.state === "sending") ?? -1;
    if (i >= 0) this.setOutgoing(chatId, (x) => x.filter((_, j) => j !== i));
  }

  /** seen clears the open chat's unread count once the tab is visible again. */
  seen(): void {
    const id = this.state.openChatId;
    if (!id || document.visibilityState !== "visible" || !this.state.chats[id]?.unread) return;
    this.setChat(id, (e) => ({ ...e, unread: 0 }));
    post(`/v1.0/chats/${enc(id)}/markChatReadForUser`).catch(() => undefined);
  }

  async answer(chatId: string, answer: "accept" | "decline" | "block" | "reportSpam"): Promise<void> {
    await post(`/parley/v1/me/requests/${enc(chatId)}/${answer}`);
    this.set({ requests: this.state.requests.filter((r) => r.chatId !== chatId) });
    if (answer === "accept") await this.loadChat(chatId);
  }

  private onEvent(e: EventFrame): void {
    if (e.type === "installedAppsChanged") {
      // Apps panels (of a chat or a channel) reload on their own.
      this.appListeners.forEach((f) => f(e));
      return;
    }
    if (typeof e.teamId === "string") {
      // Teams and channels have their own views; chats are not touched.
      this.teamListeners.forEach((f) => f(e));
      return;
    }
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
          if (e.type === "messageCreated" && m.from.user?.id === this.state.me?.id) this.dropEcho(id);
          if (e.type === "messageCreated" && m.from.user?.id && this.state.typing[id]?.[m.from.user.id]) this.setTyping(id, m.from.user.id, "", 0);
          if (e.type === "messageCreated" && this.state.openChatId === id && document.visibilityState === "visible") {
            post(`/v1.0/chats/${enc(id)}/markChatReadForUser`).catch(() => undefined);
          }
        }
        return;
      }
      case "lobbyUpdated": {
        const mid = typeof e.meetingId === "string" ? e.meetingId : null;
        if (mid && id) rememberMeeting(id, mid);
        this.meetingChanged(mid);
        return;
      }
      case "memberAdded":
      case "memberRemoved": {
        if (id) this.meetingChanged(meetingOfChat(id));
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
        // The sender's side: the member's state tells the chat it can't reach them.
        if (this.state.chats[id]) void this.loadMembers(id).catch(() => undefined);
        return;
      case "requestAccepted":
        // Either side: the chat joins the list, the member shows who it is.
        this.scheduleReload();
        return;
      case "typing": {
        // Sent only between accepted members: a pending target never signals.
        const u = e.user as { id?: string; displayName?: string } | undefined;
        if (!u?.id || u.id === this.state.me?.id) return;
        this.setTyping(id, u.id, u.displayName || "Someone", Date.now() + TYPING_MS);
        return;
      }
      case "presenceChanged": {
        const uid = typeof e.userId === "string" ? e.userId : "";
        const p = e.presence as { availability?: string } | undefined;
        if (uid && p?.availability) this.set({ presence: { ...this.state.presence, [uid]: p.availability } });
        return;
      }
      case "readReceipt": {
        // Sent only by accepted members (docs/rules.md §5): never from a pending target.
        const u = e.user as { id?: string; displayName?: string } | undefined;
        const at = typeof e.dateTime === "string" ? e.dateTime : new Date().toISOString();
        if (!u?.id || u.id === this.state.me?.id) return;
        const cur = { ...(this.state.receipts[id] ?? {}), [u.id]: { name: u.displayName || "Someone", at } };
        this.set({ receipts: { ...this.state.receipts, [id]: cur } });
        return;
      }
      case "chatRead": {
        // My read mark moved (another tab or device, or Mark unread): the
        // chat in the event carries the server's count.
        const c = e.chat as Chat | undefined;
        const read = c?.viewpoint?.lastMessageReadDateTime;
        if (!this.state.chats[id]) return;
        this.setChat(id, (x) => {
          // The event's count may not be computed; the read mark tells
          // whether the newest message from someone else is after it.
          const last = x.last;
          const unseen = !!last && last.from.user?.id !== this.state.me?.id && !last.deletedDateTime && (!read || (last.createdDateTime ?? "") > read);
          return { ...x, unread: Math.max(c ? (serverUnread(c) ?? 0) : 0, unseen ? 1 : 0) };
        });
        return;
      }
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

/** serverUnread is the server's unread count of a chat, when it gives one. */
export function serverUnread(c: Chat): number | undefined {
  const n = c.unreadMessageCount;
  return typeof n === "number" ? n : undefined;
}

/** unreadTotal counts chats with unread messages and waiting requests, for the tab title. */
export function unreadTotal(s: State): number {
  let n = s.requests.length;
  for (const e of Object.values(s.chats)) if (e.unread > 0) n++;
  return n;
}

/** orgOf names a tenant's organisation, when a request or member told its name. */
export function orgOf(s: State, tenantId: string | null | undefined): string | null {
  return (tenantId && s.orgNames[tenantId]) || null;
}

/** chatTitle names a chat for me: its topic, or the other people. */
export function chatTitle(e: ChatEntry, me: User | null): string {
  if ((e.chat.chatType === "group" || e.chat.chatType === "meeting") && e.chat.topic) return e.chat.topic;
  // A bot's 1:1 chat (the person its only member) is named by its app.
  if (e.chat.app) return e.chat.app.displayName;
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
