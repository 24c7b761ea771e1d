// The status page of `heartbeat watch --http` in a real headless Chromium (driven by
// playwright-core, which downloads no browser: it runs /usr/bin/chromium or $HEARTBEAT_CHROMIUM).
//
//   node status_page_test.js HEARTBEAT_BINARY SCREENSHOT_PNG [DOCS_SCREENSHOT_PNG]
//
// Two `heartbeat serve` processes are one `watch`'s failover list. The page must show both rows
// (the primary alive and active), then, once the primary is frozen (SIGSTOP to the PID we
// started), its row dead and the backup active with the failover in the history; the screenshot
// is saved to SCREENSHOT_PNG (and copied to DOCS_SCREENSHOT_PNG when HEARTBEAT_UPDATE_SCREENSHOT=1).
// Finally `watch` is stopped and the page must say "disconnected".
//
// Exit status: 0 pass, 1 fail, 77 skipped (no playwright-core or no Chromium, and neither CI nor
// HEARTBEAT_REQUIRE_INTEROP is set: then missing peers are a failure). Every wait is bounded;
// every child is ended by its PID (SIGCONT before SIGKILL for the frozen one).
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const readline = require("readline");

const [binary, screenshotPath, docsScreenshotPath] = process.argv.slice(2);
const required = process.env.HEARTBEAT_REQUIRE_INTEROP === "1" || process.env.CI === "true";
const SKIP = 77;

function skipOrFail(why) {
  if (required) {
    console.error(`FAIL: interop peers are required (CI or HEARTBEAT_REQUIRE_INTEROP) but ${why}`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

if (!binary || !screenshotPath) {
  console.error("usage: node status_page_test.js HEARTBEAT_BINARY SCREENSHOT_PNG [DOCS_PNG]");
  process.exit(2);
}
let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (e) {
  skipOrFail("playwright-core is not installed (scripts/install-deps.sh: npm ci in tests/interop)");
}
const chromiumPath = process.env.HEARTBEAT_CHROMIUM || "/usr/bin/chromium";
if (!fs.existsSync(chromiumPath)) skipOrFail(`no Chromium at ${chromiumPath}`);

const children = [];

// Starts `heartbeat ARGS...` and resolves with the first JSON event named `event`.
function startHeartbeat(args, event, limitMs = 10000) {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} from ${args.join(" ")}`)), limitMs);
    lines.on("line", line => {
      let e;
      try { e = JSON.parse(line); } catch (err) { return; }
      if (e.event === event) {
        clearTimeout(timer);
        resolve({ child, event: e });
      }
    });
    child.on("exit", code => reject(new Error(`${args[0]} exited (${code}) before ${event}`)));
  });
}

function signal(child, sig) {
  if (child.exitCode === null && child.signalCode === null) {
    try { process.kill(child.pid, sig); } catch (e) { }
  }
}

// The same quick heartbeat everywhere: a frozen peer is dead after about 0.5 + 3 * 0.5 = 2 s.
const fast = ["--interval", "500ms", "--timeout", "500ms", "--misses", "3"];

async function main() {
  const primary = await startHeartbeat(["serve", "--listen", "127.0.0.1:0", "--json", ...fast], "listening");
  const backup = await startHeartbeat(["serve", "--listen", "127.0.0.1:0", "--json", ...fast], "listening");
  const a = primary.event.address, b = backup.event.address;
  const watch = await startHeartbeat(["watch", a, b, "--json", "--http", "127.0.0.1:0", ...fast],
                                     "http_listening");
  const url = watch.event.url;
  console.log(`primary ${a}, backup ${b}, status page ${url}`);

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "heartbeat-status-page-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1100, height: 720 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage"],
  });
  try {
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", e => pageErrors.push(e.message));
    await page.goto(url, { timeout: 10000 });
    const row = name => `[data-row="${name}"]`;

    await page.waitForSelector('#conn.live', { timeout: 10000 });
    await page.waitForSelector(`${row(a)}[data-state="alive"][data-active="1"]`, { timeout: 10000 });
    await page.waitForSelector(row(b), { timeout: 10000 });
    // A few RTT samples drawn on the primary's chart.
    await page.waitForFunction(
      name => {
        const line = document.querySelector(`[data-row="${name}"] polyline`);
        return line && line.getAttribute("points").split(" ").length >= 12;
      }, a, { timeout: 10000 });
    console.log("both rows shown; the primary alive, active, with RTT samples");

    process.kill(primary.child.pid, "SIGSTOP");
    const frozenAt = Date.now();
    await page.waitForSelector(`${row(a)}[data-state="dead"]`, { timeout: 15000 });
    await page.waitForSelector(`${row(b)}[data-state="alive"][data-active="1"]`, { timeout: 15000 });
    await page.waitForSelector('#history tr[data-kind="failover"]', { timeout: 5000 });
    const active = (await page.textContent("#active")).trim();
    if (active !== b) throw new Error(`active endpoint shown as ${active}, expected ${b}`);
    console.log(`primary dead and failover to the backup shown ${Date.now() - frozenAt} ms after SIGSTOP`);

    // Some samples on the backup's chart too, for the screenshot.
    await page.waitForFunction(
      name => {
        const line = document.querySelector(`[data-row="${name}"] polyline`);
        return line && line.getAttribute("points").split(" ").length >= 8;
      }, b, { timeout: 10000 });
    fs.mkdirSync(path.dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    console.log(`screenshot: ${screenshotPath}`);
    if (process.env.HEARTBEAT_UPDATE_SCREENSHOT === "1" && docsScreenshotPath) {
      fs.mkdirSync(path.dirname(docsScreenshotPath), { recursive: true });
      fs.copyFileSync(screenshotPath, docsScreenshotPath);
      console.log(`copied to ${docsScreenshotPath}`);
    }

    // The server goes away: the page must say so (and keep retrying).
    signal(watch.child, "SIGTERM");
    await page.waitForSelector('#conn.disconnected', { timeout: 10000 });
    console.log("page shows disconnected after watch stopped");
    if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function cleanup() {
  for (const child of children) {
    signal(child, "SIGCONT");
    signal(child, "SIGKILL");
  }
}

const overall = setTimeout(() => {
  console.error("FAIL: the test took more than 90 s");
  cleanup();
  process.exit(1);
}, 90000);

main().then(() => {
  clearTimeout(overall);
  cleanup();
  console.log("PASS");
  process.exit(0);
}, err => {
  clearTimeout(overall);
  cleanup();
  console.error(`FAIL: ${err && err.stack || err}`);
  process.exit(1);
});
