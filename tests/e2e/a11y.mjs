// Accessibility (#17): the single-patient path with the keyboard alone (Tab to each
// control, Enter, the Alt shortcuts), then axe-core, injected into the page, over every
// view of the single-patient path and the cohort views — empty, then with the demo case
// measured, each tab of the patient view shown, then each cohort view with data: a
// cohort of three phantom studies measured, a reader study of them set up, the invented
// cohort's Cox model fitted and a published score validated — finding no serious or
// critical violation (WCAG 2.1 A and AA rules, colour contrast included).
// Usage: node tests/e2e/a11y.mjs APP_URL ARTIFACTS SARCOSCOPE_CLI
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { segmentationSettled, start } from "./harness.mjs";

const [base, artifacts, sarcoscope] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const { page, check, finish } = await start(base);

// The serious and critical violations axe finds in what is on screen now.
async function audit() {
  // Through the DevTools protocol: the page's policy rightly refuses an inline script.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.filter((v) => ["serious", "critical"].includes(v.impact))
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | ")}${v.nodes.length > 4 ? ` … ${v.nodes.length} in all` : ""}`);
  });
  return result;
}
const view = async (key) => { await page.click(`#nav-${key}`); await page.waitForSelector(`#view-${key}:not([hidden])`); };

// Tab until `id` has the focus; a control that Tab never reaches fails.
async function tabTo(id, most = 120) {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press("Tab");
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
  }
  throw new Error(`#${id} is not reached with Tab`);
}
const measured = () => segmentationSettled(page);

await page.goto(base);
await page.waitForSelector("#load-demo");
await check("the keyboard alone: the demo loaded, L3 found and segmented", async () => {
  await tabTo("load-demo");
  await page.keyboard.press("Enter");
  await measured();
  assert.match(await page.textContent("#level-summary"), /L3 found automatically at slice \d+/);
  assert.ok(Number(await page.getAttribute("#tissue-muscle", "data-area")) > 50);
});
await check("the keyboard alone: the level moved and back, the scores and the report", async () => {
  // The axial image takes the slice keys once it has the focus.
  await tabTo("axial");
  await page.keyboard.press("Shift+ArrowUp");
  await page.waitForFunction(() => /Measurement slice: \d+ \(set by hand\)/.test(document.body.textContent), null, { timeout: 30000 });
  await tabTo("auto-l3");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /Measurement slice: \d+ \(automatic\)/.test(document.body.textContent), null, { timeout: 30000 });
  await measured();
  await page.keyboard.press("Alt+3");
  assert.equal(await page.isVisible("#tab-panel-scores"), true);
  assert.ok(Number(await page.getAttribute("#score-meld", "data-value")) >= 6);
  await tabTo("nav-report");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#view-report:not([hidden])");
  assert.match(await page.textContent("#report"), /De-identified\. Case code: DEMO/);
});
// A fresh page (the address without the report's route): nothing loaded.
await page.goto(base);
await page.waitForSelector("#load-demo");
for (const key of ["patient", "report", "cohort", "statistics", "reader"]) {
  await view(key);
  await check(`${key} view, nothing loaded: no serious or critical violation`, async () => assert.deepEqual(await audit(), []));
}
await view("patient");
await page.click("#load-demo");
await measured();
for (const tab of ["muscle", "patient", "scores", "eligibility"]) {
  await page.click(`#tab-${tab}`);
  await check(`patient view with the demo, ${tab} tab: no serious or critical violation`, async () => assert.deepEqual(await audit(), []));
}
await view("report");
await check("report view with the demo: no serious or critical violation", async () => assert.deepEqual(await audit(), []));

// The cohort views with data. Three one-slice phantom studies (not patients), a folder each.
const studies = join(artifacts, "a11y-studies");
rmSync(studies, { recursive: true, force: true });
for (const k of [1, 2, 3]) {
  execFileSync(sarcoscope, ["phantom", join(studies, `s${k}`), "--seed", String(60 + k), "--slices", "1"], { stdio: "ignore" });
}
await view("cohort");
await page.setInputFiles("#cohort-folder", studies);
await page.waitForFunction(() => /^Done: 3 of 3 studies have a row/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 240000 });
await check("cohort view with three studies measured: no serious or critical violation", async () => assert.deepEqual(await audit(), []));
await view("reader");
await page.selectOption("#study-start", "automatic");
await page.setInputFiles("#study-folder", studies);
await page.waitForFunction(() => /A reader study of 3 cases is set up/.test(document.querySelector("#study-said")?.textContent || ""), null, { timeout: 60000 });
await check("reader view with a study of three cases: no serious or critical violation", async () => assert.deepEqual(await audit(), []));
await view("statistics");
const idle = () => page.waitForFunction(() => !document.querySelector("#stats-progress"), null, { timeout: 300000 });
await page.click("#stats-demo");
await page.waitForSelector("#stats-columns:not([hidden]) table", { timeout: 60000 });
await idle();
const fields = { "stats-event-value": "1", "stats-covariates": "meld, factor(sarcopenia), age_years", "stats-bootstrap": "0", "stats-horizons": "365" };
for (const [id, value] of Object.entries(fields)) {
  if (await page.locator(`#${id}`).evaluate((e) => e.tagName === "SELECT")) await page.selectOption(`#${id}`, value);
  else await page.fill(`#${id}`, value);
}
await page.click("#stats-fit");
await idle();
await check("statistics view with a Cox model fitted: no serious or critical violation", async () => {
  assert.equal((await page.textContent("#stats-error")).trim(), "");
  assert.deepEqual(await audit(), []);
});
await page.click("#stats-published-meld");
await page.waitForSelector("#stats-model");
await page.click("#stats-validate");
await idle();
await check("statistics view with a published score validated: no serious or critical violation", async () => {
  assert.match(await page.textContent("#stats-report"), /A published score, not this study's model/);
  assert.deepEqual(await audit(), []);
});
await finish("accessibility e2e");
