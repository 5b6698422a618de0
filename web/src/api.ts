// The HTTP client: bearer token, the API's error shape turned into words,
// and the wire types the client reads (internal/graph, API.md).

export interface User {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  mobilePhone?: string | null;
  userType: "Member" | "Guest" | "Personal" | string;
  tenantId: string | null;
  userIdentityType: string;
  isExternal: boolean;
  isAdmin?: boolean;
}

export interface Identity {
  id: string;
  displayName: string;
  userIdentityType: string;
  tenantId: string | null;
  isExternal: boolean;
}

export interface Chat {
  id: string;
  topic: string | null;
  createdDateTime: string | null;
  lastUpdatedDateTime: string | null;
  chatType: "oneOnOne" | "group" | string;
  tenantId: string | null;
  isExternal: boolean;
  requestState?: string;
  isReadOnly: boolean;
  readOnlyReason?: string;
  viewpoint?: { isHidden?: boolean; lastMessageReadDateTime?: string | null };
  /** Parley's: the caller's unread messages in the chat (at most 999). */
  unreadMessageCount?: number;
  /** Parley's: on a bot's 1:1 chat, the app (catalog id and name) whose bot it is. */
  app?: { id: string; displayName: string };
}

/** Meeting is Graph's onlineMeeting as Parley answers it. */
export interface Meeting {
  id: string;
  subject: string;
  startDateTime: string | null;
  endDateTime: string | null;
  joinWebUrl: string;
  chatInfo: { threadId: string };
  participants: {
    organizer: { identity: { user: Identity | null } };
    attendees: { identity: { user: Identity | null }; upn: string | null; requestState?: string; isExternal: boolean }[];
  };
}

export interface Member {
  id: string;
  roles: string[];
  displayName: string;
  userId: string | null;
  email: string | null;
  tenantId: string | null;
  /** organizationName names tenantId's organisation; null for a personal account. */
  organizationName?: string | null;
  userIdentityType: string;
  requestState: "pending" | "accepted" | "declined" | string;
  isExternal: boolean;
}

export interface Mention {
  id: number;
  mentionText: string;
  mentioned: { user: Identity | null };
}

export interface Attachment {
  id: string;
  contentType: string;
  content: string | null;
  name: string | null;
}

export interface Message {
  id: string;
  chatId: string;
  createdDateTime: string | null;
  lastEditedDateTime: string | null;
  deletedDateTime: string | null;
  from: { user: Identity | null; application?: { id: string; displayName: string } | null };
  /** Parley's: the app whose message extension made the message (posted with viaAppId). */
  viaApp?: { id: string; displayName: string } | null;
  body: { contentType: "text" | "html" | string; content: string };
  attachments: Attachment[];
  mentions: Mention[];
  reactions?: Reaction[];
}

/** Reaction is Graph's chatMessageReaction. */
export interface Reaction {
  reactionType: string;
  displayName: string | null;
  createdDateTime: string | null;
  user: { user: Identity | null };
}

export interface ChatRequest {
  chatId: string;
  chat?: Chat;
  from: { user: Identity };
  organizationName: string | null;
  isExternal: boolean;
  previews: Message[];
}

export interface Page<T> {
  value: T[];
  "@odata.nextLink"?: string;
}

/** ApiError is an answer in the API's error shape (or the OAuth one). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "parley.token";

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Private mode without storage: the session lasts as long as the page.
  }
  memoryToken = token;
}

let memoryToken: string | null = getToken();

/** onUnauthenticated is called when a call answers 401 with a token set. */
let unauthenticated: () => void = () => {};
export function onUnauthenticated(f: () => void): void {
  unauthenticated = f;
}

function token(): string | null {
  return memoryToken ?? getToken();
}

/** errorText turns any failure into a sentence for a person. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return "Can't reach the server. Check your connection and try again.";
  if (e instanceof Error && e.message) return e.message;
  return "Something went wrong. Try again.";
}

async function toError(res: Response): Promise<ApiError> {
  let code = "httpError";
  let message = "";
  try {
    const body = await res.json();
    if (body && typeof body === "object") {
      if (body.error && typeof body.error === "object") {
        code = String(body.error.code ?? code);
        message = String(body.error.message ?? "");
      } else if (typeof body.error === "string") {
        // OAuth 2 error shape (sign-in).
        code = body.error;
        message = typeof body.error_description === "string" ? body.error_description : "";
      }
    }
  } catch {
    // Not JSON (a proxy's error page): described by status below.
  }
  if (!message) {
    message =
      res.status === 404
        ? "This is not available on this server."
        : res.status >= 500
          ? `The server had a problem (${res.status}). Try again in a moment.`
          : `The server refused the request (${res.status}).`;
  }
  return new ApiError(res.status, code, message);
}

export interface CallOptions {
  body?: unknown;
  /** Do not sign out on 401 (sign-in itself). */
  noAuthRedirect?: boolean;
  /** token replaces the session's (an anonymous meeting session's own). */
  token?: string;
}

/** call sends one request and decodes the JSON answer (undefined for 204). */
export async function call<T = unknown>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const tok = opts.token ?? token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(path, { method, headers, body });
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && tok && !opts.noAuthRedirect && !opts.token) unauthenticated();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => call<T>("POST", path, { body });
export const patch = <T>(path: string, body: unknown) => call<T>("PATCH", path, { body });
export const del = (path: string) => call<void>("DELETE", path);

/** nextPath turns an @odata.nextLink (absolute) into a same-origin path. */
export function nextPath(link: string): string {
  try {
    const u = new URL(link, location.origin);
    return u.pathname + u.search;
  } catch {
    return link;
  }
}

/** getAll follows @odata.nextLink up to max pages. */
export async function getAll<T>(path: string, max = 20): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  for (let i = 0; next && i < max; i++) {
    const page: Page<T> = await get<Page<T>>(next);
    out.push(...page.value);
    next = page["@odata.nextLink"] ? nextPath(page["@odata.nextLink"]) : undefined;
  }
  return out;
}

/** signIn runs the password grant and keeps the token. */
export async function signIn(username: string, password: string): Promise<void> {
  const form = new URLSearchParams({ grant_type: "password", username, password });
  let res: Response;
  res = await fetch("/oauth2/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: form.toString(),
  });
  if (!res.ok) {
    const err = await toError(res);
    if (err.code === "invalid_grant") throw new ApiError(err.status, err.code, "Wrong email or password.");
    throw err;
  }
  const tok = (await res.json()) as { access_token: string };
  setToken(tok.access_token);
}

/** signOut revokes the token on the server (best effort) and forgets it. */
export async function signOut(): Promise<void> {
  try {
    if (token()) await call("POST", "/parley/v1/signout", { noAuthRedirect: true });
  } catch {
    // Already expired or unreachable: forgetting it locally is what counts.
  }
  setToken(null);
}

/** UploadedFile is what POST /parley/v1/chats/{id}/files answers. */
export interface UploadedFile {
  id: string;
  name: string;
  contentType: string;
  size: number;
  contentUrl: string;
  thumbnailUrl: string | null;
}

/** uploadFile sends a file to a chat (multipart), ready to attach to a message. */
export async function uploadFile(chatId: string, file: File): Promise<UploadedFile> {
  const form = new FormData();
  form.append("file", file, file.name);
  const headers: Record<string, string> = { Accept: "application/json" };
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const res = await fetch(`/parley/v1/chats/${encodeURIComponent(chatId)}/files`, { method: "POST", headers, body: form });
  if (!res.ok) throw await toError(res);
  return (await res.json()) as UploadedFile;
}

/** fetchBlob downloads with the bearer token (a plain link could not send it). */
export async function fetchBlob(path: string): Promise<Blob> {
  const headers: Record<string, string> = {};
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  const res = await fetch(path, { headers });
  if (!res.ok) throw await toError(res);
  return res.blob();
}

/** memberFor builds a Graph member from what a person typed. */
export function memberFor(address: string): Record<string, unknown> {
  const a = address.trim();
  const m: Record<string, unknown> = {
    "@odata.type": "#microsoft.graph.aadUserConversationMember",
    roles: ["owner"],
  };
  if (a.includes("@")) m.email = a;
  else m.phoneNumber = a;
  return m;
}

/** enc encodes one path segment. */
export const enc = encodeURIComponent;
