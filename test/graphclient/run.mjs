// Runs the real, unmodified Microsoft Graph JavaScript client
// (@microsoft/microsoft-graph-client) against a Parley server, to prove
// that Graph client libraries work by changing the base URL (docs/rules.md §11).
//
// Driven by internal/server/graphclient_test.go, which starts an HTTPS
// server with a throw-away certificate and sets:
//   BASE                 https://127.0.0.1:<port>  (no /v1.0)
//   TOKEN                user A's access token
//   USER_A, USER_B       the two users' ids (A owns TOKEN)
//   NODE_EXTRA_CA_CERTS  the throw-away certificate (read by Node at start-up)
//
// Exits non-zero on any failure; the last line is
// "graphclient: <n> passed, <m> failed".

import { Client, PageIterator } from "@microsoft/microsoft-graph-client";

const MESSAGES = 7;
const PAGE_SIZE = 2;

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`graphclient: environment variable ${name} is not set (run through go test -run TestGraphClientLibrary ./internal/server/)`);
    process.exit(2);
  }
  return v;
}

const BASE = env("BASE").replace(/\/+$/, "");
const TOKEN = env("TOKEN");
const USER_A = env("USER_A");
const USER_B = env("USER_B");
const base = new URL(BASE);
if (base.protocol !== "https:") {
  // The library sends the token only to HTTPS hosts it knows.
  console.error(`graphclient: BASE must be https://…, got ${BASE}`);
  process.exit(2);
}

const client = Client.init({
  authProvider: (done) => done(null, TOKEN),
  baseUrl: BASE,
  defaultVersion: "v1.0",
  // Host names only, no port: the library's rule for custom hosts.
  customHosts: new Set([base.hostname]),
});

class Failure extends Error {}

function check(cond, message) {
  if (!cond) throw new Failure(message);
}

function eq(got, want, what) {
  check(got === want, `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function describe(err) {
  if (err instanceof Failure) return err.message;
  // GraphError carries the status and Parley's {"error":{"code","message"}}.
  if (err && err.statusCode === -1) {
    // The library replaces a network error by GraphError(-1) and drops its cause.
    return `no HTTP answer (${err.message}): a network or TLS failure; the first step shows the cause`;
  }
  if (err && typeof err.statusCode === "number") {
    return `HTTP ${err.statusCode} ${err.code ?? ""}: ${err.message}${err.body ? ` (body ${err.body})` : ""}`;
  }
  if (err && err.cause) {
    return `${err.message} (cause: ${err.cause.code ?? ""} ${err.cause.message ?? err.cause})`;
  }
  return `${err && err.stack ? err.stack : err}`;
}

const results = [];

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${describe(err)}`);
  }
}

function bind(id) {
  return {
    "@odata.type": "#microsoft.graph.aadUserConversationMember",
    roles: ["owner"],
    "user@odata.bind": `https://graph.microsoft.com/v1.0/users('${id}')`,
  };
}

await step("HTTPS with the server's certificate (plain fetch, no library)", async () => {
  // Without this, a TLS failure shows up in the library only as "fetch failed".
  const res = await fetch(`${BASE}/healthz`);
  eq(res.status, 200, "GET /healthz status");
});

await step("GET /me", async () => {
  const me = await client.api("/me").get();
  eq(me.id, USER_A, "me.id");
  check(typeof me.displayName === "string" && me.displayName !== "", `me.displayName: got ${JSON.stringify(me.displayName)}, want a name`);
  eq(me.userIdentityType, "aadUser", "me.userIdentityType");
});

await step(`oneOnOne chat, ${MESSAGES} messages, PageIterator over $top=${PAGE_SIZE}`, async () => {
  const chat = await client.api("/chats").post({ chatType: "oneOnOne", members: [bind(USER_A), bind(USER_B)] });
  check(typeof chat.id === "string" && chat.id !== "", `chat.id: got ${JSON.stringify(chat.id)}`);
  eq(chat.chatType, "oneOnOne", "chat.chatType");

  const again = await client.api("/chats").post({ chatType: "oneOnOne", members: [bind(USER_A), bind(USER_B)] });
  eq(again.id, chat.id, "second oneOnOne for the same pair: id");

  // A chat made for this run is empty; on a rerun against the same server
  // older messages follow ours, and must still come exactly once.
  const before = await client.api(`/chats/${chat.id}/messages`).top(1).get();
  const fresh = before.value.length === 0;

  const sent = [];
  const run = Date.now().toString(36);
  for (let i = 1; i <= MESSAGES; i++) {
    const content = `graphclient ${run} message ${i}`;
    const m = await client.api(`/chats/${chat.id}/messages`).post({ body: { contentType: "text", content } });
    eq(m.body?.content, content, `message ${i} body.content`);
    eq(m.chatId, chat.id, `message ${i} chatId`);
    eq(m.from?.user?.id, USER_A, `message ${i} from.user.id`);
    sent.push({ id: m.id, content });
  }

  const first = await client.api(`/chats/${chat.id}/messages`).top(PAGE_SIZE).get();
  check(Array.isArray(first.value), `first page: value is not an array: ${JSON.stringify(first)}`);
  eq(first.value.length, PAGE_SIZE, "first page size");
  const next = first["@odata.nextLink"];
  check(typeof next === "string" && next.startsWith(`${BASE}/v1.0/`), `first page @odata.nextLink: got ${JSON.stringify(next)}, want ${BASE}/v1.0/…`);

  const seen = [];
  const iterator = new PageIterator(client, first, (m) => {
    seen.push(m);
    return true; // keep going to the last page
  });
  await iterator.iterate();
  check(iterator.isComplete(), "PageIterator did not complete");

  const want = sent.map((m) => m.id).reverse(); // newest first
  const got = seen.map((m) => m.id);
  check(new Set(got).size === got.length, `a message was seen twice: ${JSON.stringify(got)}`);
  if (fresh) {
    eq(JSON.stringify(got), JSON.stringify(want), "message ids across all pages, newest first");
  } else {
    eq(JSON.stringify(got.slice(0, MESSAGES)), JSON.stringify(want), `the newest ${MESSAGES} message ids across all pages`);
  }
  const byID = new Map(sent.map((m) => [m.id, m.content]));
  for (const m of seen.slice(0, MESSAGES)) {
    eq(m.body?.content, byID.get(m.id), `message ${m.id} body.content`);
    eq(m.chatId, chat.id, `message ${m.id} chatId`);
    eq(m.from?.user?.id, USER_A, `message ${m.id} from.user.id`);
    eq(m.from?.user?.userIdentityType, "aadUser", `message ${m.id} from.user.userIdentityType`);
  }
  console.log(`     saw ${seen.length} messages over ${Math.ceil(seen.length / PAGE_SIZE)} pages; nextLink looked like ${next}`);
});

await step("Graph error shape reaches the library", async () => {
  try {
    await client.api("/chats/19:doesnotexist@thread.v2").get();
  } catch (err) {
    eq(err.statusCode, 404, "statusCode");
    eq(err.code, "notFound", "code");
    return;
  }
  throw new Failure("GET of an unknown chat succeeded, want 404 notFound");
});

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`graphclient: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
