// Browser tests of what the web client shows from the server's own words:
// a channel message found by search opens its channel under the team's and
// channel's names, the audit log shows the server's summary of each record,
// and a personal account is shown as one (no organisation). Run from run.mjs
// after its team step (the Launch team's General has "Kick-off on Monday").
// Leaves Alice's page on her chat with Nina.

/** dailySteps takes run.mjs's plumbing and its pages A (alice) and Admin. */
export async function dailySteps(t, { A, Admin, ADMIN, ALICE, NINA_NAME, chatId }) {
  await t.step("search: a channel message's hit names its team and channel and opens the channel", async () => {
    const { page } = A;
    await page.getByLabel("Search messages").fill("kick monday");
    await page.getByLabel("Search messages").press("Enter");
    await page.waitForURL("**/search?q=**");
    const results = page.getByRole("list", { name: "Search results" });
    await results.waitFor().catch(async () => t.check(false, `no results: ${await page.locator("main, .main").first().textContent()}`));
    const hit = results.locator("a.hit", { hasText: "Monday" });
    await hit.waitFor().catch(async () => t.check(false, `no hit for the post: ${await results.textContent()}`));
    await hit.getByText("in # General · Launch team").waitFor().catch(async () => t.check(false, `the hit's label: ${await hit.textContent()}`));
    const href = await hit.getAttribute("href");
    t.check(/^\/teams\/[^/]+\/channels\/[^/]+$/.test(href ?? ""), `a channel hit links to ${href}`);
    await hit.click();
    await page.waitForURL(`**${href}`);
    await page.locator(".chat-title", { hasText: "# General" }).waitFor();
    await page.locator(".post", { hasText: "Kick-off on Monday" }).waitFor();
    await page.getByRole("link", { name: "Chats", exact: true }).first().click();
    await page.locator(".conv-list a.conv", { hasText: NINA_NAME }).click();
  });

  await t.step("audit log: each record reads as the server's summary", async () => {
    const { page } = Admin;
    const audit = await t.api(await t.token(ADMIN), "GET", "/parley/v1/admin/audit?$top=50");
    t.check(audit.value.length > 0 && audit.value.every((r) => typeof r.summary === "string" && r.summary), "audit records without a summary");
    await page.goto("/admin/audit");
    const list = page.getByRole("list", { name: "Audit records" });
    await list.locator(".audit-what").first().waitFor();
    const shown = await list.locator(".audit-what").allTextContents();
    const want = audit.value.slice(0, shown.length).map((r) => r.summary);
    t.check(JSON.stringify(shown) === JSON.stringify(want), `audit sentences are not the server's: ${JSON.stringify(shown.slice(0, 3))} vs ${JSON.stringify(want.slice(0, 3))}`);
  });

  await t.step("people: a personal account shows as one, with no organisation", async () => {
    const { page } = A;
    const members = await t.api(await t.token(ALICE), "GET", `/v1.0/chats/${encodeURIComponent(chatId)}/members`);
    const nina = members.value.find((m) => m.displayName === NINA_NAME);
    const alice = members.value.find((m) => m.email === ALICE);
    t.check(nina && nina.organizationName === null, `Nina's organizationName: ${JSON.stringify(nina)}`);
    t.check(alice && typeof alice.organizationName === "string" && alice.organizationName, `Alice's organizationName: ${JSON.stringify(alice)}`);
    await page.getByRole("button", { name: "People" }).click();
    const row = page.locator("#people-panel li", { hasText: NINA_NAME });
    await row.getByText("Personal account", { exact: true }).waitFor();
    t.check(!/organisation/i.test(await row.textContent()), `Nina's row names an organisation: ${await row.textContent()}`);
    await page.locator("#people-panel").press("Escape");
    await page.locator("#people-panel").waitFor({ state: "detached" });
  });
}
