// Polls: a Bot Framework SDK bot for Teams, unchanged but for its settings,
// which point it at a Parley server. It greets when added to a chat,
// answers messages, and sends an Adaptive Card whose Action.Submit comes
// back as a message with a value and whose Action.Execute is answered with
// a new card that replaces the old one.
//
// Settings (environment):
//   PARLEY_URL              the server's public URL (https://…)
//   MICROSOFT_APP_ID        the bot's id   (parley admin bot register …)
//   MICROSOFT_APP_PASSWORD  the bot's secret
//   PORT                    where the bot listens (default 3978); register
//                           http(s)://<this host>:PORT/api/messages as its endpoint
import http from "node:http";
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TeamsActivityHandler,
  CardFactory,
  MessageFactory,
} from "botbuilder";
import { MsalServiceClientCredentialsFactory } from "botframework-connector";
import { ConfidentialClientApplication } from "@azure/msal-node";

const BASE = (process.env.PARLEY_URL || "").replace(/\/+$/, "");
const APP_ID = process.env.MICROSOFT_APP_ID;
const APP_PASSWORD = process.env.MICROSOFT_APP_PASSWORD;
if (!BASE || !APP_ID || !APP_PASSWORD) {
  console.error("set PARLEY_URL, MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD");
  process.exit(2);
}

// The SDK's configurable endpoints (the ones sovereign clouds use), pointed at Parley.
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
};
// MSAL asks login.microsoftonline.com about authorities it does not know;
// naming Parley as a known authority works offline too.
const msal = new ConfidentialClientApplication({
  auth: { clientId: APP_ID, clientSecret: APP_PASSWORD, authority, knownAuthorities: [BASE, new URL(BASE).host] },
});
const adapter = new CloudAdapter(
  new ConfigurationBotFrameworkAuthentication(config, new MsalServiceClientCredentialsFactory(APP_ID, msal)),
);
adapter.onTurnError = async (context, error) => {
  console.error(error);
  await context.sendActivity("Sorry, something went wrong.");
};

function pollCard(question, votes) {
  return CardFactory.adaptiveCard({
    type: "AdaptiveCard",
    version: "1.5",
    body: [
      { type: "TextBlock", text: question, weight: "Bolder" },
      { type: "TextBlock", text: `Votes: ${votes}` },
    ],
    actions: [
      { type: "Action.Submit", title: "Comment", data: { comment: "👍" } },
      { type: "Action.Execute", title: "Vote", verb: "vote", data: { question, votes } },
    ],
  });
}

class PollBot extends TeamsActivityHandler {
  constructor() {
    super();
    this.onMembersAdded(async (context, next) => {
      if (context.activity.membersAdded.some((m) => m.id === context.activity.recipient.id)) {
        await context.sendActivity('Hi! Send "poll <question>" and I will ask it.');
      }
      await next();
    });
    this.onMessage(async (context, next) => {
      const a = context.activity;
      if (a.value) {
        await context.sendActivity(`${a.from.name} says ${a.value.comment}`);
      } else {
        const text = (a.text || "").replace(/<at>[^<]*<\/at>/g, "").trim();
        if (text.startsWith("poll ")) {
          await context.sendActivity(MessageFactory.attachment(pollCard(text.slice(5), 0)));
        } else {
          // userRole: user, guest or anonymous; parleyKind also tells people of other organisations.
          await context.sendActivity(`Hello ${a.from.name} (${a.from.parleyKind || a.from.userRole}). Send "poll <question>".`);
        }
      }
      await next();
    });
  }

  async onAdaptiveCardInvoke(context, invokeValue) {
    const { question, votes } = invokeValue.action.data;
    return { statusCode: 200, type: "application/vnd.microsoft.card.adaptive", value: pollCard(question, votes + 1).content };
  }
}
const bot = new PollBot();

// CloudAdapter.process over node:http (no web framework needed).
http
  .createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", async () => {
      const response = {
        socket: res.socket,
        status(code) { res.statusCode = code; return this; },
        header(name, value) { res.setHeader(name, value); return this; },
        send(b) {
          if (b !== undefined) {
            if (typeof b === "object" && !Buffer.isBuffer(b)) { res.setHeader("Content-Type", "application/json"); b = JSON.stringify(b); }
            res.write(b);
          }
          return this;
        },
        end() { res.end(); return this; },
      };
      try {
        await adapter.process({ body: JSON.parse(raw || "{}"), headers: req.headers, method: req.method }, response, (ctx) => bot.run(ctx));
      } catch (e) {
        console.error(e);
        if (!res.writableEnded) { res.statusCode = 500; res.end(); }
      }
    });
  })
  .listen(Number(process.env.PORT || 3978), () => console.log(`Polls listening on :${process.env.PORT || 3978}/api/messages`));
