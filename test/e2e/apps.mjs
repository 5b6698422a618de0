// Browser tests of apps in conversations (docs/rules.md §9), run by run.mjs
// after the admin uploaded the Polls app: a host user adds the Polls bot to
// a meeting chat from its Apps panel; a guest mentions the bot (the bot's
// answer and card show), runs its message extension (the chosen result is
// posted as a card) and opens its tab (a sandboxed frame); a person without
// an account acts on the bot's cards (Submit reaches the bot, Execute
// updates the card in place); the admin turns "People without an account
// can use apps in meetings" off, after which that person's message-extension
// search is refused with the server's sentence while cards still work; and
// the personal apps page shows the app's tab. In a team, an owner adds Polls
// from a channel's Apps panel, opens its tab and @mentions the bot in a
// post, and the bot's answer shows in the thread with its card, which an
// Action.Execute updates in place.
//
// The Polls bot is internal/server/e2e_test.go's pollsBot; its tab is an
// https page of a test server with its own certificate, so the contexts
// here accept that certificate (ignoreHTTPSErrors) to load it in the frame.

/**
 * appSteps runs the steps; t carries run.mjs's plumbing: browser, pages,
 * problems, step, check, signIn, token, api, axe, shot, flip, labelsOK,
 * noSideways, chatLink, Admin (the admin's page), BASE, ADMIN, ALICE, BOB, GUEST, TAB_URL, LIVE.
 */
export async function appSteps(t) {
  const { step, check, signIn, axe, shot, flip, labelsOK, chatLink } = t;
  const SLOW = 15000; // a bot's answer goes through its queue and back

  // open is run.mjs's open() with the tab's certificate accepted.
  async function open(name, viewport = { width: 1280, height: 800 }) {
    const context = await t.browser.newContext({ viewport, baseURL: t.BASE, deviceScaleFactor: 1, reducedMotion: "reduce", ignoreHTTPSErrors: true });
    context.setDefaultTimeout(t.LIVE);
    const page = await context.newPage();
    page.on("pageerror", (e) => t.problems.push(`${name}: page error: ${e.message}`));
    page.on("console", (m) => {
      const x = m.text();
      if (m.type() === "error" && /Content Security Policy|Refused to/i.test(x)) t.problems.push(`${name}: ${x}`);
    });
    t.pages.push({ name, page });
    return { context, page };
  }
  async function close(p, name) {
    await p.context.close();
    t.pages.splice(t.pages.findIndex((x) => x.name === name), 1);
  }
  /** frameOK checks the tab frame's sandbox, referrer policy and address. */
  async function frameOK(page) {
    const f = page.getByTestId("app-tab").locator("iframe");
    await f.waitFor();
    const a = await f.evaluate((el) => ({ sandbox: el.getAttribute("sandbox"), ref: el.getAttribute("referrerpolicy"), src: el.getAttribute("src") }));
    check(a.sandbox === "allow-scripts allow-forms", `tab sandbox: ${a.sandbox}`);
    check(a.ref === "no-referrer", `tab referrerpolicy: ${a.ref}`);
    check(a.src === t.TAB_URL, `tab src: ${a.src}, want ${t.TAB_URL}`);
    await page.frameLocator('[data-testid="app-tab"] iframe').getByRole("heading", { name: "Polls tab" }).waitFor({ timeout: 10000 });
  }

  const tok = await t.token(t.ALICE);
  const meeting = await t.api(tok, "POST", "/v1.0/me/onlineMeetings", {
    subject: "Polls sync",
    participants: { attendees: [{ email: t.GUEST }] },
  });
  const A = await open("alice (apps)");
  const G = await open("guest (apps)");
  let Anon;
  let crew; // a group chat of Alice's and Bob's without Polls
  let team; // the Polls team, and the path of its General channel
  let channelPath;
  const enc = encodeURIComponent;
  const botMsg = (page, text) => page.locator("article.msg", { hasText: text });

  await step("apps: alice adds the Polls bot to a meeting chat from its Apps panel", async () => {
    const { page } = A;
    await signIn(page, t.ALICE);
    await page.goto(`/meetings/${encodeURIComponent(meeting.id)}`);
    await page.locator(".chat-title", { hasText: "Polls sync" }).waitFor();
    await page.getByRole("button", { name: "Apps", exact: true }).click();
    await page.getByRole("button", { name: "Add Polls" }).click();
    const row = page.getByTestId("installed-apps").locator('li[data-app="Polls"]');
    await row.waitFor();
    await page.getByText("Polls was added to this chat.").waitFor();
    await row.getByRole("button", { name: "Remove Polls" }).waitFor();
    await labelsOK(page);
    await axe(page, "meeting apps panel");
    await shot(page, "desktop-meeting-apps-panel");
    await row.getByRole("button", { name: "Open tab Polls of Polls" }).click();
    await frameOK(page);
    await page.getByRole("button", { name: "Back to the chat" }).click();
    await page.getByTestId("app-tab").waitFor({ state: "detached" });
  });

  await step("apps: a guest mentions the bot from the message box and its answer and card show", async () => {
    const { page } = G;
    await signIn(page, t.GUEST);
    await chatLink(page, "Polls sync").click();
    await page.locator(".chat-title", { hasText: "Polls sync" }).waitFor();
    const box = page.getByLabel("Message", { exact: true });
    await box.fill("@Pol");
    const option = page.getByRole("listbox", { name: "People to mention" }).getByRole("option", { name: /Polls/ });
    await option.locator(".badge", { hasText: "Bot" }).waitFor();
    await box.press("Enter");
    check((await box.inputValue()) === "@Polls ", `after picking the bot: ${await box.inputValue()}`);
    await box.fill("@Polls what's for lunch?");
    await box.press("Enter");
    const mine = page.locator("article.msg .mention", { hasText: "@Polls" });
    await mine.first().waitFor();
    const answer = botMsg(page, "Polls heard");
    await answer.getByText("what's for lunch?").waitFor({ timeout: SLOW });
    await answer.locator(".badge", { hasText: "Bot" }).waitFor();
    await answer.locator(".adaptive-card").getByText("Lunch poll: pizza?").waitFor();
    // The host sees it too, live.
    await botMsg(A.page, "Polls heard").locator(".adaptive-card").getByText("Lunch poll: pizza?").waitFor({ timeout: SLOW });
  });

  await step("apps: the guest searches the bot's message extension and posts a result as a card; opens its tab; cannot add or remove apps", async () => {
    const { page } = G;
    await page.getByRole("button", { name: "Message extensions", exact: true }).click();
    const pop = page.getByRole("dialog", { name: "Message extensions", exact: true });
    await pop.getByRole("button", { name: "Polls: Search polls" }).click();
    await pop.getByLabel("Polls: Search polls").fill("lunch");
    await pop.getByRole("button", { name: "Search" }).click();
    await pop.getByTestId("extension-results").getByText("Lunch poll").waitFor();
    check((await pop.getByTestId("extension-results").locator("li").count()) === 1, "the search for lunch should find one poll");
    await labelsOK(page);
    await axe(page, "message extension");
    await pop.getByRole("button", { name: "Send Lunch poll" }).click();
    await pop.waitFor({ state: "detached" });
    // Posted as the guest's message, marked with the app it came from, for both.
    for (const p of [page, A.page]) {
      const posted = p.locator("article.msg", { hasText: "Lunch poll: vote below." });
      await posted.locator(".adaptive-card").waitFor();
      await posted.getByTestId("via-app").getByText("via Polls").waitFor();
    }
    // The tab, and no add or remove for a guest: the catalog and the
    // install's allowedActions say so.
    await page.getByRole("button", { name: "Apps", exact: true }).click();
    const row = page.getByTestId("installed-apps").locator('li[data-app="Polls"]');
    await row.waitFor();
    check((await row.getByRole("button", { name: "Remove Polls" }).count()) === 0, "a guest is offered Remove");
    check((await page.getByRole("heading", { name: "Add an app" }).count()) === 0, "a guest is offered the catalog");
    await row.getByRole("button", { name: "Open tab Polls of Polls" }).click();
    await frameOK(page);
    await axe(page, "app tab");
    await shot(page, "desktop-app-tab");
    await page.getByRole("button", { name: "Back to the chat" }).click();
  });

  await step("apps: a person without an account acts on the bot's card: Submit reaches the bot, Execute updates the card in place", async () => {
    Anon = await open("anonymous (apps)");
    const { page } = Anon;
    await page.goto(meeting.joinWebUrl);
    await page.getByLabel("Your name").fill("Sam Visitor");
    await page.getByRole("button", { name: "Join meeting" }).click();
    const waiting = A.page.getByTestId("lobby").locator("li", { hasText: "Sam Visitor" });
    await waiting.getByRole("button", { name: "Admit" }).click({ timeout: SLOW });
    await page.getByRole("log", { name: "Messages" }).waitFor({ timeout: 10000 });
    // They see the chat from their arrival on: Alice asks the bot for a poll.
    await A.page.getByLabel("Message", { exact: true }).fill("A poll for Sam please");
    await A.page.getByLabel("Message", { exact: true }).press("Enter");
    const card = botMsg(page, "Polls heard").locator(".adaptive-card");
    await card.getByText("Lunch poll: pizza?").waitFor({ timeout: SLOW });
    await card.getByRole("button", { name: "Comment" }).click();
    await botMsg(page, /Thanks Sam Visitor.*, your comment reached Polls\./).waitFor({ timeout: SLOW });
    await card.getByRole("button", { name: "Vote pizza" }).click();
    await card.getByText(/Lunch poll: pizza has 1 vote\(s\), the last from Sam Visitor/).waitFor({ timeout: SLOW });
    // Updated in place for everyone.
    await botMsg(A.page, "Polls heard").getByText("pizza has 1 vote(s)").waitFor({ timeout: SLOW });
    // While the setting is on, the message extension works for them too.
    await page.getByRole("button", { name: "Message extensions", exact: true }).click();
    const pop = page.getByRole("dialog", { name: "Message extensions", exact: true });
    await pop.getByRole("button", { name: "Polls: Search polls" }).click();
    await pop.getByLabel("Polls: Search polls").fill("offsite");
    await pop.getByRole("button", { name: "Search" }).click();
    await pop.getByTestId("extension-results").getByText("Offsite poll").waitFor({ timeout: SLOW });
    await pop.getByRole("button", { name: "Close" }).click();
    await labelsOK(page);
    await axe(page, "anonymous meeting chat with a card");
    await shot(page, "desktop-meeting-anonymous-card");
  });

  await step("apps: on the join page, the bot's messages carry the Bot badge and @ offers the meeting chat's bot", async () => {
    const { page } = Anon;
    await botMsg(page, "Polls heard").first().locator(".badge", { hasText: "Bot" }).waitFor();
    const box = page.getByLabel("Message", { exact: true });
    await box.fill("@Pol");
    const option = page.getByRole("listbox", { name: "Bots to mention" }).getByRole("option", { name: /Polls/ });
    await option.locator(".badge", { hasText: "Bot" }).waitFor();
    await labelsOK(page);
    await axe(page, "join page bot mention list");
    await box.press("Enter");
    check((await box.inputValue()) === "@Polls ", `after picking the bot on the join page: ${await box.inputValue()}`);
    await box.fill("@Polls is the vote still open?");
    await box.press("Enter");
    await page.locator("article.msg .mention", { hasText: "@Polls" }).first().waitFor();
    await botMsg(page, "Polls heard Sam Visitor").getByText("is the vote still open?").waitFor({ timeout: SLOW });
    await shot(page, "desktop-meeting-anonymous-mention");
  });

  await step("apps: with anonymous app use turned off, the person's message-extension search is refused in words and cards still work", async () => {
    const { page } = t.Admin;
    await page.getByRole("link", { name: "Meetings" }).click();
    await page.getByRole("heading", { name: "Meetings" }).waitFor();
    await flip(page, "People without an account can use apps in meetings", false);
    const P = Anon.page;
    // The page was loaded before the change: the search is offered, and the server refuses it.
    await P.getByRole("button", { name: "Message extensions", exact: true }).click();
    const pop = P.getByRole("dialog", { name: "Message extensions", exact: true });
    await pop.getByRole("button", { name: "Polls: Search polls" }).click();
    await pop.getByLabel("Polls: Search polls").fill("lunch");
    await pop.getByRole("button", { name: "Search" }).click();
    await pop.getByRole("alert").getByText(/does not let anonymous participants use apps in meetings/).waitFor();
    check((await pop.getByTestId("extension-results").count()) === 0, "results shown for a refused search");
    await shot(P, "desktop-extension-refused");
    await pop.getByRole("button", { name: "Close" }).click();
    // Cards are always open to them (docs/rules.md §9): a new poll from the bot.
    await A.page.getByLabel("Message", { exact: true }).fill("One more poll please");
    await A.page.getByLabel("Message", { exact: true }).press("Enter");
    const next = botMsg(P, "Polls heard").filter({ hasText: "One more poll please" }).locator(".adaptive-card");
    await next.getByRole("button", { name: "Vote pizza" }).click({ timeout: SLOW });
    await next.getByText(/Lunch poll: pizza has 2 vote\(s\), the last from Sam Visitor/).waitFor({ timeout: SLOW });
    // Reloaded, the page no longer offers what the server refuses.
    const listed = P.waitForResponse((r) => r.url().includes("/installedApps"));
    await P.reload();
    await listed;
    await P.getByRole("log", { name: "Messages" }).getByText("pizza has 2 vote(s)").waitFor();
    check((await P.getByRole("button", { name: "Message extensions", exact: true }).count()) === 0, "the message extension is still offered after the setting went off");
    // Nor does @ list the bot: the install no longer allows mentioning it.
    await P.getByLabel("Message", { exact: true }).fill("@Pol");
    await P.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))); // rendered
    check((await P.getByRole("listbox", { name: "Bots to mention" }).count()) === 0, "the join page offers the bot to mention after the setting went off");
    await P.getByLabel("Message", { exact: true }).fill("");
    await flip(page, "People without an account can use apps in meetings", true);
    await close(Anon, "anonymous (apps)");
  });

  await step("apps: alice adds Polls to a team from a channel's Apps panel, opens its tab, and @mentions it in a post; the bot answers in the thread", async () => {
    const { page } = A;
    team = await t.api(tok, "POST", "/v1.0/teams", { displayName: "Polls team" });
    const general = await t.api(tok, "GET", `/v1.0/teams/${encodeURIComponent(team.id)}/primaryChannel`);
    channelPath = `/teams/${encodeURIComponent(team.id)}/channels/${encodeURIComponent(general.id)}`;
    await page.goto(channelPath);
    await page.locator(".chat-title", { hasText: "General" }).waitFor();
    await page.getByRole("button", { name: "Apps", exact: true }).click();
    const panel = page.getByRole("complementary", { name: "Apps in this team" });
    await panel.getByText("No apps in this team yet.").waitFor();
    await panel.getByRole("button", { name: "Add Polls" }).click();
    const row = panel.getByTestId("installed-apps").locator('li[data-app="Polls"]');
    await row.waitFor();
    await panel.getByText("Polls was added to this team.").waitFor();
    await row.getByRole("button", { name: "Remove Polls" }).waitFor();
    await labelsOK(page);
    await axe(page, "channel apps panel");
    await shot(page, "desktop-channel-apps-panel");
    await row.getByRole("button", { name: "Open tab Polls of Polls" }).click();
    await frameOK(page);
    await page.getByRole("button", { name: "Back to the channel" }).click();
    await page.getByTestId("app-tab").waitFor({ state: "detached" });
    // @ in the post box offers the team's bot; the post mentions it.
    const box = page.getByLabel("New post", { exact: true });
    await box.fill("@Pol");
    const option = page.getByRole("listbox", { name: "Bots to mention" }).getByRole("option", { name: /Polls/ });
    await option.locator(".badge", { hasText: "Bot" }).waitFor();
    await labelsOK(page);
    await axe(page, "channel bot mention list");
    await box.press("Enter");
    check((await box.inputValue()) === "@Polls ", `after picking the bot in a channel: ${await box.inputValue()}`);
    await box.fill("@Polls what's for dinner?");
    await box.press("Enter");
    const post = page.locator("article.post", { hasText: "what's for dinner?" }).first();
    await post.locator(".mention", { hasText: "@Polls" }).first().waitFor(); // the bot's answer may quote it too
    // The bot gets only posts that mention it, and answers in the thread.
    const answer = post.locator(".thread .msg", { hasText: "Polls heard" });
    await answer.getByText("what's for dinner?").waitFor({ timeout: SLOW });
    await answer.locator(".badge", { hasText: "Bot" }).waitFor();
    // Its card acts through the channel message's cardActions: Execute updates it in place.
    const card = answer.locator(".adaptive-card");
    await card.getByText("Lunch poll: pizza?").waitFor();
    await card.getByRole("button", { name: "Vote pizza" }).click();
    await answer.getByText(/Lunch poll: pizza has \d+ vote\(s\), the last from Alice/).waitFor({ timeout: SLOW });
    // A reply in the thread mentions it too (from the reply box's @ list), and it answers there.
    const reply = post.getByRole("textbox", { name: /^Reply to/ });
    await reply.fill("@Pol");
    await post.getByRole("listbox", { name: "Bots to mention" }).getByRole("option", { name: /Polls/ }).waitFor();
    await reply.press("Enter");
    check((await reply.inputValue()) === "@Polls ", `after picking the bot in a reply: ${await reply.inputValue()}`);
    await reply.fill("@Polls and for dessert?");
    await reply.press("Enter");
    await post.locator(".thread .msg", { hasText: "Polls heard" }).getByText("and for dessert?").waitFor({ timeout: SLOW });
    await axe(page, "channel with the bot's answer");
    await shot(page, "desktop-channel-bot");
  });

  await step("apps: a channel's post box runs Polls' message extension: a search posts a card, the New poll action asks with a task card and posts the poll", async () => {
    const { page } = A;
    const ext = page.getByRole("button", { name: "Message extensions", exact: true });
    const pop = page.getByRole("dialog", { name: "Message extensions", exact: true });
    await ext.click();
    await pop.getByRole("button", { name: "Polls: Search polls" }).click();
    await pop.getByLabel("Polls: Search polls").fill("offsite");
    await pop.getByRole("button", { name: "Search" }).click();
    await pop.getByRole("button", { name: "Send Offsite poll" }).click({ timeout: SLOW });
    await pop.waitFor({ state: "detached" });
    const found = page.locator("article.post", { hasText: "Offsite poll: vote below." });
    await found.getByTestId("via-app").getByText("via Polls").waitFor();
    const offsite = page.locator(`article.post[data-message-id="${await found.getAttribute("data-message-id")}"]`); // its text changes
    // Its card acts through Polls' bot, which answers with the card updated in place.
    await offsite.locator(".adaptive-card").getByRole("button", { name: "Vote pizza" }).click();
    await offsite.getByText(/pizza has \d+ vote\(s\), the last from Alice/).waitFor({ timeout: SLOW });
    // The action command: the bot's task card asks for the question.
    await ext.click();
    await pop.getByRole("button", { name: "Polls: New poll" }).click();
    const task = pop.getByTestId("extension-task");
    await task.getByLabel("Question").waitFor({ timeout: SLOW });
    await labelsOK(page);
    await axe(page, "message extension task card");
    // Empty, the bot answers with a task message, shown in words.
    await task.getByRole("button", { name: "Create poll" }).click();
    await pop.getByTestId("extension-message").getByText("A poll needs a question.").waitFor({ timeout: SLOW });
    await pop.getByRole("button", { name: "Back" }).click();
    await pop.getByRole("button", { name: "Polls: New poll" }).click();
    await task.getByLabel("Question").fill("Team dinner Friday?");
    await shot(page, "desktop-extension-action");
    await task.getByRole("button", { name: "Create poll" }).click();
    await pop.getByRole("button", { name: "Send Team dinner Friday?" }).click({ timeout: SLOW });
    await pop.waitFor({ state: "detached" });
    const dinner = page.locator("article.post", { hasText: "Team dinner Friday?: vote below." });
    await dinner.locator(".adaptive-card").waitFor();
    await dinner.getByTestId("via-app").getByText("via Polls").waitFor();
    await axe(page, "channel with the extension's posts");
  });

  await step("apps: a member and a guest of the team get in the channel's Apps panel only what the server gives them, and the panels follow changes live", async () => {
    for (const who of [t.BOB, t.GUEST]) {
      await t.api(tok, "POST", `/v1.0/teams/${enc(team.id)}/members`, { "@odata.type": "#microsoft.graph.aadUserConversationMember", roles: [], email: who });
    }
    const B = await open("bob (apps)");
    await signIn(B.page, t.BOB);
    const people = [
      { who: t.BOB, page: B.page },
      { who: t.GUEST, page: G.page },
    ];
    const panelOf = (page) => page.getByRole("complementary", { name: "Apps in this team" });
    for (const p of people) {
      await p.page.goto(channelPath);
      await p.page.locator(".chat-title", { hasText: "General" }).waitFor();
      await p.page.getByRole("button", { name: "Apps", exact: true }).click();
      const row = panelOf(p.page).getByTestId("installed-apps").locator('li[data-app="Polls"]');
      await row.waitFor();
      // The server's answer for this person: the install's allowedActions, and whether the catalog answers.
      const theirs = await t.token(p.who);
      const list = await t.api(theirs, "GET", `/v1.0/teams/${enc(team.id)}/installedApps`);
      const polls = list.value.find((i) => i.teamsApp.displayName === "Polls");
      p.allowed = polls.allowedActions ?? [];
      p.catalog = (await fetch(`${t.BASE}/v1.0/appCatalogs/teamsApps`, { headers: { Authorization: `Bearer ${theirs}` } })).ok;
      const offered = await row.getByRole("button", { name: "Remove Polls" }).count();
      check(offered === (p.allowed.includes("remove") ? 1 : 0), `${p.who}: Remove offered ${offered} time(s), allowedActions ${p.allowed}`);
      check((await panelOf(p.page).getByRole("heading", { name: "Add an app" }).count()) === 0, `${p.who}: the catalog offers an app already installed`);
      await axe(p.page, `channel apps panel (${p.who})`);
    }
    const guest = people[1];
    check(!guest.allowed.includes("remove"), `the guest may remove the team's app: ${guest.allowed}`);
    check(!guest.catalog, "the catalog answers a guest");
    await shot(G.page, "desktop-channel-apps-guest");
    // Alice removes Polls: both panels follow at once, and the guest's post box no longer offers its extension.
    await A.page.getByRole("button", { name: "Apps", exact: true }).click();
    await panelOf(A.page).getByRole("button", { name: "Remove Polls" }).click();
    for (const p of people) {
      await panelOf(p.page).getByText("No apps in this team yet.").waitFor();
      // The catalog is offered only to those it answers.
      const add = panelOf(p.page).getByRole("button", { name: "Add Polls" });
      if (p.catalog) await add.waitFor();
      else check((await panelOf(p.page).getByRole("heading", { name: "Add an app" }).count()) === 0, `${p.who} is offered the catalog, which refuses them`);
    }
    const guestExt = guest.allowed.includes("messageExtension");
    if (guestExt) await G.page.getByRole("button", { name: "Message extensions", exact: true }).waitFor({ state: "detached" });
    // Added again, it is back for both, live.
    await panelOf(A.page).getByRole("button", { name: "Add Polls" }).click();
    for (const p of people) await panelOf(p.page).getByTestId("installed-apps").locator('li[data-app="Polls"]').waitFor();
    if (guestExt) await G.page.getByRole("button", { name: "Message extensions", exact: true }).waitFor();
    await close(B, "bob (apps)");
    // A chat's Apps panel follows too: the guest watches the meeting chat's panel while Alice removes and adds Polls.
    await G.page.goto("/");
    await chatLink(G.page, "Polls sync").click();
    await G.page.getByRole("button", { name: "Apps", exact: true }).click();
    const chatPanel = G.page.getByRole("complementary", { name: "Apps in this chat" });
    const row = chatPanel.getByTestId("installed-apps").locator('li[data-app="Polls"]');
    await row.waitFor();
    const installs = await t.api(tok, "GET", `/v1.0/chats/${enc(meeting.chatInfo.threadId)}/installedApps`);
    const polls = installs.value.find((i) => i.teamsApp.displayName === "Polls");
    await t.api(tok, "DELETE", `/v1.0/chats/${enc(meeting.chatInfo.threadId)}/installedApps/${enc(polls.id)}`);
    await chatPanel.getByText("No apps in this chat yet.").waitFor();
    await t.api(tok, "POST", `/v1.0/chats/${enc(meeting.chatInfo.threadId)}/installedApps`, {
      "teamsApp@odata.bind": `${t.BASE}/v1.0/appCatalogs/teamsApps/${polls.teamsApp.id}`,
    });
    await row.waitFor();
  });

  await step("apps: the personal apps page adds Polls for alice and opens its tab, at desktop and phone sizes", async () => {
    const { page } = A;
    await page.getByRole("link", { name: "My apps" }).click();
    await page.getByRole("heading", { name: "Your apps" }).waitFor();
    await page.getByRole("button", { name: "Add Polls to your apps" }).click();
    await page.getByTestId("personal-apps").getByRole("link", { name: /Polls/ }).click();
    await page.getByRole("heading", { name: "Polls", exact: true }).waitFor();
    await frameOK(page);
    await labelsOK(page);
    await axe(page, "personal apps");
    await shot(page, "desktop-personal-apps");
    // On a phone the page is one column and nothing sticks out sideways.
    const P = await open("alice (apps, phone)", { width: 360, height: 740 });
    await signIn(P.page, t.ALICE);
    await P.page.goto(new URL(page.url()).pathname);
    await frameOK(P.page);
    await t.noSideways(P.page);
    await axe(P.page, "personal apps (phone)");
    await close(P, "alice (apps, phone)");
    // Chat opens Alice's 1:1 chat with the bot, where it answers with its card.
    await page.getByTestId("personal-apps").getByRole("button", { name: "Chat with Polls" }).click();
    await page.waitForURL("**/chats/**");
    const chatUrl = page.url();
    // The bot is no member of the chat; the chat's app names it, before
    // the bot wrote anything, in the header and the list (after a reload too).
    await page.locator(".chat-title", { hasText: "Polls" }).waitFor();
    await page.getByText("You and its bot").waitFor();
    await page.reload();
    await page.locator(".conv-list a.conv[aria-current=page] .conv-title").getByText("Polls", { exact: true }).waitFor();
    await page.locator(".chat-title", { hasText: "Polls" }).waitFor();
    const box = page.getByLabel("Message", { exact: true });
    await box.fill("hello Polls");
    await box.press("Enter");
    const answer = botMsg(page, "Polls heard");
    await answer.getByText("hello Polls").waitFor({ timeout: SLOW });
    await answer.locator(".badge", { hasText: "Bot" }).waitFor();
    const card = answer.locator(".adaptive-card");
    await card.getByRole("button", { name: "Vote pizza" }).click();
    await card.getByText(/Lunch poll: pizza has \d+ vote\(s\), the last from Alice/).waitFor({ timeout: SLOW });
    await labelsOK(page);
    await axe(page, "chat with a bot");
    await shot(page, "desktop-bot-chat");
    // Chat again: the same chat.
    await page.getByRole("link", { name: "My apps" }).click();
    await page.getByTestId("personal-apps").getByRole("button", { name: "Chat with Polls" }).click();
    await page.waitForURL(chatUrl);
    await page.goto(`/meetings/${encodeURIComponent(meeting.id)}`);
    await botMsg(page, "Polls heard").first().waitFor();
    await shot(page, "desktop-meeting-apps");
  });

  await step("apps: the ⊞ button offers alice's own Polls in her bot chat, in a chat of her organisation without Polls (a refusal in the server's words), and in a channel's reply box", async () => {
    const { page } = A;
    const ext = page.getByRole("button", { name: "Message extensions", exact: true });
    const pop = page.getByRole("dialog", { name: "Message extensions", exact: true });
    /** sendFound runs Polls' search for q in the open popup and sends the result named title. */
    async function sendFound(p, q, title) {
      await p.getByRole("button", { name: "Polls: Search polls" }).click();
      await p.getByLabel("Polls: Search polls").fill(q);
      await p.getByRole("button", { name: "Search" }).click();
      await p.getByRole("button", { name: `Send ${title}` }).click({ timeout: SLOW });
      await p.waitFor({ state: "detached" });
    }
    // Her 1:1 chat with the bot has no install of its own: her personal app is its apps.
    await page.getByRole("link", { name: "My apps" }).click();
    await page.getByTestId("personal-apps").getByRole("button", { name: "Chat with Polls" }).click();
    await page.locator(".chat-title", { hasText: "Polls" }).waitFor();
    await ext.click();
    await pop.getByRole("button", { name: "Polls: Search polls" }).waitFor();
    await labelsOK(page);
    await axe(page, "personal app's extension in the bot chat");
    await pop.getByRole("button", { name: "Close" }).click();
    await ext.click();
    await sendFound(pop, "lunch", "Lunch poll");
    await page.locator("article.msg", { hasText: "Lunch poll: vote below." }).getByTestId("via-app").getByText("via Polls").waitFor();
    // A group chat of Contoso where nobody added Polls.
    const bobId = (await t.api(await t.token(t.BOB), "GET", "/v1.0/me")).id;
    const me = await t.api(tok, "GET", "/v1.0/me");
    crew = await t.api(tok, "POST", "/v1.0/chats", {
      chatType: "group",
      topic: "Lunch crew",
      members: [me.id, bobId].map((id) => ({ "@odata.type": "#microsoft.graph.aadUserConversationMember", roles: ["owner"], "user@odata.bind": `${t.BASE}/v1.0/users('${id}')` })),
    });
    await page.goto(`/chats/${encodeURIComponent(crew.id)}`);
    await page.locator(".chat-title", { hasText: "Lunch crew" }).waitFor();
    await ext.click();
    await sendFound(pop, "offsite", "Offsite poll");
    await page.locator("article.msg", { hasText: "Offsite poll: vote below." }).getByTestId("via-app").getByText("via Polls").waitFor();
    // The server decides every call: with NoPolls granted to her (the
    // page's list is older), the search is refused in its words.
    const admin = await t.token(t.ADMIN);
    await t.api(admin, "POST", "/parley/v1/admin/appPermissionPolicies/NoPolls/grant", { userIds: [me.id] });
    try {
      await ext.click();
      await pop.getByRole("button", { name: "Polls: Search polls" }).click();
      await pop.getByLabel("Polls: Search polls").fill("lunch");
      await pop.getByRole("button", { name: "Search" }).click();
      await pop.getByRole("alert").getByText(/permission policy/).waitFor();
      await axe(page, "personal app's extension refused");
      await pop.getByRole("button", { name: "Close" }).click();
    } finally {
      await t.api(admin, "POST", "/parley/v1/admin/appPermissionPolicies/Global/grant", { userIds: [me.id] });
    }
    // A channel's reply box: the result is posted in the thread.
    await page.goto(channelPath);
    const dinner = page.locator("article.post", { hasText: "Team dinner Friday?: vote below." });
    await dinner.getByRole("button", { name: /^Message extensions \(Reply to/ }).click();
    const replyPop = dinner.getByRole("dialog", { name: /^Message extensions \(Reply to/ });
    await replyPop.getByRole("button", { name: "Polls: Search polls" }).waitFor();
    await labelsOK(page);
    await axe(page, "message extension in a reply box");
    await sendFound(replyPop, "lunch", "Lunch poll");
    const reply = dinner.locator(".thread .msg", { hasText: "Lunch poll: vote below." });
    await reply.getByTestId("via-app").getByText("via Polls").waitFor();
    await shot(page, "desktop-extension-reply");
    await close(A, "alice (apps)");
    await close(G, "guest (apps)");
  });

  await step("admin: explain's apps mode gives the server's decision and its reasons for a person, an app and a conversation", async () => {
    const { page } = t.Admin;
    await page.goto("/admin/explain");
    await page.getByRole("radio", { name: "Apps" }).check();
    await page.getByLabel("Person", { exact: true }).fill(t.ALICE);
    await page.getByLabel("App", { exact: true }).selectOption({ label: "Polls" });
    await page.getByLabel("Conversation", { exact: true }).fill(meeting.chatInfo.threadId);
    await page.getByRole("button", { name: "Explain" }).click();
    const res = page.getByTestId("explain-app-result");
    await res.getByRole("heading", { name: /can use Polls here$/ }).waitFor();
    await res.getByText("As a person of your organisation in a meeting chat.").waitFor();
    await res.locator("li.pass", { hasText: "The app is installed here" }).waitFor();
    await labelsOK(page);
    await axe(page, "explain an app");
    await shot(page, "desktop-explain-app");
    // The group chat nobody added Polls to: her bot is not there, her own
    // app's message extension is.
    await page.getByLabel("Conversation", { exact: true }).fill(crew.id);
    await page.getByRole("button", { name: "Explain" }).click();
    await res.getByRole("heading", { name: /can't use Polls here$/ }).waitFor();
    await res.getByTestId("explain-app-message").getByText("This app is not installed here.").waitFor();
    await res.locator("li.fail", { hasText: "The app is installed here" }).waitFor();
    await axe(page, "explain an app, refused");
    await shot(page, "desktop-explain-app-refused");
    await page.getByLabel("What they want to do").selectOption("messageExtension");
    await page.getByRole("button", { name: "Explain" }).click();
    await res.getByRole("heading", { name: /can run Polls's message extension here$/ }).waitFor();
    // A channel: the answer names Bob's role in the team.
    await page.getByLabel("Person", { exact: true }).fill(t.BOB);
    await page.getByLabel("What they want to do").selectOption("use");
    await page.getByLabel("Conversation", { exact: true }).fill(decodeURIComponent(channelPath.split("/")[4]));
    await page.getByRole("button", { name: "Explain" }).click();
    await res.getByText("As a person of your organisation in a team's channel, the team's member.").waitFor();
    // Someone not in the conversation: the server's words.
    await page.getByLabel("Conversation", { exact: true }).fill(meeting.chatInfo.threadId);
    await page.getByRole("button", { name: "Explain" }).click();
    await page.getByRole("alert").getByText(/is not in conversation/).waitFor();
    await res.waitFor({ state: "detached" });
  });
}
