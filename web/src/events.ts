// The events WebSocket (GET /parley/v1/events): frames carry a per-user
// seq; the last one seen is kept, and a reconnect asks for ?since=<seq> so
// the server replays what was missed (docs/rules.md §7: no gaps).

export interface EventFrame {
  seq: number;
  type: string;
  chatId?: string;
  [k: string]: unknown;
}

export type ConnState = "connecting" | "open" | "reconnecting" | "closed";

export interface EventsOptions {
  token: () => string | null;
  onEvent: (e: EventFrame) => void;
  onState: (s: ConnState) => void;
  /**
   * onOpen runs on every (re)connect. resync is true when no seq is known
   * yet (the first connection, or a drop before any event): the server then
   * sends only new events, so the caller reloads its state.
   */
  onOpen: (resync: boolean) => void;
  /** presence asks for presenceChanged events too. */
  presence?: boolean;
}

export class Events {
  private ws: WebSocket | null = null;
  private lastSeq = -1;
  private retry = 0;
  private timer: number | undefined;
  private stopped = false;
  private opened = false;

  constructor(private readonly o: EventsOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
    window.addEventListener("online", this.kick);
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.kick);
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
    this.o.onState("closed");
  }

  /** kick reconnects at once (the browser came back online). */
  private kick = (): void => {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  };

  private connect(): void {
    const tok = this.o.token();
    if (!tok || this.stopped) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ access_token: tok });
    // presenceChanged comes only to connections that ask for it.
    if (this.o.presence) q.set("presence", "true");
    if (this.lastSeq >= 0) q.set("since", String(this.lastSeq));
    this.o.onState(this.opened ? "reconnecting" : "connecting");
    const ws = new WebSocket(`${proto}//${location.host}/parley/v1/events?${q}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.o.onState("open");
      this.opened = true;
      this.o.onOpen(this.lastSeq < 0);
    };
    ws.onmessage = (m) => {
      let e: EventFrame;
      try {
        e = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (typeof e.seq === "number") {
        if (e.seq <= this.lastSeq) return; // replayed twice: seq dedups
        this.lastSeq = e.seq;
      }
      this.o.onEvent(e);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.o.onState("reconnecting");
      // 0.5 s, 1 s, 2 s, 4 s, then every 8 s, with a little jitter.
      const delay = Math.min(8000, 500 * 2 ** this.retry) * (0.8 + Math.random() * 0.4);
      this.retry++;
      this.timer = window.setTimeout(() => this.connect(), delay);
    };
  }
}
