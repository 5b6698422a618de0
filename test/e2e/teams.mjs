// Browser tests of team management and the meeting organiser's controls,
// run from run.mjs after its own team and meeting steps. Each function takes
// run.mjs's plumbing (t: step, open, close, signIn, check, axe, shot,
// labelsOK, noSideways, token, ALICE, PHONE) and the pages it works with, and leaves Alice's page
// where it found it (on her chat with Nina).
//
// Needs, besides run.mjs's environment: GUEST2, a guest of Contoso in no
// team (gus@outlook.com).

const GUEST2 = process.env.GUEST2;

/** channelLink is a channel in the Teams tab, under its team. */
function channelLink(page, team, channel) {
  const name = channel.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return page.locator(".team", { hasText: team }).getByRole("link", { name: new RegExp(`^# ${name}(\\s*\\d+ unread)?$`) });
}

/** openTeam goes to the Teams tab and opens a channel of a team. */
async function openChannel(page, team, channel = "General") {
  await page.getByRole("link", { name: "Teams", exact: true }).click();
  await channelLink(page, team, channel).click();
  await page.locator(".chat-title", { hasText: `# ${channel}` }).waitFor();
}

/** noOwnerControls checks that a page offers nothing only owners may do. */
async function noOwnerControls(t, page, who) {
  const found = [];
  if (await page.getByRole("link", { name: "Manage team" }).count()) found.push("Manage team");
  if (await page.getByLabel("Add someone by email").count()) found.push("Add someone by email");
  if (await page.getByRole("button", { name: /^(Remove|Rename|Delete|Make owner|Make member)\b/ }).count()) found.push("owner buttons");
  t.check(found.length === 0, `${who} is offered owner controls: ${found.join(", ")}`);
}

/**
 * teamSteps: an owner creates, renames and deletes channels (General keeps
 * its name), adds a guest who sees only that team, makes a member an owner
 * and back, and removes a member, each seen live by the others.
 */
export async function teamSteps(t, { A, BASE, BOB, NINA_NAME }) {
  let teamId;
  let bob; // Bob's own browser for these steps
  await t.step("team owner: channels created, renamed and deleted, live for a member; General offers neither; a member sees no owner controls", async () => {
    const { page } = A;
    bob = await t.open("bob-teams");
    await t.signIn(bob.page, BOB);
    await openChannel(page, "Launch team");
    teamId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]);
    await page.getByRole("link", { name: "Manage team" }).click();
    await page.getByRole("heading", { name: "Manage Launch team" }).waitFor();
    const channels = page.getByTestId("manage-channels");
    const general = channels.locator('li[data-channel="General"]');
    await general.getByText("can't be renamed or deleted").waitFor();
    t.check((await general.getByRole("button").count()) === 0, "General offers Rename or Delete");
    await page.getByLabel("New channel").fill("Design");
    await page.getByRole("button", { name: "Create channel" }).click();
    await channels.getByText("# Design is created.").waitFor();
    await channelLink(page, "Launch team", "Design").waitFor();
    await t.labelsOK(page);
    await t.axe(page, "manage team");
    // Bob, a member, sees the new channel arrive and opens it.
    await openChannel(bob.page, "Launch team", "Design");
    await noOwnerControls(t, bob.page, "a member");
    await t.axe(bob.page, "channel (member)");
    // Renamed: the owner's list and the member's open channel follow.
    await channels.getByRole("button", { name: "Rename Design" }).click();
    await channels.getByLabel("New name for Design").fill("Design reviews");
    await channels.getByRole("button", { name: "Save", exact: true }).click();
    await channels.getByText("Renamed to Design reviews.").waitFor();
    await bob.page.locator(".chat-title", { hasText: "# Design reviews" }).waitFor();
    await channelLink(bob.page, "Launch team", "Design reviews").waitFor();
    // Delete asks first; Cancel keeps it.
    await channels.getByRole("button", { name: "Delete Design reviews" }).click();
    const ask = channels.getByRole("alertdialog");
    await ask.getByText("can't be undone").waitFor();
    t.check(await page.waitForFunction(() => document.activeElement?.textContent === "Delete channel", null, { timeout: 5000 }).then(() => true, () => false), "the confirmation's button has no focus");
    await t.axe(page, "manage team (confirm delete)");
    await t.shot(page, "desktop-team-manage");
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "detached" });
    await channels.getByRole("button", { name: "Delete Design reviews" }).click();
    await ask.getByRole("button", { name: "Delete channel" }).click();
    await channels.getByText("# Design reviews is deleted.").waitFor();
    await channels.locator('li[data-channel="Design reviews"]').waitFor({ state: "detached" });
    // A name the API refuses is its sentence, nothing changed.
    await page.getByLabel("New channel").fill("general");
    await page.getByRole("button", { name: "Create channel" }).click();
    await channels.getByRole("alert").waitFor();
    t.check(!(await channels.getByRole("alert").textContent()).includes("{"), "the refusal is not in words");
    t.check((await channels.locator("li").count()) === 1, "a refused channel was added");
    await page.getByLabel("New channel").fill("");
    // Bob was in it: he lands on General, told why, and the channel is gone from his list.
    await bob.page.locator(".chat-title", { hasText: "# General" }).waitFor();
    await bob.page.getByText("was deleted by an owner").waitFor();
    t.check((await channelLink(bob.page, "Launch team", "Design reviews").count()) === 0, "the deleted channel is still in the member's list");
    // A member who types the owners' page sees whom it is for, and no controls.
    await bob.page.goto(`/teams/${encodeURIComponent(teamId)}/manage`);
    await bob.page.getByTestId("not-owner").waitFor();
    await noOwnerControls(t, bob.page, "a member on the owners' page");
    t.check((await bob.page.locator(".manage-team input").count()) === 0, "the owners' page has fields for a member");
    await t.axe(bob.page, "manage team (member)");
    // The owners' page fits a phone.
    const phone = await t.open("alice-phone-teams", t.PHONE);
    await t.signIn(phone.page, t.ALICE);
    await phone.page.goto(`/teams/${encodeURIComponent(teamId)}/manage`);
    await phone.page.getByTestId("manage-members").locator("li", { hasText: "Bob" }).waitFor();
    await t.noSideways(phone.page);
    await t.axe(phone.page, "phone manage team");
    await t.close("alice-phone-teams");
  });

  await t.step("a guest in a channel: added by an owner, sees only that team, reads and posts, no owner controls; the owner sees the Guest badge; the guest leaves", async () => {
    const { page } = A;
    await page.getByRole("link", { name: "Teams", exact: true }).click();
    await page.getByRole("link", { name: "New team" }).click();
    await page.getByLabel("Team name").fill("Partners");
    await page.getByRole("button", { name: "Create team" }).click();
    await page.locator(".chat-title", { hasText: "# General" }).waitFor();
    const partners = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]);
    await page.getByLabel("New post").fill("Welcome to Partners, Gus");
    await page.getByLabel("New post").press("Enter");
    const welcome = page.locator(".post", { hasText: "Welcome to Partners, Gus" });
    await welcome.waitFor();
    await page.getByRole("link", { name: "Manage team" }).click();
    await page.getByLabel("Add someone by email").fill(GUEST2);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    const members = page.getByTestId("manage-members");
    await members.getByText(`Added ${GUEST2}.`).waitFor();
    const gusRow = members.locator("li", { hasText: "Gus" });
    await gusRow.locator(".badge.guest").waitFor();
    t.check((await gusRow.getByRole("button", { name: /^Make owner/ }).count()) === 0, "a guest is offered as an owner");
    // The owner watches the channel while the guest arrives.
    await openChannel(page, "Partners");
    // The guest signs in: one team, its channel, the owner's post.
    const G = await t.open("guest-teams");
    await t.signIn(G.page, GUEST2);
    await G.page.getByRole("link", { name: "Teams", exact: true }).click();
    await G.page.locator(".team", { hasText: "Partners" }).waitFor();
    t.check((await G.page.locator(".team-list .team").count()) === 1, "the guest sees teams they are not in");
    t.check((await G.page.getByRole("link", { name: "New team" }).count()) === 0, "a guest is offered New team");
    await channelLink(G.page, "Partners", "General").click();
    const hers = G.page.locator(".post", { hasText: "Welcome to Partners, Gus" });
    await hers.waitFor();
    await noOwnerControls(t, G.page, "a guest");
    await G.page.getByLabel("New post").fill("Thanks, glad to be here");
    await G.page.getByLabel("New post").press("Enter");
    await hers.getByLabel(/^Reply to/).fill("Looking forward to it");
    await hers.getByRole("button", { name: "Reply", exact: true }).click();
    await t.axe(G.page, "channel (guest in one team)");
    // The owner sees both live, badged Guest, and Gus badged in the people list.
    const post = page.locator(".post", { hasText: "Thanks, glad to be here" });
    await post.locator(".msg .badge.guest").waitFor();
    await page.locator(".post", { hasText: "Welcome to Partners, Gus" }).locator(".thread .msg", { hasText: "Looking forward to it" }).locator(".badge.guest").waitFor();
    await page.getByRole("complementary", { name: "People in this team" }).locator("li", { hasText: "gus" }).locator(".badge.guest").waitFor();
    await page.mouse.move(5, 700);
    await t.shot(page, "desktop-channel-guest");
    // The owners' page is not for a guest either.
    await G.page.goto(`/teams/${encodeURIComponent(partners)}/manage`);
    await G.page.getByTestId("not-owner").waitFor();
    await noOwnerControls(t, G.page, "a guest on the owners' page");
    await t.axe(G.page, "manage team (guest)");
    // The last owner is not offered Leave; a guest may leave, asked first.
    t.check((await page.getByRole("button", { name: "Leave team" }).count()) === 0, "the last owner is offered Leave team");
    await channelLink(G.page, "Partners", "General").click();
    await G.page.getByRole("button", { name: "Leave team" }).click();
    const leave = G.page.getByRole("alertdialog");
    await leave.getByText("You lose its channels at once").waitFor();
    await t.axe(G.page, "channel (leave team?)");
    await leave.getByRole("button", { name: "Leave team" }).click();
    await G.page.waitForURL((u) => u.pathname === "/teams");
    await G.page.locator(".team", { hasText: "Partners" }).waitFor({ state: "detached" });
    t.check((await G.page.getByText("An owner removed you").count()) === 0, "leaving says an owner removed them");
    await page.getByRole("complementary", { name: "People in this team" }).locator("li", { hasText: "gus" }).waitFor({ state: "detached" });
    await t.close("guest-teams");
  });

  await t.step("team owner: a member made owner and back, live; a member removed loses the team at once", async () => {
    const { page } = A;
    await page.goto(`/teams/${encodeURIComponent(teamId)}/manage`);
    const members = page.getByTestId("manage-members");
    const bobRow = members.locator("li", { hasText: "Bob" });
    await openChannel(bob.page, "Launch team");
    await bobRow.getByRole("button", { name: /^Make owner/ }).click();
    await bobRow.locator(".badge", { hasText: "Owner" }).waitFor();
    // Bob's open channel offers him the owners' page at once.
    await bob.page.getByRole("link", { name: "Manage team" }).waitFor();
    await bobRow.getByRole("button", { name: /^Make member/ }).click();
    await bobRow.locator(".badge", { hasText: "Owner" }).waitFor({ state: "detached" });
    await bob.page.getByRole("link", { name: "Manage team" }).waitFor({ state: "detached" });
    // Alice cannot remove herself here (she leaves another way), and Remove asks first.
    const aliceRow = members.locator("li", { hasText: "Alice" }).first();
    t.check((await aliceRow.getByRole("button", { name: /^Remove/ }).count()) === 0, "the owner is offered to remove herself");
    await bobRow.getByRole("button", { name: /^Remove/ }).click();
    const ask = members.getByRole("alertdialog");
    await ask.getByText("loses every channel of this team").waitFor();
    await ask.getByRole("button", { name: "Remove" }).click();
    await members.getByText("is no longer in the team.").waitFor();
    await bobRow.waitFor({ state: "detached" });
    await bob.page.waitForURL((u) => u.pathname === "/teams" && u.searchParams.has("left"));
    await bob.page.getByText("An owner removed you from a team").waitFor();
    t.check((await bob.page.locator(".team", { hasText: "Launch team" }).count()) === 0, "the removed member still lists the team");
    await t.axe(bob.page, "teams (removed)");
    const r = await fetch(`${BASE}/v1.0/teams/${encodeURIComponent(teamId)}`, { headers: { Authorization: `Bearer ${await t.token(BOB)}` } });
    t.check(r.status === 404, `the removed member reads the team: ${r.status}`);
    await t.close("bob-teams");
    await page.getByRole("link", { name: "Chats", exact: true }).first().click();
    await page.locator(".conv-list a.conv", { hasText: NINA_NAME }).click();
  });
}

/**
 * meetingSteps: the organiser invites someone into a meeting by e-mail,
 * copies the link, renews it (asked first; the old link is refused, in words,
 * to a signed-in person), a signed-in colleague who was not invited joins by
 * the link into the meeting chat, two personal accounts signed in wait in the
 * lobby (one admitted into the chat; one turned away, in words, then knocking
 * again and admitted to the meeting chat's request), and the organiser ends
 * the meeting, which ends the session of
 * someone who joined without an account.
 */
export async function meetingSteps(t, { A, BASE, BOB, ADMIN, NINA, NINA_NAME, PAT }) {
  await t.step("meeting organiser: invite by email, copy the link, a new link (the old one refused), a colleague joins by link, signed-in people wait in the lobby (admitted, turned away, admitted to a request), end the meeting", async () => {
    const { page } = A;
    await A.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    await page.getByRole("link", { name: "Meet", exact: true }).click();
    await page.getByLabel("Subject").fill("Budget sync");
    await page.getByRole("button", { name: "Create meeting" }).click();
    await page.waitForURL("**/meetings/**");
    const meetingId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]);
    const panel = page.getByTestId("meeting-panel");
    // Invite Bob by address: he is in the meeting chat at once (a colleague).
    const bob = await t.open("bob-meeting");
    await t.signIn(bob.page, BOB);
    await panel.getByLabel("Invite by email or phone").fill(BOB);
    await panel.getByRole("button", { name: "Invite", exact: true }).click();
    await panel.getByText(`Invited ${BOB}.`).waitFor();
    await panel.getByTestId("roster").locator("li", { hasText: "Bob" }).waitFor();
    await bob.page.locator(".conv-list a.conv", { hasText: "Budget sync" }).waitFor();
    // A refusal is the server's sentence.
    await panel.getByLabel("Invite by email or phone").fill("not an address");
    await panel.getByRole("button", { name: "Invite", exact: true }).click();
    await panel.getByRole("alert").waitFor();
    await panel.getByLabel("Invite by email or phone").fill("");
    // Copy puts the link on the clipboard.
    const oldLink = await panel.getByLabel("Join link").inputValue();
    await panel.getByRole("button", { name: "Copy" }).click();
    await panel.getByRole("button", { name: "Copied" }).waitFor();
    t.check((await page.evaluate(() => navigator.clipboard.readText())) === oldLink, "Copy did not put the join link on the clipboard");
    // A new link asks first and says the old one stops working; Cancel keeps it.
    await panel.getByRole("button", { name: "New link" }).click();
    const ask = panel.getByRole("alertdialog");
    await ask.getByText("The current link stops working at once").waitFor();
    await t.axe(page, "meeting (organiser, new link?)");
    await ask.getByRole("button", { name: "Cancel" }).click();
    t.check((await panel.getByLabel("Join link").inputValue()) === oldLink, "Cancel changed the link");
    await panel.getByRole("button", { name: "New link" }).click();
    await ask.getByRole("button", { name: "Get new link" }).click();
    await panel.getByText("The old link no longer works.").waitFor();
    const newLink = await panel.getByLabel("Join link").inputValue();
    t.check(newLink !== oldLink && /\/meet\/[A-Za-z0-9_-]+$/.test(newLink), `renewed link: ${newLink}`);
    t.check((await panel.getByRole("button", { name: "Copy" }).count()) === 1, "the copy state outlived the old link");
    const oldToken = oldLink.split("/meet/")[1];
    const r = await fetch(`${BASE}/parley/v1/meetings/join`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: oldToken, displayName: "Late Larry" }),
    });
    t.check(r.status === 404, `the old link still lets people join: ${r.status}`);
    await page.mouse.move(5, 700);
    await t.axe(page, "meeting (organiser)");
    await t.shot(page, "desktop-meeting-organiser");
    // Signed in, the old link says it no longer works, in words.
    await bob.page.goto(oldLink);
    await bob.page.getByTestId("join-refused").getByRole("alert").waitFor();
    t.check(/not valid|ended|renewed/.test(await bob.page.getByTestId("join-refused").textContent()), "the refused join does not say why");
    await t.axe(bob.page, "meeting join refused (signed in)");
    // A colleague who was not invited opens the new link signed in: into the meeting chat.
    const adm = await t.open("admin-meeting");
    await t.signIn(adm.page, ADMIN);
    await adm.page.goto(newLink);
    await adm.page.waitForURL("**/chats/**");
    await adm.page.locator(".chat-title", { hasText: "Budget sync" }).waitFor();
    await panel.getByTestId("roster").locator("li", { hasText: /admin/i }).waitFor();
    await t.axe(adm.page, "meeting chat (joined by link)");
    // Someone without an account joins and is let in.
    const anon = await t.open("anonymous-2");
    await anon.page.goto(newLink);
    await anon.page.getByLabel("Your name").fill("Vera Visitor");
    await anon.page.getByRole("button", { name: "Join meeting" }).click();
    await panel.getByTestId("lobby").locator("li", { hasText: "Vera Visitor" }).getByRole("button", { name: "Admit" }).click({ timeout: 15000 });
    await anon.page.getByRole("log", { name: "Messages" }).waitFor({ timeout: 10000 });
    // Signed-in people the setting keeps waiting (personal accounts): Nina waits in the
    // lobby and, admitted, gets the meeting chat's request; Pat waits and is turned away.
    const nina = await t.open("nina-meeting");
    await t.signIn(nina.page, NINA);
    await nina.page.goto(newLink);
    await nina.page.getByTestId("lobby-wait").getByText("Waiting to be let in").waitFor();
    await t.axe(nina.page, "meeting join: lobby (signed in)");
    await t.shot(nina.page, "desktop-meeting-lobby-wait");
    const pat = await t.open("pat-meeting");
    await t.signIn(pat.page, PAT);
    await pat.page.goto(newLink);
    await pat.page.getByTestId("lobby-wait").waitFor();
    const lobby = panel.getByTestId("lobby");
    await lobby.locator("li", { hasText: "pat" }).getByRole("button", { name: "Deny" }).click({ timeout: 15000 });
    await pat.page.getByTestId("join-refused").getByText("You weren't let in to the meeting.").waitFor();
    await t.axe(pat.page, "meeting join: turned away (signed in)");
    // Nina already chats with Alice: admitted, she is in the meeting chat at once.
    const waiting = lobby.locator("li", { hasText: "nina" });
    await waiting.locator(".badge.external").waitFor();
    await waiting.getByRole("button", { name: "Admit" }).click();
    await nina.page.waitForURL("**/chats/**");
    await nina.page.locator(".chat-title", { hasText: "Budget sync" }).waitFor();
    // Pat knocks again; admitted, the meeting chat is a request she accepts.
    await pat.page.getByRole("button", { name: "Ask to join again" }).click();
    await pat.page.getByTestId("lobby-wait").waitFor();
    await lobby.locator("li", { hasText: "pat" }).getByRole("button", { name: "Admit" }).click({ timeout: 15000 });
    await pat.page.waitForURL("**/requests/**");
    await pat.page.getByRole("button", { name: "Accept" }).click();
    await pat.page.waitForURL("**/chats/**");
    await pat.page.locator(".chat-title", { hasText: "Budget sync" }).waitFor();
    // End asks first, then the meeting is over for everyone.
    await panel.getByRole("button", { name: "End meeting" }).click();
    await ask.getByText("The join link stops working").waitFor();
    await ask.getByRole("button", { name: "End meeting" }).click();
    await panel.getByText("The meeting has ended.").waitFor();
    await anon.page.getByText("The meeting has ended.").waitFor();
    const tok = await t.token(t.ALICE);
    const g = await fetch(`${BASE}/v1.0/me/onlineMeetings/${encodeURIComponent(meetingId)}`, { headers: { Authorization: `Bearer ${tok}` } });
    t.check(g.status === 404, `the ended meeting answers ${g.status}`);
    const j = await fetch(`${BASE}/parley/v1/meetings/join`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: newLink.split("/meet/")[1], displayName: "Late Larry" }),
    });
    t.check(j.status === 404, `the ended meeting's link lets people join: ${j.status}`);
    // The chat stays with the people invited.
    await page.getByLabel("Message", { exact: true }).waitFor();
    await t.axe(page, "meeting (ended)");
    await t.close("pat-meeting");
    await t.close("nina-meeting");
    await t.close("anonymous-2");
    await t.close("admin-meeting");
    await t.close("bob-meeting");
    await page.locator(".conv-list a.conv", { hasText: NINA_NAME }).click();
  });

  await t.step("meeting organiser on a phone (390×844): every control of the panel fits, can be reached and works; axe", async () => {
    const tok = await t.token(t.ALICE);
    const m = await t.api(tok, "POST", "/v1.0/me/onlineMeetings", { subject: "Phone sync" });
    const P = await t.open("alice-meeting-phone", { width: 390, height: 844 });
    await t.signIn(P.page, t.ALICE);
    await P.page.goto(`/meetings/${encodeURIComponent(m.id)}`);
    // On a phone the chat opens first; the header's Meeting button shows the panel over it.
    await P.page.getByRole("log", { name: "Messages" }).waitFor();
    const toggle = P.page.getByRole("button", { name: "Meeting", exact: true });
    t.check((await toggle.getAttribute("aria-expanded")) === "false", "the meeting panel covers the chat when a phone opens the meeting");
    await toggle.click();
    const panel = P.page.getByTestId("meeting-panel");
    await panel.getByRole("heading", { name: "Phone sync" }).waitFor();
    // Someone waits in the lobby, so Admit and Deny show too.
    const anon = await t.open("anonymous-phone");
    await anon.page.goto(m.joinWebUrl);
    await anon.page.getByLabel("Your name").fill("Paula Phone");
    await anon.page.getByRole("button", { name: "Join meeting" }).click();
    const waiting = panel.getByTestId("lobby").locator("li", { hasText: "Paula Phone" });
    await waiting.waitFor({ timeout: 15000 });
    await panel.getByLabel("Invite by email or phone").fill("someone@example.com"); // Invite is enabled with an address
    const controls = [
      panel.getByLabel("Join link"),
      panel.getByRole("button", { name: "Copy" }),
      panel.getByLabel("Invite by email or phone"),
      panel.getByRole("button", { name: "Invite", exact: true }),
      panel.getByRole("button", { name: "New link" }),
      panel.getByRole("button", { name: "End meeting" }),
      waiting.getByRole("button", { name: "Admit" }),
      waiting.getByRole("button", { name: "Deny" }),
    ];
    for (const c of controls) {
      await c.scrollIntoViewIfNeeded();
      const b = await c.boundingBox();
      const name = (await c.getAttribute("aria-label")) ?? (await c.textContent()) ?? (await c.getAttribute("id"));
      t.check(b && b.x >= 0 && b.x + b.width <= 390, `${name} sticks out of the phone's width: ${JSON.stringify(b)}`);
      t.check(b && b.height >= 24 && b.width >= 24, `${name} is smaller than a 24 px target: ${JSON.stringify(b)}`);
      t.check(await c.isEnabled(), `${name} is disabled`);
    }
    await panel.getByLabel("Invite by email or phone").fill("");
    await t.noSideways(P.page);
    await t.labelsOK(P.page);
    await t.axe(P.page, "meeting panel (organiser, phone)");
    await t.shot(P.page, "phone-meeting-organiser");
    // They work at this size: New link asks first (Cancel keeps the link), Admit lets the person in.
    await panel.getByRole("button", { name: "New link" }).click();
    const ask = panel.getByRole("alertdialog");
    await ask.getByRole("button", { name: "Cancel" }).waitFor();
    const box = await ask.boundingBox();
    t.check(box && box.x >= 0 && box.x + box.width <= 390, `the New link question sticks out: ${JSON.stringify(box)}`);
    await t.axe(P.page, "meeting panel (organiser, phone, new link?)");
    await ask.getByRole("button", { name: "Cancel" }).click();
    await waiting.getByRole("button", { name: "Admit" }).click();
    await anon.page.getByRole("log", { name: "Messages" }).waitFor({ timeout: 10000 });
    await panel.getByTestId("roster").locator("li", { hasText: "Paula Phone" }).waitFor();
    await panel.getByRole("button", { name: "End meeting" }).click();
    await ask.getByRole("button", { name: "End meeting" }).click();
    await panel.getByText("The meeting has ended.").waitFor();
    await t.noSideways(P.page);
    // Hidden again, the chat is back.
    await toggle.click();
    await panel.waitFor({ state: "detached" });
    await P.page.getByLabel("Message", { exact: true }).fill("Thanks for joining");
    await P.page.getByLabel("Message", { exact: true }).press("Enter");
    await P.page.getByRole("log", { name: "Messages" }).getByText("Thanks for joining").waitFor();
    await t.close("anonymous-phone");
    await t.close("alice-meeting-phone");
  });
}
