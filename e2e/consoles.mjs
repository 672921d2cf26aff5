// Browser tests of Halcytone's consoles: a real Chromium (Debian's, driven by playwright-core)
// against a running `halcytone up`. Started by crates/halcytone/tests/browser.rs, which passes:
//
//   HALCYTONE_API, HALCYTONE_KEY    the API and its admin key
//   WRITER_KEY, REVIEWER_KEY        two more keys with the write scope
//   MOCK_CRM, MOCK_PLATFORM         the mocks' base URLs
//   SCREENSHOT_DIR                  where the screenshots go (target/e2e-screenshots)
//   CHROMIUM                        the browser (default /usr/bin/chromium)
//
// Each step prints one line; the first failure ends the run with exit status 1.

import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v.replace(/\/+$/, "");
};
const API = env("HALCYTONE_API");
const KEY = env("HALCYTONE_KEY");
const CRM = env("MOCK_CRM");
const PLATFORM = env("MOCK_PLATFORM");
const SHOTS = env("SCREENSHOT_DIR");
const WRITER = env("WRITER_KEY");
const REVIEWER = env("REVIEWER_KEY");
mkdirSync(SHOTS, { recursive: true });

async function api(method, path, body, key = KEY) {
  const res = await fetch(API + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

async function waitJob(id) {
  for (let i = 0; i < 400; i++) {
    const { json } = await api("GET", `/api/v2/jobs/${id}`);
    if (["completed", "partial", "failed", "cancelled"].includes(json.status)) return json;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}

async function publish(body) {
  const { status, json } = await api("POST", "/api/v2/content/sync", { force_publish: true, ...body });
  assert.equal(status, 202, JSON.stringify(json));
  const job = await waitJob(json.job_id);
  assert.equal(job.status, "completed", JSON.stringify(job));
  return job;
}

const HOSTILE = `# Hostile week

## Breathscape Updates

### <script>window.pwned = 1</script>Release with a script in its title
A link that must not run: [tap here](javascript:window.pwned=2) and
<img src="x" onerror="window.pwned=3"> an image that must not fire.

### Styled release <div style="width: expression(window.pwned=4)">notes</div>
Calmer pacing <a href="javascript:window.pwned=5">everywhere</a>, and a
<svg onload="window.pwned=6"></svg> drawing.
`;

const steps = [];
const step = (name, fn) => steps.push([name, fn]);

let browser;
let page;
const dialogs = [];

step("publish the sample document in dry run", async () => {
  await publish({ channels: ["email", "website", "social_twitter", "social_linkedin"] });
});

step("the inbox lists the newsletter", async () => {
  await page.goto(CRM + "/");
  await page.getByRole("heading", { name: "Inbox" }).waitFor();
  const rows = page.locator("table tbody tr");
  assert.ok((await rows.count()) >= 1, "at least one captured email");
  await page.screenshot({ path: join(SHOTS, "inbox.png"), fullPage: true });
});

step("a new capture shows up live on an open inbox", async () => {
  await page.goto(CRM + "/");
  const banner = page.locator("#live-banner");
  assert.equal(await banner.isHidden(), true, "no banner before anything new");
  // New content (the same content again would reuse its idempotency keys and capture nothing).
  const doc = `# Live week\n\n## Breathscape Updates\n\n### Morning check-in ${Date.now()}\nA short morning check-in now opens the day with three slow breaths and a note of how you slept.\n`;
  await publish({ document: doc, document_format: "markdown", channels: ["email"] });
  await banner.waitFor({ state: "visible", timeout: 15000 });
  const text = (await banner.innerText()).trim();
  assert.match(text, /new message/, text);
  await page.screenshot({ path: join(SHOTS, "inbox-live.png") });
  return text;
});

step("the message shows the newsletter in its sandboxed frame", async () => {
  await page.locator("table tbody tr td.subject a").first().click();
  const subject = (await page.locator("h1").innerText()).trim();
  assert.ok(subject.length > 0);
  const frame = page.locator("iframe.preview");
  assert.equal(await frame.getAttribute("sandbox"), "", "sandbox without permissions");
  const inner = page.frameLocator("iframe.preview");
  const title = await inner.locator("title").textContent();
  assert.equal(title.trim(), subject, "the frame's title is the newsletter's subject");
  await inner.locator("body").getByText("Breathscape", { exact: false }).first().waitFor();
  await page.screenshot({ path: join(SHOTS, "message.png"), fullPage: true });
  // Chromium puts a sandboxed frame in its own process, which full-page captures leave
  // blank: the rendered newsletter is captured in the viewport.
  await frame.scrollIntoViewIfNeeded();
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, "message-html-part.png") });
});

step("a hostile newsletter renders inert", async () => {
  await publish({ document: HOSTILE, document_format: "markdown", channels: ["email"] });
  // The newest capture is the hostile one.
  await page.goto(CRM + "/");
  await page.locator("table tbody tr td.subject a").first().click();
  const frameEl = await page.locator("iframe.preview").elementHandle();
  const frame = await frameEl.contentFrame();
  await frame.waitForLoadState("load");
  const body = await frame.locator("body").innerText();
  assert.ok(body.includes("Release with a script in its title"), "the item is shown as text");
  assert.equal(await page.evaluate(() => window.pwned), undefined, "console page untouched");
  assert.equal(await frame.evaluate(() => window.pwned), undefined, "nothing ran in the frame");
  for (const a of await frame.locator("a").all()) {
    const href = (await a.getAttribute("href")) ?? "";
    assert.ok(!/^\s*javascript:/i.test(href), `no javascript: link in the newsletter: ${href}`);
  }
  // What the browser built from the captured HTML: no script element, no event handler
  // attribute, no CSS expression in a style attribute (escaped text may mention them).
  const dom = await frame.evaluate(() => {
    const all = [...document.querySelectorAll("*")];
    return {
      scripts: document.querySelectorAll("script").length,
      handlers: all.filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
      expressions: all.filter((e) => /expression\s*\(/i.test(e.getAttribute("style") || "")).length,
    };
  });
  assert.deepEqual(dom, { scripts: 0, handlers: 0, expressions: 0 }, JSON.stringify(dom));
  const blocked = await page.locator("span.badge-bad", { hasText: "blocked scheme" }).count();
  assert.equal(dialogs.length, 0, `no dialog opened: ${dialogs.join(", ")}`);
  await page.locator("iframe.preview").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "hostile-message.png") });
  return `${blocked} link(s) flagged`;
});

// A message with a word only in its text part, a non-ASCII subject and one "remote" image
// (an http URL on the mock itself, so nothing leaves the machine when it is shown).
const TAB_SUBJECT = `Tabs — prüfung ✓ ${Date.now()}`;
const PIXEL = CRM + "/api/v1/stats?pixel=1";
let tabMessage;

step("body search finds a word that is only in a message's text part", async () => {
  const res = await fetch(CRM + "/api/v1/email/send", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      subject: TAB_SUBJECT,
      text_content: "Breathe in.\nThe kestrel word only lives in this text part.",
      html_content: `<p>Morning <b>pacing</b> for everyone.</p><img src="${PIXEL}" alt="pixel" width="20" height="20"><a href="https://halcytone.com/news">News</a>`,
      recipients: ["tabs@example.com"],
      campaign_id: "e2e-tabs",
    }),
  });
  assert.equal(res.status, 200);
  tabMessage = (await res.json()).message_id;
  await page.goto(CRM + "/");
  await page.locator("input#q").fill("kestrel");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/[?&]q=kestrel/);
  const help = await page.locator("#q-help").innerText();
  assert.match(help, /subject, the text part and the HTML part/, help);
  const rows = page.locator("table tbody tr td.subject a");
  assert.equal(await rows.count(), 1, "one message has the word");
  assert.equal((await rows.first().innerText()).trim(), TAB_SUBJECT);
  await page.screenshot({ path: join(SHOTS, "inbox-search.png"), fullPage: true });
  await page.goto(CRM + "/?q=%22unclosed");
  const told = await page.locator(".search-error").innerText();
  assert.match(told, /^q: the search could not be read/, told);
  await page.goto(CRM + "/?q=kestrel");
  await rows.first().click();
  await page.waitForURL(new RegExp(`/messages/${tabMessage}$`));
  return told;
});

step("the message page's tabs each show their view", async () => {
  const expect = {
    HTML: async () => assert.equal(await page.locator("iframe.preview").count(), 1),
    Text: async () => assert.match(await page.locator("pre.text-part").innerText(), /kestrel word only lives/),
    Source: async () => {
      const src = await page.locator("pre.message-source").innerText();
      assert.match(src, /Content-Type: multipart\/alternative;/, src.slice(0, 400));
      assert.match(await page.locator("pre.html-source").innerText(), /<p>Morning <b>pacing<\/b>/);
    },
    Headers: async () => assert.match(await page.locator("table.message-headers").innerText(), /X-Campaign-ID\s+e2e-tabs/),
    Links: async () => assert.match(await page.locator("main").innerText(), /https:\/\/halcytone\.com\/news/),
    Checks: async () => assert.match(await page.locator("ul.checks").innerText(), /Plain-text part/),
  };
  for (const [name, check] of Object.entries(expect)) {
    await page.locator("nav.tabs a", { hasText: new RegExp(`^${name}`) }).click();
    await page.waitForLoadState("load");
    const current = await page.locator('nav.tabs a[aria-current="page"]').innerText();
    assert.ok(current.startsWith(name), `${name} is the current tab (${current})`);
    await check();
    await page.screenshot({ path: join(SHOTS, `message-tab-${name.toLowerCase()}.png`), fullPage: true });
  }
  return Object.keys(expect).join(", ");
});

let flawedMessage;
step("a flawed message shows its checks in the inbox and on its Checks tab", async () => {
  const filler = "<p>Steady breathing, calm pacing, a quiet week of small releases.</p>\n".repeat(1800);
  const res = await fetch(`${CRM}/api/v1/email/send`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      subject: "Flawed checks e2e",
      html_content: `<h1>Flawed</h1><img src="https://images.example/hero.png" width="600"><a href="${CRM}/no-such-page">Release notes</a>${filler}`,
      text_content: "Flawed, in text.",
      campaign_id: "e2e-checks",
      recipients: ["reader@example.com"],
      sender_email: "noreply@halcytone.com",
    }),
  });
  assert.equal(res.status, 200);
  const id = (await res.json()).message_id;
  flawedMessage = id;
  const checks = await (await fetch(`${CRM}/api/v1/messages/${id}/checks`)).json();
  assert.equal(checks.images[0].alt_present, false);
  const broken = checks.links.find((l) => l.url.endsWith("/no-such-page"));
  assert.equal(broken.status, "broken", JSON.stringify(broken));
  assert.equal(broken.http_status, 404);
  assert.equal(checks.size_bytes.gmail_clips, true);
  await page.goto(`${CRM}/?campaign=e2e-checks`);
  const worst = await page.locator("td.worst").first().innerText();
  assert.match(worst, /error/i, worst);
  assert.match(worst, /alt text/, worst);
  await page.locator("td.worst a").first().click();
  await page.waitForLoadState("load");
  const panel = await page.locator("section.tab-panel, main").first().innerText();
  for (const shown of [/missing/, /answered 404/, /Gmail clips/, /Spam score/]) assert.match(panel, shown);
  await page.screenshot({ path: join(SHOTS, "message-checks.png"), fullPage: true });
  return `worst: ${checks.worst.message.slice(0, 60)}`;
});

step("the .eml download is a MIME message", async () => {
  await page.goto(`${CRM}/messages/${tabMessage}`);
  const link = page.locator("a.download");
  assert.equal(await link.count(), 1, "the download link is on the page");
  const href = await link.getAttribute("href");
  assert.equal(href, `/messages/${tabMessage}.eml`);
  const got = await page.evaluate(async (h) => {
    const r = await fetch(h);
    return {
      status: r.status,
      type: r.headers.get("content-type"),
      disposition: r.headers.get("content-disposition"),
      text: await r.text(),
    };
  }, href);
  assert.equal(got.status, 200);
  assert.equal(got.type, "message/rfc822");
  assert.match(got.disposition, /^attachment; filename="/);
  const boundary = /boundary="([^"]+)"/.exec(got.text)?.[1];
  assert.ok(boundary, `a MIME boundary: ${got.text.slice(0, 400)}`);
  assert.equal(got.text.split(`--${boundary}\r\n`).length - 1, 2, "two parts");
  assert.ok(got.text.includes(`--${boundary}--`), "the closing boundary");
  assert.match(got.text, /^Subject: Tabs =\?utf-8\?b\?/m, "the subject is RFC 2047-encoded");
  assert.match(got.text, /Content-Type: text\/plain; charset=utf-8/);
  assert.match(got.text, /Content-Type: text\/html; charset=utf-8/);
  return `boundary ${boundary}`;
});

step("remote images are blocked until shown; widths and dark mode apply", async () => {
  await page.goto(`${CRM}/messages/${tabMessage}`);
  assert.match(await page.locator(".images-note").innerText(), /1 remote image\(s\) blocked/);
  const frameNow = async () => {
    const frame = await (await page.locator("iframe.preview").elementHandle()).contentFrame();
    await frame.waitForLoadState("load");
    return frame;
  };
  const seen = (frame) =>
    frame.evaluate(() => ({
      src: document.querySelector("img").getAttribute("src"),
      fetched: performance.getEntriesByType("resource").map((e) => e.name),
    }));
  let frame = await frameNow();
  let state = await seen(frame);
  assert.ok(state.src.startsWith("data:image/gif"), `blocked: ${state.src}`);
  assert.ok(!state.fetched.some((u) => u.includes("pixel=1")), `nothing fetched: ${state.fetched}`);
  await page.locator("a.images-toggle", { hasText: "Show them" }).click();
  await page.waitForURL(/images=1/);
  assert.match(await page.locator(".images-note").innerText(), /1 remote image\(s\) shown/);
  frame = await frameNow();
  await frame.waitForFunction(() => document.querySelector("img").complete);
  state = await seen(frame);
  assert.equal(state.src, PIXEL);
  assert.ok(state.fetched.some((u) => u.includes("pixel=1")), `fetched once shown: ${state.fetched}`);

  await page.locator(".choices a", { hasText: "320 px" }).click();
  await page.waitForURL(/width=320/);
  const box = await page.locator("iframe.preview").boundingBox();
  assert.ok(box.width <= 321, `320 px wide (${box.width})`);
  await page.locator("a.dark-toggle").click();
  await page.waitForURL(/dark=1/);
  assert.ok(page.url().includes("images=1") && page.url().includes("width=320"), page.url());
  frame = await frameNow();
  const filter = await frame.evaluate(() => getComputedStyle(document.body).filter);
  assert.match(filter, /invert/, filter);
  await page.locator("iframe.preview").scrollIntoViewIfNeeded();
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, "message-dark-320.png") });
  return "blocked, shown, 320 px, dark";
});

step("social cards show counts within each network's limit", async () => {
  await page.goto(PLATFORM + "/posts/social");
  const cards = page.locator("article");
  const n = await cards.count();
  assert.ok(n >= 2, `cards for X and LinkedIn (${n})`);
  const text = await page.locator("main").innerText();
  const counts = [...text.matchAll(/(\d[\d,]*)\s*\/\s*(\d[\d,]*)/g)].map((m) => [
    Number(m[1].replace(/,/g, "")),
    Number(m[2].replace(/,/g, "")),
  ]);
  assert.ok(counts.length >= 2, `weighted counts shown: ${text.slice(0, 300)}`);
  for (const [used, limit] of counts) assert.ok(used <= limit, `${used} of ${limit}`);
  await page.screenshot({ path: join(SHOTS, "social-cards.png"), fullPage: true });
  return `${counts.length} counts, all within limits`;
});

// Each social post drawn as its network draws it: the network's class, a header (avatar,
// name), the action bar, the count against the limit, and a link card under a post whose
// text carries an address. One screenshot per network and console.
async function checkSocialCards(where) {
  const cards = page.locator("article.social-card");
  const n = await cards.count();
  assert.ok(n >= 2, `${where}: social cards (${n})`);
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    const card = cards.nth(i);
    const cls = await card.getAttribute("class");
    const network = (cls.match(/\bcard-(twitter|linkedin|facebook|instagram|other)\b/) || [])[1];
    assert.ok(network, `${where}: card ${i} has a network class: ${cls}`);
    for (const part of [".post-head .avatar", ".post-head .post-name", ".post-actions li", ".post-count"]) {
      assert.ok((await card.locator(part).count()) >= 1, `${where}: the ${network} card has ${part}`);
    }
    const count = await card.locator(".post-count").first().innerText();
    assert.match(count, /^\d[\d,]* \/ \d[\d,]* /, `${where}: ${network} count`);
    if ((await card.locator(".post-text .url").count()) > 0) {
      assert.ok((await card.locator(".link-card").count()) >= 1, `${where}: the ${network} post links, with a link card`);
    }
    if (!seen.has(network)) {
      seen.add(network);
      await card.scrollIntoViewIfNeeded();
      await card.screenshot({ path: join(SHOTS, `social-card-${where}-${network}.png`) });
    }
  }
  return [...seen];
}

step("each social card looks like its network's own post, with a link card", async () => {
  await page.goto(PLATFORM + "/posts/social");
  const platform = await checkSocialCards("platform");
  // The sample's posts link to its web post, which the mock Platform captured too.
  const toWebPost = page.locator("article.social-card .link-card-title a[href^='/posts/web/']");
  assert.ok((await toWebPost.count()) >= 1, "a link card names the captured web post");
  await page.goto(API + "/ui/preview");
  const preview = await checkSocialCards("preview");
  for (const network of ["twitter", "linkedin", "facebook", "instagram"]) {
    assert.ok(preview.includes(network), `the preview draws a ${network} card: ${preview}`);
  }
  assert.ok((await page.locator("article.card-instagram .post-media").count()) === 1, "Instagram's media area");
  const webTitle = (await page.locator("#web-heading ~ dl dd").first().innerText()).trim();
  const linked = (await page.locator("article.card-linkedin .link-card-title").innerText()).trim();
  assert.equal(linked, webTitle, "the LinkedIn link card shows the web post's title");
  // "see more" opens the rest of a long post, without script.
  const rest = page.locator("article.card-linkedin .post-more").first();
  assert.equal(await rest.isVisible(), false, "the rest is folded");
  await page.locator("article.card-linkedin .see-more").first().click();
  assert.equal(await rest.isVisible(), true, "see more shows the rest");
  return `platform: ${platform.join(", ")}; preview: ${preview.join(", ")}`;
});

step("at a phone's width no page scrolls sideways", async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  const pages = [
    ["inbox-phone", CRM + "/"],
    ["social-phone", PLATFORM + "/posts/social"],
    ["web-posts-phone", PLATFORM + "/posts/web"],
    ["faults-phone", CRM + "/faults"],
    ["ui-preview-phone", API + "/ui/preview"],
  ];
  for (const [name, url] of pages) {
    await page.goto(url);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 375 + 1, `${url} is ${wide}px wide at 375px`);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return `${pages.length} pages`;
});

// A featured item makes a version L2: two approvers, neither of them the submitter.
const L2_DOC = `# Weekly

## Breathscape Updates

### Quiet mode for the evening
<!-- featured: true -->
- **Date:** 2026-11-20
- **Content:** Quiet mode dims the screen and slows the pacing cues after eight in the evening, so a last session before bed stays calm.
`;

async function signIn(key) {
  await page.goto(API + "/ui/login");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/ui/login"));
}

async function signOut() {
  await page.goto(API + "/ui");
  await page.getByRole("button", { name: /sign out/i }).click();
}

step("keyboard: the first Tab reaches the skip link, which jumps to the content", async () => {
  await page.goto(API + "/ui/preview");
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.match(first ?? "", /skip/i, `first focus: ${first}`);
  await page.keyboard.press("Enter");
  const hash = await page.evaluate(() => location.hash);
  assert.ok(hash.length > 1, "the skip link moves to the main content");
  await page.screenshot({ path: join(SHOTS, "ui-preview.png"), fullPage: true });
});

step("approve a version waiting for review from the console", async () => {
  const made = await api("POST", "/api/v2/content", { document: L2_DOC, channels: ["email", "website"], submit: true }, WRITER);
  assert.equal(made.status, 201, JSON.stringify(made.json));
  assert.equal(made.json.status, "in_review");
  const id = made.json.content_id;
  for (const [n, key] of [[1, KEY], [2, REVIEWER]]) {
    await signIn(key);
    await page.goto(API + "/ui/reviews");
    const form = page.locator(`form[action="/ui/reviews/${id}/approve"]`);
    await form.getByLabel(/note/i).fill(`approved in the browser (${n} of 2)`);
    await form.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/\/ui\/reviews/);
    if (n === 1) await page.screenshot({ path: join(SHOTS, "ui-reviews.png"), fullPage: true });
    await signOut();
  }
  const { json } = await api("GET", `/api/v2/content/${id}`);
  assert.equal(json.status, "approved", JSON.stringify(json.review));
  assert.equal(json.review.approvals.length, 2);
  return `${id} approved by ${json.review.approvals.map((a) => a.by).join(" and ")}`;
});

step("a fault rule is set and cleared with the mock's own forms", async () => {
  await page.goto(CRM + "/faults");
  await page.locator("select#route").selectOption("GET /api/v1/stats");
  await page.locator("input#status").fill("503");
  await page.getByRole("button", { name: "Save rule" }).click();
  await page.waitForURL(/\/faults/);
  const res = await fetch(CRM + "/api/v1/stats");
  assert.equal(res.status, 503, "the rule set in the browser is in force");
  await page.screenshot({ path: join(SHOTS, "mock-faults.png"), fullPage: true });
  await page.getByRole("button", { name: "Clear all rules" }).click();
  await page.waitForURL(/\/faults/);
  assert.equal((await fetch(CRM + "/api/v1/stats")).status, 200, "cleared");
});

// Issue 20, point 6: the schedules calendar. A recurring send (Mondays and Wednesdays at 09:00
// in Berlin) and a one-off, both next month so every time is still ahead.
let calendar;

step("the schedules calendar shows sends on their days; a schedule is paused and resumed", async () => {
  const stamp = Date.now();
  const name = `Berlin mornings ${stamp}`;
  const now = new Date();
  const ym = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
  const onceAt = `${ym}-14T16:30:00Z`;
  const made = await api("POST", "/api/v2/schedules", { name, cron: "0 9 * * MON,WED", timezone: "Europe/Berlin", channels: ["email"] }, WRITER);
  assert.equal(made.status, 201, JSON.stringify(made.json));
  const id = made.json.schedule_id;
  const once = await api("POST", "/api/v2/schedules", { name: `Launch ${stamp}`, scheduled_for: onceAt, channels: ["website"] }, WRITER);
  assert.equal(once.status, 201, JSON.stringify(once.json));
  calendar = { id, month: `${API}/ui/schedules?view=month&date=${ym}-01&tz=Europe%2FBerlin` };

  await signIn(WRITER);
  await page.goto(calendar.month);
  const cells = await page.locator("li.cal-day").evaluateAll((els) => els.map((e) => ({ date: e.dataset.date, text: e.innerText })));
  assert.equal(cells.length % 7, 0, `whole weeks: ${cells.length} days`);
  const onceLocal = new Date(onceAt).toLocaleTimeString("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" });
  let sends = 0;
  for (const { date, text } of cells.filter((c) => c.date.startsWith(ym))) {
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
    const expected = weekday === 1 || weekday === 3;
    assert.equal(text.includes(name), expected, `${date} (weekday ${weekday}): ${text}`);
    if (expected) {
      assert.match(text, /09:00/, `${date} at 09:00 Berlin time: ${text}`);
      sends += 1;
    }
    assert.equal(text.includes(`Launch ${stamp}`), date === `${ym}-14`, `${date}: ${text}`);
    if (date === `${ym}-14`) assert.ok(text.includes(onceLocal), `the one-off at ${onceLocal}: ${text}`);
  }
  assert.ok(sends >= 8, `${sends} Mondays and Wednesdays`);
  await page.screenshot({ path: join(SHOTS, "ui-schedules-month.png"), fullPage: true });

  // The week view keeps the day and the zone; the week after holds two sends.
  await page.locator(".cal-views").getByRole("link", { name: "Week", exact: true }).click();
  await page.waitForURL(/view=week/);
  assert.ok(page.url().includes(`date=${ym}-01`) && page.url().includes("tz=Europe%2FBerlin"), page.url());
  assert.equal(await page.locator("li.cal-day").count(), 7);
  await page.getByRole("link", { name: /Next week/ }).click();
  await page.waitForURL((u) => u.searchParams.get("date") !== `${ym}-01`);
  const events = page.locator("li.cal-event a", { hasText: name });
  assert.equal(await events.count(), 2, "Monday and Wednesday");
  await page.screenshot({ path: join(SHOTS, "ui-schedules-week.png"), fullPage: true });

  // Its link leads to the schedule, which is paused and resumed with its buttons.
  await events.first().click();
  await page.waitForURL((u) => u.pathname === `/ui/schedules/${id}`);
  assert.equal((await page.locator("main .status").first().innerText()).trim(), "active");
  assert.equal(await page.locator("ol.upcoming li").count(), 10, "its next ten times");
  await page.getByRole("button", { name: /^Pause/ }).click();
  await page.waitForURL((u) => u.pathname === `/ui/schedules/${id}` && u.searchParams.has("ok"));
  assert.equal((await page.locator("main .status").first().innerText()).trim(), "paused");
  assert.match(await page.locator(".flash-ok").innerText(), /is paused/);
  assert.equal((await api("GET", `/api/v2/schedules/${id}`)).json.status, "paused");
  await page.screenshot({ path: join(SHOTS, "ui-schedule-paused.png"), fullPage: true });
  await page.goto(calendar.month);
  assert.ok((await page.locator("li.cal-event.cal-paused", { hasText: name }).count()) >= 8, "paused times are marked");
  await page.goto(`${API}/ui/schedules/${id}`);
  await page.getByRole("button", { name: /^Resume/ }).click();
  await page.waitForURL((u) => u.searchParams.has("ok"));
  assert.equal((await page.locator("main .status").first().innerText()).trim(), "active");
  assert.equal((await api("GET", `/api/v2/schedules/${id}`)).json.status, "active");
  await signOut();
  return `${sends} sends in ${ym}, paused and resumed ${id}`;
});

// Issue 20, point 5: at a phone's size every console page and the three Swagger UI pages fit
// the width (lists become cards, long ids break), and Swagger UI has a viewport meta.
const PHONE = { width: 390, height: 844 };
const phoneWidths = [];

async function fitsPhone(name, url, ready) {
  const res = await page.goto(url);
  assert.ok(res.status() < 500, `${url}: ${res.status()}`);
  if (ready) await ready();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  phoneWidths.push(`${name} ${wide}`);
  await page.screenshot({ path: join(SHOTS, `phone-${name}.png`), fullPage: true });
  assert.ok(wide <= PHONE.width, `${url} is ${wide}px wide at ${PHONE.width}px`);
}

// No cell of a list is a column of single letters (each cell's text is at least a few
// characters wide: an id breaks into a handful of lines at most), and no list or frame is
// cut off at the right in a box that scrolls sideways.
async function noLetterStacks(url) {
  const narrow = await page.evaluate(() =>
    [...document.querySelectorAll("td, th")]
      .filter((c) => c.offsetParent && c.innerText.trim().length > 6)
      .filter((c) => {
        const r = document.createRange();
        r.selectNodeContents(c);
        const lines = new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
        return lines > Math.ceil(c.innerText.trim().length / 6);
      })
      .map((c) => c.innerText.trim().slice(0, 40)),
  );
  assert.deepEqual(narrow, [], `${url}: cells wrapped letter by letter`);
  const clipped = await page.evaluate(() =>
    [...document.querySelectorAll(".table-wrap, .frame-wrap")]
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .map((e) => `${e.className} ${e.scrollWidth}>${e.clientWidth}`),
  );
  assert.deepEqual(clipped, [], `${url}: a list scrolls sideways in its box`);
}

step("at 390×844 every console page and Swagger UI fits the width", async () => {
  await page.setViewportSize(PHONE);
  // Something in every list: a fault rule on each mock, a version waiting for review.
  for (const base of [CRM, PLATFORM]) {
    const route = base === CRM ? "POST /api/v1/email/send" : "POST /api/v1/content/publish";
    const res = await fetch(base + "/api/v1/faults", {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ route, status: 503, probability: 0, latency_ms: 0, seed: 7 }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  const pending = await api("POST", "/api/v2/content", { document: L2_DOC.replace("Quiet mode", "Phone mode"), channels: ["email", "website"], submit: true }, WRITER);
  assert.equal(pending.status, 201, JSON.stringify(pending.json));

  // The mock CRM: inbox (filters and cards), a message with each tab and width, faults.
  await fitsPhone("crm-inbox", CRM + "/");
  await noLetterStacks(CRM + "/");
  await fitsPhone("crm-inbox-search", CRM + "/?q=kestrel&recipient=tabs%40example.com");
  for (const tab of ["html", "text", "source", "headers", "links", "checks"]) {
    await fitsPhone(`crm-message-${tab}`, `${CRM}/messages/${tabMessage}?tab=${tab}`);
    await noLetterStacks(`message ${tab}`);
  }
  for (const width of ["320", "480", "600", "full"]) {
    await fitsPhone(`crm-message-width-${width}`, `${CRM}/messages/${tabMessage}?width=${width}&images=1`);
    const box = await page.locator("iframe.preview").boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `the ${width} frame fits: ${JSON.stringify(box)}`);
  }
  // The long tables of a message with findings: its checks and its links with their status.
  for (const tab of ["checks", "links"]) {
    await fitsPhone(`crm-message-flawed-${tab}`, `${CRM}/messages/${flawedMessage}?tab=${tab}`);
    await noLetterStacks(`flawed message ${tab}`);
  }
  await fitsPhone("crm-message-404", CRM + "/messages/no-such-message");
  await fitsPhone("crm-faults", CRM + "/faults");
  await noLetterStacks(CRM + "/faults");

  // The mock Platform: overview, web posts, a web post, social cards, faults.
  await fitsPhone("platform-home", PLATFORM + "/");
  await noLetterStacks(PLATFORM + "/");
  await fitsPhone("platform-web", PLATFORM + "/posts/web");
  await noLetterStacks(PLATFORM + "/posts/web");
  const post = await page.locator("table tbody tr td.subject a").first().getAttribute("href");
  await fitsPhone("platform-web-post", PLATFORM + post);
  await fitsPhone("platform-social", PLATFORM + "/posts/social");
  await fitsPhone("platform-faults", PLATFORM + "/faults");

  // The API console, signed out then signed in.
  await fitsPhone("ui-login", API + "/ui/login");
  await signIn(KEY);
  await fitsPhone("ui-overview", API + "/ui");
  await fitsPhone("ui-preview", API + "/ui/preview");
  await fitsPhone("ui-jobs", API + "/ui/jobs");
  await noLetterStacks(API + "/ui/jobs");
  const job = await page.locator("table tbody tr td a").first().getAttribute("href");
  await fitsPhone("ui-job", API + job);
  await noLetterStacks(API + job);
  await fitsPhone("ui-reviews", API + "/ui/reviews");
  await noLetterStacks(API + "/ui/reviews");
  await fitsPhone("ui-review", `${API}/ui/reviews/${pending.json.content_id}`);
  await fitsPhone("ui-schedules", API + "/ui/schedules");
  await noLetterStacks(API + "/ui/schedules");
  await fitsPhone("ui-schedules-month", calendar.month);
  await noLetterStacks(calendar.month);
  await fitsPhone("ui-schedules-week", calendar.month.replace("view=month", "view=week"));
  await fitsPhone("ui-schedule", `${API}/ui/schedules/${calendar.id}`);
  await noLetterStacks(`${API}/ui/schedules/${calendar.id}`);
  await fitsPhone("ui-404", API + "/ui/jobs/00000000-0000-0000-0000-000000000000");
  await signOut();

  // Swagger UI of the API and of each mock, once it has drawn the operations.
  for (const [name, base] of [["api", API], ["crm", CRM], ["platform", PLATFORM]]) {
    await fitsPhone(`docs-${name}`, base + "/docs/", () => page.locator(".opblock").first().waitFor());
    const meta = await page.locator('meta[name="viewport"]').getAttribute("content");
    assert.equal(meta, "width=device-width, initial-scale=1", `${name} docs viewport`);
  }

  for (const base of [CRM, PLATFORM]) await fetch(base + "/api/v1/faults", { method: "DELETE" });
  await page.setViewportSize({ width: 1280, height: 900 });
  return `${phoneWidths.length} pages: ${phoneWidths.join(", ")}`;
});

async function main() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  let failed = 0;
  for (const [name, fn] of steps) {
    const started = Date.now();
    try {
      const note = await fn();
      console.log(`ok   ${name} (${Date.now() - started} ms)${note ? ": " + note : ""}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}: ${e.stack || e}`);
      await page.screenshot({ path: join(SHOTS, `failed-${steps.findIndex((s) => s[0] === name)}.png`), fullPage: true }).catch(() => {});
      break;
    }
  }
  await browser.close();
  console.log(failed ? "browser tests failed" : `browser tests passed (${steps.length} steps); screenshots in ${SHOTS}`);
  process.exit(failed ? 1 : 0);
}

main().catch(async (e) => {
  console.log(`FAIL ${e.stack || e}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
});
