// The demo path in a second engine: Debian's Firefox ESR, driven over WebDriver BiDi by
// puppeteer-core. Firefox here has no WebGPU, so the page must say so and segment on
// the CPU; the same network audit as in Chromium (no request off the origin, no CSP
// violation, no page error); and the app kept for offline use.
// Usage: node tests/e2e/firefox.mjs APP_URL ARTIFACTS
import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { checker, demoPath } from "./harness.mjs";

const [base, artifacts] = process.argv.slice(2);
const origin = new URL(base).origin;
const { check, summary } = checker();
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FIREFOX || "/usr/bin/firefox-esr",
  headless: true,
  // No update checks, telemetry or captive-portal probes: nothing but the app may talk.
  extraPrefsFirefox: {
    "app.update.enabled": false, "browser.shell.checkDefaultBrowser": false, "datareporting.policy.dataSubmissionEnabled": false,
    "network.captive-portal-service.enabled": false, "network.connectivity-service.enabled": false, "toolkit.telemetry.enabled": false,
  },
});
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 1000 });
const offOrigin = [];
const problems = [];
page.on("request", (r) => { if (!r.url().startsWith(origin) && !/^(data|blob):/.test(r.url())) offOrigin.push(r.url()); });
page.on("console", (m) => { if (/Content[- ]Security[- ]Policy|blocked/i.test(m.text())) problems.push(m.text()); });
page.on("pageerror", (e) => problems.push("page error: " + String(e)));

// The Playwright calls the shared demo path makes, on puppeteer.
const driven = {
  click: (selector) => page.click(selector),
  waitForFunction: (fn, arg, options) => page.waitForFunction(fn, options, arg),
  textContent: (selector) => page.$eval(selector, (e) => e.textContent),
  getAttribute: (selector, name) => page.$eval(selector, (e, n) => e.getAttribute(n), name),
};

try {
  await page.goto(base);
  await page.waitForSelector("#load-demo", { timeout: 60000 });
  await check("Firefox ESR: the app is kept for offline use", async () => {
    await page.waitForFunction(() => /Available offline/.test(document.querySelector("#offline-state")?.textContent || ""), { timeout: 120000 });
  });
  await demoPath(driven, check, "Firefox ESR");
  await check("Firefox ESR: the page says WebGPU is absent and the CPU segmented", async () => {
    assert.equal(await driven.getAttribute("#segmentation-panel", "data-backend"), "cpu");
    assert.match(await driven.textContent("#segmentation-path"), /on the CPU — WebGPU not available: this browser offers the page no graphics adapter, so the CPU is used/);
  });
  await page.screenshot({ path: join(artifacts, "e2e-firefox.png"), fullPage: true });
  await check("Firefox ESR: no request left the origin", async () => assert.deepEqual(offOrigin, []));
  await check("Firefox ESR: no CSP violation or page error", async () => assert.deepEqual(problems, []));
} finally {
  await browser.close();
}
process.exit(summary("Firefox e2e") ? 0 : 1);
