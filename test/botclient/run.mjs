// An unmodified Bot Framework SDK bot (botbuilder, pinned in package.json)
// run against a Parley server, to prove that bots written for Teams run on
// Parley by changing the SDK's configurable endpoints (docs/rules.md §9). The
// script is both the bot (a CloudAdapter on 127.0.0.1) and the people who
// talk to it through Parley's API.
//
// Driven by internal/server/botclient_test.go, which starts an HTTPS server
// with a throw-away certificate, registers the bot, uploads its app and
// sets: BASE, APP_ID, APP_PASSWORD, ADMIN_TOKEN, ALICE_TOKEN (host user),
// FRANK_TOKEN (a person of another organisation), FRANK_ID, BOB_ID (a host
// user the bot shares no conversation with), CHAT_ID (alice and frank's
// chat), CATALOG_ID (the app), TEAM_ID (alice's team, with GINA_TOKEN's
// guest in it), GENERAL_ID (its General channel), CAROL_ID (a host user
// added to the team during the run), NODE_EXTRA_CA_CERTS.
//
// Exits non-zero on any failure; the last line is
// "botclient: <n> passed, <m> failed".

import http from "node:http";
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TeamsActivityHandler,
  TeamsInfo,
  CardFactory,
  MessageFactory,
} from "botbuilder";
import { MsalServiceClientCredentialsFactory } from "botframework-connector";
import { ConfidentialClientApplication } from "@azure/msal-node";

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`botclient: environment variable ${name} is not set (run through go test -run TestBotFrameworkSDK ./internal/server/)`);
    process.exit(2);
  }
  return v;
}

const BASE = env("BASE").replace(/\/+$/, "");
const APP_ID = env("APP_ID");
const APP_PASSWORD = env("APP_PASSWORD");
const ADMIN_TOKEN = env("ADMIN_TOKEN");
const ALICE_TOKEN = env("ALICE_TOKEN");
const FRANK_TOKEN = env("FRANK_TOKEN");
const FRANK_ID = env("FRANK_ID");
const BOB_ID = env("BOB_ID");
const CHAT_ID = env("CHAT_ID");
const CATALOG_ID = env("CATALOG_ID");
const TEAM_ID = env("TEAM_ID");
const GENERAL_ID = env("GENERAL_ID");
const GINA_TOKEN = env("GINA_TOKEN");
const CAROL_ID = env("CAROL_ID");

// --- The bot: the SDK's own settings point it at Parley ------------------
const authority = `${BASE}/parley/v1/bots`;
const config = {
  MicrosoftAppId: APP_ID,
  MicrosoftAppPassword: APP_PASSWORD,
  MicrosoftAppType: "MultiTenant",
  ToChannelFromBotLoginUrl: authority,
  ToChannelFromBotOAuthScope: authority,
  ToBotFromChannelTokenIssuer: authority,
  ToBotFromChannelOpenIdMetadataUrl: `${authority}/.well-known/openid-configuration`,
  ToBotFromEmulatorOpenIdMetadataUrl: `${authority}/.well-known/openid-configuration`,
  CallerId: "urn:botframework:parley",
};
// MSAL asks login.microsoftonline.com to vouch for an authority it does not
// know (cloud instance discovery); offline, the bot names Parley as a known
// authority through the SDK's MSAL credentials factory.
const msal = new ConfidentialClientApplication({
  auth: { clientId: APP_ID, clientSecret: APP_PASSWORD, authority, knownAuthorities: [BASE, new URL(BASE).host] },
});
const adapter = new CloudAdapter(
  new ConfigurationBotFrameworkAuthentication(config, new MsalServiceClientCredentialsFactory(APP_ID, msal)),
);
adapter.onTurnError = async (context, error) => {
  console.error(`bot: turn error: ${error.stack || error}`);
  await context.sendActivity(`bot error: ${error.message}`);
};

function pollCard(title, withExecute) {
  const actions = [{ type: "Action.Submit", title: "Pick A", data: { choice: "a" } }];
  if (withExecute) {
    actions.push({ type: "Action.Execute", title: "Vote", verb: "vote", data: { poll: 1 } });
  }
  return CardFactory.adaptiveCard({
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.5",
    body: [{ type: "TextBlock", text: title }],
    actions,
  });
}

class PollBot extends TeamsActivityHandler {
  constructor() {
    super();
    this.onMembersAdded(async (context, next) => {
      for (const m of context.activity.membersAdded) {
        if (m.id === context.activity.recipient.id) {
          await context.sendActivity(`Hello, I am installed in ${context.activity.conversation.conversationType}`);
        } else if (context.activity.conversation.conversationType === "channel") {
          const team = context.activity.channelData.team;
          await context.sendActivity(`Welcome ${m.name} to ${team.name} (${team.aadGroupId})`);
        }
      }
      await next();
    });
    // Channels created, renamed or deleted in the team (Teams' events).
    this.onTeamsChannelCreatedEvent(async (channel, team, context, next) => {
      await context.sendActivity(`Channel created: ${channel.name} in ${team.name} (${team.aadGroupId})`);
      await next();
    });
    this.onTeamsChannelRenamedEvent(async (channel, team, context, next) => {
      await context.sendActivity(`Channel renamed: ${channel.name} in ${team.name}`);
      await next();
    });
    this.onTeamsChannelDeletedEvent(async (channel, team, context, next) => {
      await context.sendActivity(`Channel deleted: ${channel.name} in ${team.name}`);
      await next();
    });
    this.onMessage(async (context, next) => {
      const a = context.activity;
      const kind = a.from.parleyKind || a.from.userRole;
      if (a.value) {
        await context.sendActivity(`submitted: ${JSON.stringify(a.value)} by ${a.from.name} (${kind})`);
      } else {
        const text = (a.text || "").replace(/<at>[^<]*<\/at>/g, "").trim();
        if (text === "card") {
          await context.sendActivity(MessageFactory.attachment(pollCard("Lunch?", true)));
        } else if (text === "members") {
          const page = await TeamsInfo.getPagedMembers(context);
          const kinds = page.members.map((m) => `${m.name}:${m.userRole}:${m.aadObjectId}`).sort();
          await context.sendActivity(`members: ${kinds.join(",")}`);
        } else if (text.startsWith("dm ")) {
          const target = text.slice(3).trim();
          try {
            await adapter.createConversationAsync(
              APP_ID,
              a.channelId,
              a.serviceUrl,
              authority,
              { isGroup: false, members: [{ id: `29:${target}` }], tenantId: a.conversation.tenantId, channelData: { tenant: { id: a.conversation.tenantId } } },
              async (ctx) => {
                await ctx.sendActivity("hello privately");
              },
            );
            await context.sendActivity(`dm sent to ${target}`);
          } catch (e) {
            await context.sendActivity(`dm refused ${e.statusCode || e.code || e.message}`);
          }
        } else {
          await context.sendActivity(`echo: ${text} (from ${a.from.name}, ${kind})`);
        }
      }
      await next();
    });
  }

  // A message extension's action command: the task module to fill in,
  // then the result to post (botbuilder dispatches both invokes here).
  async handleTeamsMessagingExtensionFetchTask(context, action) {
    return {
      task: {
        type: "continue",
        value: {
          title: `New poll (${action.commandId}, ${action.commandContext})`,
          card: CardFactory.adaptiveCard({ type: "AdaptiveCard", version: "1.5", body: [{ type: "Input.Text", id: "question" }], actions: [{ type: "Action.Submit", title: "Create" }] }),
        },
      },
    };
  }

  async handleTeamsMessagingExtensionSubmitAction(context, action) {
    const where = context.activity.conversation.conversationType;
    return {
      composeExtension: { type: "result", attachmentLayout: "list", attachments: [pollCard(`Poll: ${action.data?.question} by ${context.activity.from.name} in ${where}`, false)] },
    };
  }

  async handleTeamsMessagingExtensionQuery(context, query) {
    const q = (query.parameters || []).find((p) => p.name === "query")?.value || "";
    const team = context.activity.channelData?.team?.name || "no team";
    return { composeExtension: { type: "result", attachmentLayout: "list", attachments: [{ ...pollCard(`Found ${q} in ${team}`, false), preview: CardFactory.thumbnailCard(q) }] } };
  }

  async onAdaptiveCardInvoke(context, invokeValue) {
    const voter = context.activity.from.name;
    return {
      statusCode: 200,
      type: "application/vnd.microsoft.card.adaptive",
      value: pollCard(`Voted ${invokeValue.action.verb} by ${voter}`, false).content,
    };
  }
}
const bot = new PollBot();

// A minimal request/response pair for CloudAdapter.process over node:http.
const server = http.createServer((req, res) => {
  let raw = "";
  req.on("data", (c) => (raw += c));
  req.on("end", async () => {
    let body;
    try {
      body = JSON.parse(raw || "{}");
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    const response = {
      socket: res.socket,
      status(code) {
        res.statusCode = code;
        return this;
      },
      header(name, value) {
        res.setHeader(name, value);
        return this;
      },
      send(b) {
        if (b !== undefined) {
          if (typeof b === "object" && !Buffer.isBuffer(b)) {
            res.setHeader("Content-Type", "application/json");
            b = JSON.stringify(b);
          }
          res.write(b);
        }
        return this;
      },
      end() {
        res.end();
        return this;
      },
    };
    try {
      await adapter.process({ body, headers: req.headers, method: req.method }, response, (context) => bot.run(context));
    } catch (e) {
      console.error(`bot: process: ${e.stack || e}`);
      if (!res.writableEnded) {
        res.statusCode = 500;
        res.end();
      }
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${server.address().port}/api/messages`;

// --- The people ---------------------------------------------------------
let passed = 0;
let failed = 0;
function check(cond, message) {
  if (cond) {
    passed++;
    console.log(`ok: ${message}`);
  } else {
    failed++;
    console.log(`FAIL: ${message}`);
  }
  return cond;
}

async function api(token, method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, json, text };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor polls a chat's messages (as token) until one from the bot matches.
async function waitFor(token, chatId, match, what) {
  for (let i = 0; i < 100; i++) {
    const r = await api(token, "GET", `/v1.0/chats/${chatId}/messages?$top=50`);
    if (r.status === 200) {
      const m = r.json.value.find((m) => m.from && m.from.application && m.from.application.id === APP_ID && match(m));
      if (m) {
        return m;
      }
    }
    await sleep(100);
  }
  check(false, `timed out waiting for ${what}`);
  return null;
}

const send = (token, text) => api(token, "POST", `/v1.0/chats/${CHAT_ID}/messages`, { body: { contentType: "text", content: text } });
const bind = { "teamsApp@odata.bind": `${BASE}/v1.0/appCatalogs/teamsApps/${CATALOG_ID}` };

try {
  let r = await api(ADMIN_TOKEN, "PATCH", `/parley/v1/admin/bots/${APP_ID}`, { messagingEndpoint: endpoint });
  check(r.status === 200, `admin points the bot at ${endpoint} (${r.status})`);

  r = await api(FRANK_TOKEN, "POST", `/v1.0/chats/${CHAT_ID}/installedApps`, bind);
  check(r.status === 403 && r.json?.error?.code === "forbiddenByPolicy", `the external person cannot add the bot (${r.status})`);
  r = await api(ALICE_TOKEN, "POST", `/v1.0/chats/${CHAT_ID}/installedApps`, bind);
  check(r.status === 201, `the host user adds the bot to a chat with an external person (${r.status} ${r.text})`);

  let m = await waitFor(ALICE_TOKEN, CHAT_ID, (m) => m.body.content.startsWith("Hello, I am installed"), "the bot's greeting on install");
  if (m) {
    check(m.from.user === null && m.from.application.applicationIdentityType === "bot", "the bot's message is from.application, from.user null");
    check(m.body.content.includes("groupChat"), `the bot saw a groupChat conversationUpdate: ${m.body.content}`);
  }

  r = await send(FRANK_TOKEN, "hi there");
  check(r.status === 201, `the external person writes (${r.status})`);
  m = await waitFor(FRANK_TOKEN, CHAT_ID, (m) => m.body.content.startsWith("echo: hi there"), "the bot's answer to the external person");
  if (m) {
    check(m.body.content.includes("external"), `the bot knows the person is external: ${m.body.content}`);
  }

  r = await send(ALICE_TOKEN, "members");
  m = await waitFor(ALICE_TOKEN, CHAT_ID, (m) => m.body.content.startsWith("members:"), "the member list");
  if (m) {
    check(m.body.content.includes(FRANK_ID), `GET members lists the external person with aadObjectId: ${m.body.content}`);
  }

  r = await send(ALICE_TOKEN, "card");
  const card = await waitFor(ALICE_TOKEN, CHAT_ID, (m) => m.attachments.length > 0, "the bot's card");
  if (card) {
    check(card.attachments[0].contentType === "application/vnd.microsoft.card.adaptive" && typeof card.attachments[0].content === "string",
      "the card is a Graph attachment, its content the card JSON as a string");
    r = await api(FRANK_TOKEN, "POST", `/parley/v1/chats/${CHAT_ID}/messages/${card.id}/cardActions`, { type: "Action.Submit", data: { choice: "a" } });
    check(r.status === 200, `Action.Submit by the external person (${r.status} ${r.text})`);
    m = await waitFor(FRANK_TOKEN, CHAT_ID, (m) => m.body.content.startsWith("submitted:"), "the Action.Submit reaching the bot");
    if (m) {
      check(m.body.content.includes('"choice":"a"') && m.body.content.includes("Frank"), `Action.Submit's data reached the bot: ${m.body.content}`);
    }
    r = await api(ALICE_TOKEN, "POST", `/parley/v1/chats/${CHAT_ID}/messages/${card.id}/cardActions`, { type: "Action.Execute", verb: "vote", data: { poll: 1 } });
    check(r.status === 200 && JSON.stringify(r.json?.card || {}).includes("Voted vote by Alice"), `Action.Execute returns the bot's card (${r.status} ${r.text})`);
    r = await api(FRANK_TOKEN, "GET", `/v1.0/chats/${CHAT_ID}/messages/${card.id}`);
    check(r.status === 200 && r.json.attachments[0].content.includes("Voted vote by Alice"), "the card is updated in place");

    // A tenant-wide block stops everyone's card actions.
    r = await api(ADMIN_TOKEN, "PATCH", `/parley/v1/admin/teamsApps/${CATALOG_ID}`, { isBlocked: true });
    r = await api(FRANK_TOKEN, "POST", `/parley/v1/chats/${CHAT_ID}/messages/${card.id}/cardActions`, { type: "Action.Submit", data: {} });
    check(r.status === 403 && r.json?.error?.code === "forbiddenByPolicy", `a blocked app's card refuses actions (${r.status})`);
    await api(ADMIN_TOKEN, "PATCH", `/parley/v1/admin/teamsApps/${CATALOG_ID}`, { isBlocked: false });
  }

  r = await send(ALICE_TOKEN, `dm ${FRANK_ID}`);
  m = await waitFor(ALICE_TOKEN, CHAT_ID, (m) => m.body.content.startsWith("dm "), "the proactive message's outcome");
  check(m && m.body.content.startsWith("dm sent"), `the bot messages the external person proactively: ${m?.body.content}`);
  r = await api(FRANK_TOKEN, "GET", "/v1.0/me/chats");
  let found = false;
  for (const c of r.json?.value || []) {
    if (c.id === CHAT_ID) continue;
    const msgs = await api(FRANK_TOKEN, "GET", `/v1.0/chats/${c.id}/messages`);
    if ((msgs.json?.value || []).some((x) => x.from?.application?.id === APP_ID && x.body.content === "hello privately")) {
      found = true;
    }
  }
  check(found, "the external person has the bot's 1:1 message");

  // A message extension's action command, and its result posted via the app.
  const action = `/parley/v1/chats/${CHAT_ID}/apps/${CATALOG_ID}/composeExtensionAction`;
  r = await api(FRANK_TOKEN, "POST", action, { commandId: "createPoll", phase: "fetchTask" });
  check(r.status === 200 && r.json?.task?.type === "continue" && r.json.task.value.title === "New poll (createPoll, compose)" && r.json.task.value.card?.content?.body?.[0]?.id === "question",
    `fetchTask returns the bot's task module (${r.status} ${r.text})`);
  r = await api(FRANK_TOKEN, "POST", action, { commandId: "createPoll", phase: "submitAction", data: { question: "Tacos?" } });
  const result = r.json?.composeExtension?.attachments?.[0];
  check(r.status === 200 && r.json.composeExtension.type === "result" && JSON.stringify(result?.content || {}).includes("Poll: Tacos? by Frank in groupChat"),
    `submitAction returns the bot's result (${r.status} ${r.text})`);
  if (result) {
    r = await api(FRANK_TOKEN, "POST", `/v1.0/chats/${CHAT_ID}/messages`, {
      body: { contentType: "html", content: "" }, viaAppId: CATALOG_ID,
      attachments: [{ id: "1", contentType: result.contentType, content: JSON.stringify(result.content) }],
    });
    check(r.status === 201 && r.json.viaApp?.id === CATALOG_ID, `the result is posted via the app (${r.status} ${r.text})`);
    const posted = r.json?.id;
    r = await api(ALICE_TOKEN, "POST", `/parley/v1/chats/${CHAT_ID}/messages/${posted}/cardActions`, { type: "Action.Submit", data: { choice: "via" } });
    check(r.status === 200, `Action.Submit on the card posted via the app (${r.status} ${r.text})`);
    m = await waitFor(ALICE_TOKEN, CHAT_ID, (m) => m.body.content.includes('"choice":"via"'), "the via-app card's Action.Submit reaching the bot");
    check(m && m.body.content.includes("Alice"), `the bot got the action on a card a person posted: ${m?.body.content}`);
  }

  // Alice opens her own 1:1 chat with the bot: it greets there.
  r = await api(ALICE_TOKEN, "POST", `/parley/v1/me/apps/${CATALOG_ID}/chat`);
  check(r.status === 201 && r.json?.chatId, `alice opens the bot's personal chat (${r.status} ${r.text})`);
  if (r.json?.chatId) {
    m = await waitFor(ALICE_TOKEN, r.json.chatId, (m) => m.body.content.startsWith("Hello, I am installed"), "the bot's greeting in the personal chat");
    check(m && m.body.content.includes("personal"), `the bot saw a personal conversationUpdate: ${m?.body.content}`);
    // Its message extension runs in that chat: alice has the app personally.
    const apps = `/parley/v1/chats/${r.json.chatId}/apps/${CATALOG_ID}`;
    const pq = await api(ALICE_TOKEN, "POST", `${apps}/composeExtensionQuery`, { commandId: "searchPolls", parameters: [{ name: "query", value: "tea" }] });
    check(pq.status === 200 && JSON.stringify(pq.json || {}).includes("Found tea in no team"), `a search in the bot's personal chat (${pq.status} ${pq.text})`);
    const pa = await api(ALICE_TOKEN, "POST", `${apps}/composeExtensionAction`, { commandId: "createPoll", phase: "submitAction", data: { question: "Tea?" } });
    check(pa.status === 200 && JSON.stringify(pa.json || {}).includes("Poll: Tea? by Alice in personal"), `an action command in the bot's personal chat (${pa.status} ${pa.text})`);
  }

  r = await send(ALICE_TOKEN, `dm ${BOB_ID}`);
  m = await waitFor(ALICE_TOKEN, CHAT_ID, (m) => m.body.content.startsWith(`dm refused`) , "the refused proactive message");
  check(m && m.body.content.includes("403"), `a person the bot shares no conversation with is refused: ${m?.body.content}`);

  // --- A team: channels and threads ---
  const chan = `/v1.0/teams/${TEAM_ID}/channels/${encodeURIComponent(GENERAL_ID)}/messages`;
  const post = (token, html, root) =>
    api(token, "POST", root ? `${chan}/${root}/replies` : chan, { body: { contentType: "html", content: html } });
  // waitChannel polls General's top-level messages (root: a thread's
  // replies) until one from the bot matches.
  async function waitChannel(token, root, match, what) {
    for (let i = 0; i < 100; i++) {
      const r = await api(token, "GET", root ? `${chan}/${root}/replies` : `${chan}?$top=50`);
      if (r.status === 200) {
        const m = r.json.value.find((m) => m.from?.application?.id === APP_ID && match(m));
        if (m) {
          return m;
        }
      }
      await sleep(100);
    }
    check(false, `timed out waiting for ${what}`);
    return null;
  }
  r = await api(GINA_TOKEN, "POST", `/v1.0/teams/${TEAM_ID}/installedApps`, bind);
  check(r.status === 403, `a guest cannot add the bot to the team (${r.status})`);
  r = await api(ALICE_TOKEN, "POST", `/v1.0/teams/${TEAM_ID}/installedApps`, bind);
  check(r.status === 201, `the host user adds the bot to the team (${r.status} ${r.text})`);
  m = await waitChannel(ALICE_TOKEN, 0, (m) => m.body.content.startsWith("Hello, I am installed"), "the bot's greeting in General");
  check(m && m.body.content.includes("channel"), `the bot saw a channel conversationUpdate: ${m?.body.content}`);

  r = await post(ALICE_TOKEN, "nobody is mentioned here");
  check(r.status === 201, `a channel message without a mention (${r.status})`);
  r = await post(ALICE_TOKEN, '<at id="0">Poll bot</at> hello team');
  check(r.status === 201, `a channel message that mentions the bot (${r.status} ${r.text})`);
  const root = r.json?.id;
  m = await waitChannel(ALICE_TOKEN, root, (m) => m.body.content.startsWith("echo: hello team"), "the bot's answer in the thread");
  check(m && m.body.content.includes("hostUser"), `the bot answered in the thread: ${m?.body.content}`);
  let all = await api(ALICE_TOKEN, "GET", `${chan}?$top=50&$expand=replies`);
  check(!JSON.stringify(all.json).includes("echo: nobody"), "the bot got no channel message that does not mention it");

  r = await post(GINA_TOKEN, '<at id="0">Poll bot</at> card', root);
  check(r.status === 201, `the guest mentions the bot in the thread (${r.status})`);
  const tcard = await waitChannel(GINA_TOKEN, root, (m) => m.attachments.length > 0, "the bot's card in the thread");
  if (tcard) {
    const act = `/parley/v1/teams/${TEAM_ID}/channels/${encodeURIComponent(GENERAL_ID)}/messages/${root}/replies/${tcard.id}/cardActions`;
    r = await api(GINA_TOKEN, "POST", act, { type: "Action.Submit", data: { choice: "a" } });
    check(r.status === 200, `Action.Submit by the guest in a thread (${r.status} ${r.text})`);
    m = await waitChannel(GINA_TOKEN, root, (m) => m.body.content.startsWith("submitted:"), "the guest's Action.Submit reaching the bot");
    check(m && m.body.content.includes("Gina") && m.body.content.includes("guest"), `the bot knows the guest: ${m?.body.content}`);
    r = await api(ALICE_TOKEN, "POST", act, { type: "Action.Execute", verb: "vote", data: { poll: 1 } });
    check(r.status === 200 && JSON.stringify(r.json?.card || {}).includes("Voted vote by Alice"), `Action.Execute in a channel (${r.status} ${r.text})`);
    r = await api(GINA_TOKEN, "GET", `${chan}/${root}/replies/${tcard.id}`);
    check(r.status === 200 && r.json.attachments[0].content.includes("Voted vote by Alice"), "the channel card is updated in place");
  }

  // The message extension in a channel, and channels' lifecycle.
  const capps = `/parley/v1/teams/${TEAM_ID}/channels/${encodeURIComponent(GENERAL_ID)}/apps/${CATALOG_ID}`;
  r = await api(GINA_TOKEN, "POST", `${capps}/composeExtensionQuery`, { commandId: "searchPolls", parameters: [{ name: "query", value: "pizza" }] });
  check(r.status === 200 && JSON.stringify(r.json).includes("Found pizza in Plans"), `a guest searches the extension in a channel (${r.status} ${r.text})`);
  r = await api(ALICE_TOKEN, "POST", `${capps}/composeExtensionAction`, { commandId: "createPoll", phase: "submitAction", data: { question: "Sushi?" } });
  check(r.status === 200 && JSON.stringify(r.json).includes("Poll: Sushi? by Alice in channel"), `submitAction in a channel (${r.status} ${r.text})`);
  r = await api(ALICE_TOKEN, "POST", `/v1.0/teams/${TEAM_ID}/channels`, { displayName: "Ideas" });
  check(r.status === 201, `alice creates a channel (${r.status} ${r.text})`);
  const ideas = r.json?.id;
  m = await waitChannel(ALICE_TOKEN, 0, (m) => m.body.content.startsWith("Channel created: Ideas"), "the bot's channelCreated handler");
  check(m && m.body.content.includes(TEAM_ID) && m.body.content.includes("Plans"), `onTeamsChannelCreatedEvent got the channel and team: ${m?.body.content}`);
  r = await api(ALICE_TOKEN, "PATCH", `/v1.0/teams/${TEAM_ID}/channels/${encodeURIComponent(ideas)}`, { displayName: "Better ideas" });
  m = await waitChannel(ALICE_TOKEN, 0, (m) => m.body.content.startsWith("Channel renamed: Better ideas"), "the bot's channelRenamed handler");
  check(m !== null, "onTeamsChannelRenamedEvent got the new name");
  r = await api(ALICE_TOKEN, "DELETE", `/v1.0/teams/${TEAM_ID}/channels/${encodeURIComponent(ideas)}`);
  m = await waitChannel(ALICE_TOKEN, 0, (m) => m.body.content.startsWith("Channel deleted: Better ideas"), "the bot's channelDeleted handler");
  check(m !== null, "onTeamsChannelDeletedEvent ran");

  r = await post(ALICE_TOKEN, '<at id="0">Poll bot</at> members');
  m = await waitChannel(ALICE_TOKEN, r.json?.id, (m) => m.body.content.startsWith("members:"), "the team's member list");
  check(m && m.body.content.includes(":guest:") && !m.body.content.includes(FRANK_ID), `TeamsInfo lists the team's people: ${m?.body.content}`);

  r = await post(ALICE_TOKEN, `<at id="0">Poll bot</at> dm ${CAROL_ID}`);
  m = await waitChannel(ALICE_TOKEN, r.json?.id, (m) => m.body.content.startsWith("dm "), "the refused proactive message to someone outside the team");
  check(m && m.body.content.includes("403"), `a person outside the team is refused: ${m?.body.content}`);
  r = await api(ALICE_TOKEN, "POST", `/v1.0/teams/${TEAM_ID}/members`, { "@odata.type": "#microsoft.graph.aadUserConversationMember", roles: [], "user@odata.bind": `${BASE}/v1.0/users('${CAROL_ID}')` });
  check(r.status === 201, `carol joins the team (${r.status} ${r.text})`);
  m = await waitChannel(ALICE_TOKEN, 0, (m) => m.body.content.startsWith("Welcome Carol"), "the bot's welcome of a new team member");
  check(m && m.body.content.includes(TEAM_ID), `the bot welcomed the new member: ${m?.body.content}`);
  r = await post(ALICE_TOKEN, `<at id="0">Poll bot</at> dm ${CAROL_ID}`);
  m = await waitChannel(ALICE_TOKEN, r.json?.id, (m) => m.body.content.startsWith("dm "), "the proactive message to a team member");
  check(m && m.body.content.startsWith("dm sent"), `the bot messages a member of its team proactively: ${m?.body.content}`);

  r = await api(null, "GET", `/v3/conversations/${encodeURIComponent(CHAT_ID)}/members`);
  check(r.status === 401 && r.json?.error?.code === "unauthenticated", `the Connector API without a token: 401 (${r.status})`);
  r = await api("eyJhbGciOiJSUzI1NiJ9.eyJhcHBpZCI6IngifQ.c2ln", "GET", `/v3/conversations/${encodeURIComponent(CHAT_ID)}/members`);
  check(r.status === 401, `the Connector API with a forged token: 401 (${r.status})`);
} catch (e) {
  check(false, `unexpected error: ${e.stack || e}`);
}

server.close();
console.log(`botclient: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
