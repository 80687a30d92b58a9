// Lighthouse and axe-core on every reader page type of a running kiosko
// (scripts/lighthouse.sh starts one with the demo publication).
//
// Environment: KIOSKO_URL (the server), KIOSKO_NPM_CACHE (where the npm
// tools are), CHROME_PATH, KIOSKO_ROOT (the repository, for docs/),
// SCREENS=1 to write docs/screens/*.png, LIGHTHOUSE_ALL=1 to run Lighthouse
// in both editions (default: the Spanish one; axe runs in both),
// LIGHTHOUSE=0 to run only axe (and the screenshots).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const base = process.env.KIOSKO_URL;
const cache = process.env.KIOSKO_NPM_CACHE || join(process.env.HOME, ".cache/kiosko-npm");
const root = process.env.KIOSKO_ROOT || process.cwd();
const screens = process.env.SCREENS === "1";
const skipLighthouse = process.env.LIGHTHOUSE === "0"; // axe and screenshots only
const modules = join(cache, "node_modules");
const lighthouse = (await import(pathToFileURL(join(modules, "lighthouse/core/index.js")))).default;
const puppeteer = (await import(pathToFileURL(join(modules, "puppeteer-core/lib/esm/puppeteer/puppeteer-core.js")))).default;
const axeSource = readFileSync(join(modules, "axe-core/axe.min.js"), "utf8");

const PASSWORD = "kiosko-demo-2026";
const MIN = { accessibility: 100, "best-practices": 95, seo: 95 };
const SIZES = {
  phone: { width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true },
  desktop: { width: 1280, height: 800, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
};
const EDITIONS = { es: "es", us: "en" };
const UA = {
  laptop: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
  phone: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36",
};

// A device: its cookies, kept from every answer.
class Device {
  constructor(ua) { this.ua = ua; this.jar = new Map(); }
  cookieHeader() { return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; "); }
  keep(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      this.jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }
  async fetch(path, init = {}) {
    const res = await fetch(base + path, { redirect: "manual", ...init, headers: { "User-Agent": this.ua, Cookie: this.cookieHeader(), ...(init.headers || {}) } });
    this.keep(res);
    return res;
  }
  async signIn(email) {
    const res = await this.fetch("/signin", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ email, password: PASSWORD, tz: "Europe/Madrid" }) });
    if (res.status !== 303) throw new Error(`sign in ${email}: ${res.status}`);
  }
  async json(path, body) {
    const res = await this.fetch(path, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => ({})) };
  }
  puppeteerCookies() {
    const url = new URL(base);
    return [...this.jar].map(([name, value]) => ({ name, value, domain: url.hostname, path: "/", httpOnly: true }));
  }
}

const articles = {};
for (const ed of Object.keys(EDITIONS)) {
  const list = await (await fetch(`${base}/api/v1/articles?edition=${ed}`)).json();
  articles[ed] = { free: list.find((a) => a.access === "free"), subscriber: list.find((a) => a.access === "subscriber") };
}

const laptop = new Device(UA.laptop); // holds the seat
const phone = new Device(UA.phone); // meets the interstitial
await laptop.signIn("digital@kiosko.test");
await phone.signIn("digital@kiosko.test");
const laptopReads = (ed) => laptop.fetch(`/${ed}/${articles[ed].subscriber.id}`);

// Page types: path, who looks, and what must be on the page.
const pages = (ed) => {
  const lang = EDITIONS[ed];
  return [
    { name: "front", path: `/${ed}/`, expect: "main" },
    { name: "article", path: `/${ed}/${articles[ed].free.id}`, expect: "#article-body" },
    { name: "paywall", path: `/${ed}/${articles[ed].subscriber.id}`, expect: "#wall" },
    { name: "interstitial", path: `/${ed}/${articles[ed].subscriber.id}`, device: phone, before: () => laptopReads(ed), expect: "#interstitial:not([hidden])" },
    { name: "signup", path: `/signup?next=/${ed}/`, expect: "form" },
    { name: "plans", path: `/plans?lang=${lang}`, expect: ".plans" },
    { name: "account", path: `/account?lang=${lang}`, device: phone, expect: "#devices", lighthouse: false },
    { name: "plans-digital", path: `/plans?lang=${lang}`, device: phone, expect: "#current-plan", lighthouse: false },
  ];
};

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const port = new URL(browser.wsEndpoint()).port;
const results = [];
let failed = 0;
const fail = (msg) => { failed++; console.log("FAIL " + msg); };
if (screens) mkdirSync(join(root, "docs/screens"), { recursive: true });

// open loads a page as a device would, at a size.
async function open(p, size) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  // Layout depends on CSS pixels only; one device pixel per CSS pixel
  // keeps the screenshots small (Lighthouse emulates the real density).
  await page.setViewport({ ...SIZES[size], deviceScaleFactor: 1 });
  const device = p.device;
  await page.setUserAgent(device ? device.ua : size === "phone" ? UA.phone : UA.laptop);
  if (device) await ctx.setCookie(...device.puppeteerCookies());
  if (p.before) await p.before();
  await page.goto(base + p.path, { waitUntil: "load" });
  await page.waitForSelector(p.expect, { visible: true, timeout: 10000 });
  return { ctx, page };
}

async function axe(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
}

async function shot(page, name) {
  if (!screens) return;
  // The interstitial is shown whole; other pages as the screen shows them.
  const fullPage = /^(interstitial|displaced)-/.test(name);
  await page.screenshot({ path: join(root, "docs/screens", name + ".png"), type: "png", fullPage });
}

async function check(ed, p, size, page) {
  const violations = await axe(page);
  const r = { page: p.name, edition: ed, size, axe: violations.length };
  if (violations.length) fail(`${ed} ${p.name} ${size}: axe ${violations.map((v) => `${v.id} (${v.nodes.join(", ")})`).join("; ")}`);
  results.push(r);
  return r;
}

for (const ed of Object.keys(EDITIONS)) {
  for (const p of pages(ed)) {
    for (const size of Object.keys(SIZES)) {
      const { ctx, page } = await open(p, size);
      const r = await check(ed, p, size, page);
      await shot(page, `${p.name}-${ed}-${size}`);
      await ctx.close();
      if (skipLighthouse || p.lighthouse === false || (ed !== "es" && process.env.LIGHTHOUSE_ALL !== "1")) continue;
      if (p.before) await p.before();
      const flags = {
        port, output: "json", logLevel: "error", onlyCategories: Object.keys(MIN),
        formFactor: size === "phone" ? "mobile" : "desktop",
        screenEmulation: { mobile: size === "phone", width: SIZES[size].width, height: SIZES[size].height, deviceScaleFactor: SIZES[size].deviceScaleFactor, disabled: false },
        emulatedUserAgent: p.device ? p.device.ua : size === "phone" ? UA.phone : UA.laptop,
        extraHeaders: p.device ? { Cookie: p.device.cookieHeader() } : undefined,
      };
      const run = await lighthouse(base + p.path, flags);
      r.lighthouse = {};
      for (const [cat, min] of Object.entries(MIN)) {
        const c = run.lhr.categories[cat];
        const score = Math.round((c.score || 0) * 100);
        r.lighthouse[cat] = score;
        if (score < min) {
          const failing = c.auditRefs.filter((a) => run.lhr.audits[a.id].score !== null && run.lhr.audits[a.id].score < 1 && a.weight > 0).map((a) => a.id);
          fail(`${ed} ${p.name} ${size}: ${cat} ${score} < ${min} (${failing.join(", ")})`);
        }
      }
      console.log(`${ed} ${p.name} ${size}: ${JSON.stringify(r.lighthouse)}, axe ${r.axe}`);
    }
  }
}

// The displaced side: the laptop reads, the phone takes the seat over.
for (const ed of Object.keys(EDITIONS)) {
  for (const size of Object.keys(SIZES)) {
    const p = { name: "displaced", path: `/${ed}/${articles[ed].subscriber.id}`, device: laptop, expect: "#article-body" };
    await laptop.json("/api/v1/reading/takeover", { article: articles[ed].subscriber.id });
    const { ctx, page } = await open(p, size);
    await new Promise((r) => setTimeout(r, 500)); // the page's event stream opens after load
    const take = await phone.json("/api/v1/reading/takeover", { article: articles[ed].subscriber.id });
    if (take.status !== 200) fail(`takeover: ${take.status}`);
    await page.waitForSelector("#interstitial:not([hidden])", { visible: true, timeout: 5000 });
    await check(ed, { name: "displaced" }, size, page);
    await shot(page, `displaced-${ed}-${size}`);
    await ctx.close();
  }
}

// The sharing banner: takeovers back and forth until the seat is warned.
let warned = false;
for (let i = 0; i < 8 && !warned; i++) {
  const d = i % 2 ? laptop : phone;
  const res = await d.json("/api/v1/reading/takeover", { article: articles.es.subscriber.id });
  warned = !!res.body.sharing_warning;
}
if (!warned) fail("the sharing warning was never set");
for (const ed of Object.keys(EDITIONS)) {
  for (const size of Object.keys(SIZES)) {
    const { ctx, page } = await open({ name: "banner", path: `/${ed}/`, device: phone, expect: "#sharing-banner" }, size);
    const height = await page.$eval("#sharing-banner", (el) => el.getBoundingClientRect().height);
    const r = await check(ed, { name: "banner" }, size, page);
    r.banner_px = Math.round(height);
    if (size === "phone" && height > 844 / 6) fail(`${ed} banner on a phone is ${Math.round(height)} px tall`);
    await shot(page, `banner-${ed}-${size}`);
    await ctx.close();
  }
}

await browser.close();
if (!skipLighthouse) writeFileSync(join(root, "docs/lighthouse.json"), JSON.stringify({ minimum: MIN, axe_violations_allowed: 0, results }, null, 2) + "\n");
console.log(failed ? `${failed} failure(s)` : `all ${results.length} checks pass`);
process.exit(failed ? 1 : 0);
