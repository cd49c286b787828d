// End-to-end test of the reader study in headless Chromium (WebGPU on SwiftShader): a
// study of three cases (phantom patients, a subfolder each) chosen through the folder
// input; reader R1 opens each case in the Patient view at the automatic L3 with the
// automatic mask, paints muscle on the first and marks the cases done; the page is
// reloaded in the middle and nothing is lost (the kept study, R1's finished case, the
// next case to open); reader R2 reads every case without changes. The study's table
// must hold each reading's pixels changed per tissue, the inter-reader report must
// compare the three cases (Dice 1 where neither changed anything, below 1 where R1
// painted), the readers' masks must download as DICOM SEG that pydicom reads, and no
// request may leave the origin. Last, the study is forgotten and one of independent
// tracing set up: its cases open blank, and what the reader traces counts as changed.
//
// Usage: node tests/e2e/reader.mjs <base-url> <artifacts-dir> <sarcoscope-cli>
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { loadedAndSegmented, paintMuscle, start, unzip } from "./harness.mjs";

const [base, artifacts, sarcoscope] = process.argv.slice(2);
const cases = join(artifacts, "reader-cases");
rmSync(cases, { recursive: true, force: true });
mkdirSync(cases, { recursive: true });
for (const [k, seed] of [["p1", 1], ["p2", 2], ["p3", 3]]) {
  execFileSync(sarcoscope, ["phantom", join(cases, k), "--seed", String(seed)], { stdio: "ignore" });
}

const download = async (page, selector) => {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  return readFileSync(await file.path());
};
// Waits until case `expected` is open in the Patient view with its automatic mask on
// screen, the level confirmed.
const ready = async (page, expected) => {
  await page.waitForSelector(`#view-patient:not([hidden]) #reader-bar[data-case="${expected}"]`, { timeout: 60000 });
  await loadedAndSegmented(page);
  // Where the automatic L3 is only a best guess (uncertain), the reader confirms it.
  if (!(await page.textContent("#level-choice")).trim()) {
    await page.click("#set-l3");
    await loadedAndSegmented(page);
  }
};
const openNext = async (page, expected) => {
  await page.click("#study-next");
  await ready(page, expected);
};
// Marks the open case done; the next one opens (or the study view comes back).
const done = async (page, next) => {
  await page.click("#reader-done");
  const target = next ? `#reader-bar[data-case="${next}"]` : "#view-reader:not([hidden])";
  await page.waitForFunction((target) => document.querySelector(target)
    || document.querySelector("#reader-said")?.textContent, target, { timeout: 60000 });
  assert.equal(await page.locator("#reader-said").count() ? await page.textContent("#reader-said") : "", "", "Done refused");
  if (next) await ready(page, next);
};
const readings = (page) => page.$$eval("#study-progress tr.reading", (rows) => rows.map((r) => ({
  reader: r.dataset.reader, cells: [...r.querySelectorAll("td")].map((c) => c.textContent),
})));

const { page, check, finish } = await start(base);
try {
  await page.goto(`${base}#/reader`);
  await page.selectOption("#study-start", "automatic");
  await page.setInputFiles("#study-folder", cases);
  await check("the study is set up with its three cases", async () => {
    assert.match(await page.textContent("#study-said"), /A reader study of 3 cases is set up/);
  });
  await page.fill("#study-reader", "R1");
  await openNext(page, "p1");
  await check("a case opens at the automatic L3 with the automatic mask", async () => {
    assert.match(await page.textContent("#level-choice"), /\(automatic\)/);
    assert.match(await page.textContent("#reader-bar"), /reader R1, case p1 \(1 of 3\)/);
  });
  await page.click("#tab-muscle");
  await paintMuscle(page);
  const painted = Number(await page.getAttribute("#edited-pixels", "data-count"));
  await done(page, "p2");

  // A reload in the middle of the study: the finished case and the study stay.
  await page.reload();
  await page.goto(`${base}#/reader`);
  await page.waitForFunction(() => /kept in this browser/.test(document.querySelector("#study-said")?.textContent || ""), null, { timeout: 30000 });
  await check("after a reload the study and R1's finished case are kept", async () => {
    assert.match(await page.textContent("#study-said"), /3 cases with 1 finished readings/);
    const rows = await readings(page);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].cells[0], "p1");
  });
  await page.setInputFiles("#study-folder", cases);
  await page.fill("#study-reader", "R1");
  await openNext(page, "p2");
  await done(page, "p3");
  await done(page, null);
  await check("R1 has done every case", async () => {
    assert.match(await page.textContent("#study-said"), /Reader R1 has done every case/);
  });

  await page.fill("#study-reader", "R2");
  await openNext(page, "p1");
  await done(page, "p2");
  await done(page, "p3");
  await done(page, null);

  await check("each reading records the pixels changed per tissue", async () => {
    const rows = await readings(page);
    assert.equal(rows.length, 6);
    for (const r of rows) {
      const changed = r.cells[4].split(" / ").map(Number);
      const muscle = changed[0];
      if (r.reader === "R1" && r.cells[0] === "p1") {
        assert.ok(muscle > 0 && muscle <= painted, `R1 p1 muscle ${muscle}, painted ${painted}`);
      } else {
        assert.deepEqual(changed, [0, 0, 0, 0], `${r.reader} ${r.cells[0]}`);
      }
      assert.ok(Number(r.cells[3]) >= 0, "time spent");
    }
  });
  await check("the inter-reader report compares the three cases", async () => {
    await page.waitForSelector("#study-report:not([hidden])");
    const report = await page.textContent("#study-report");
    assert.match(report, /3 cases compared/);
    const json = JSON.parse((await download(page, "#study-json")).toString("utf8"));
    assert.equal(json.sma.cases, 3);
    const muscle = json.cases.filter((r) => r.tissue === "muscle");
    assert.equal(muscle.length, 3);
    for (const r of muscle) {
      if (r.case === "p1") assert.ok(r.dice < 1, `p1 Dice ${r.dice}`);
      else assert.equal(r.dice, 1, `${r.case} Dice`);
    }
    assert.equal(json.level.same_slice, 3);
  });
  await check("the readers' masks download as DICOM SEG that pydicom reads", async () => {
    const entries = unzip(await download(page, "#study-masks"));
    assert.deepEqual(Object.keys(entries).sort(), ["p1/R1.dcm", "p1/R2.dcm", "p2/R1.dcm", "p2/R2.dcm", "p3/R1.dcm", "p3/R2.dcm"]);
    const path = join(artifacts, "reader-p1-R1.dcm");
    writeFileSync(path, entries["p1/R1.dcm"]);
    const read = JSON.parse(execFileSync(process.env.SARCOSCOPE_PYTHON, ["tests/read_seg.py", path], { encoding: "utf8" }));
    assert.equal(read.segmentation_type, "BINARY");
    assert.equal(read.frames, 4);
    assert.ok(read.pixels[0] > 0, "muscle pixels");
    assert.equal(read.patient_name, "", "de-identified");
  });
  await page.screenshot({ path: join(artifacts, "reader-study.png"), fullPage: true });

  // Forgotten, then a study of independent tracing: each case opens blank.
  await page.click("#study-forget");
  await check("a forgotten study is gone, and a blank-start study can be set up", async () => {
    assert.match(await page.textContent("#study-said"), /deleted from this browser/);
    await page.selectOption("#study-start", "blank");
    await page.setInputFiles("#study-folder", cases);
    assert.match(await page.textContent("#study-said"), /A reader study of 3 cases is set up/);
  });
  await page.fill("#study-reader", "R3");
  await openNext(page, "p1");
  await check("a blank start shows no mask, and all the reader traces counts as changed", async () => {
    await page.waitForFunction(() => document.querySelector("#metric-sma")?.dataset.value === "0.0", null, { timeout: 30000 });
    await page.click("#tab-muscle");
    await paintMuscle(page);
    await page.click("#reader-done");
    await page.waitForSelector('#reader-bar[data-case="p2"]', { timeout: 60000 });
    await page.click("#reader-back");
    const rows = await readings(page);
    assert.equal(rows.length, 1);
    const muscle = Number(rows[0].cells[4].split(" / ")[0]);
    assert.ok(muscle > 0, "the traced muscle counts as changed");
    assert.ok(Number(rows[0].cells[5]) > 0, "and is measured");
  });
} catch (e) {
  await check("the reader study completes", async () => { throw e; });
}
await finish("reader study");
