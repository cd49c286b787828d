// End-to-end test of the Reader study view's agreement section in headless Chromium
// (WebGPU on SwiftShader): the real example CT series and a folder of readers' DICOM
// SEG files written by another tool (pydicom, tests/write_seg.py: binary, fractional,
// one with no tissue) are chosen through the folder inputs; the SEG whose segments do not
// say their tissue is refused with their labels, the user names them in the mapping and
// compares again; then the page's per-case CSV and aggregate JSON must equal
// `sarcoscope agree` on the same folders (reader areas exactly, automatic areas within
// the WebGPU/CPU difference, the same L3 level distances), the report must hold its plots,
// and no request may leave the origin.
//
// Usage: node tests/e2e/agreement.mjs <base-url> <shared-dir> <artifacts-dir> <sarcoscope-cli>
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { start } from "./harness.mjs";

const [base, shared, artifacts, sarcoscope] = process.argv.slice(2);
const series = join(shared, "data/ct/totalseg-example/series-dicom");
const masks = join(artifacts, "agreement-masks");
rmSync(masks, { recursive: true, force: true });
mkdirSync(masks, { recursive: true });
const python = process.env.SARCOSCOPE_PYTHON;
assert.ok(python, "SARCOSCOPE_PYTHON is set by scripts/bootstrap");
// The readers traced slices 72 and 74 (L3's centre by the labels); fractional.dcm is 72's.
execFileSync(python, ["tests/write_seg.py", masks, join(series, "slice0072.dcm"), join(series, "slice0074.dcm")]);
const naming = "Segment_2=imat,Liver=ignore,Segment_9=ignore";
const cli = JSON.parse(execFileSync(sarcoscope, ["agree", series, "--reference", masks, "--segments", naming,
  "--json", "--device", "cpu"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));

const parse = (text) => {
  const [header, ...rows] = text.trim().split(/\r?\n/).map((l) => l.split(","));
  return rows.map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]])));
};
const download = async (page, selector) => {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  return readFileSync(await file.path(), "utf8");
};
const settled = async (page) => page.waitForFunction(() => {
  const status = document.querySelector("#agree-status")?.textContent ?? "";
  return /cases compared/.test(status) && !document.querySelector("#agree-run").disabled;
}, null, { timeout: 600_000 });

const { page, check, finish } = await start(base);
try {
  await page.goto(`${base}#/reader`);
  await check("the reader view offers the agreement section", async () => {
    await page.waitForSelector("#agreement", { state: "visible" });
  });
  await page.setInputFiles("#agree-ct", series);
  await page.setInputFiles("#agree-masks", masks);
  await check("both folders are taken", async () => {
    assert.match(await page.textContent("#agree-ct-count"), /^112 files/);
    assert.match(await page.textContent("#agree-masks-count"), /^3 files/);
  });
  await page.click("#agree-run");
  await settled(page);
  await check("unnamed segments are refused and listed for the user to name", async () => {
    assert.match(await page.textContent("#agree-status"), /name them below/);
    const labels = await page.$$eval("#agree-mapping td:first-child", (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(labels.sort(), ["Liver", "Segment_2", "Segment_9"]);
    assert.match(await page.textContent("#agree-report"), /binary\.dcm: its segments “Segment_2”, “Liver” do not say/);
  });
  for (const [label, tissue] of [["Segment_2", "imat"], ["Liver", "ignore"], ["Segment_9", "ignore"]]) {
    await page.selectOption(`#agree-mapping select[aria-label="Tissue of ${label}"]`, tissue);
  }
  await page.click("#agree-again");
  await settled(page);

  const csv = parse(await download(page, "#agree-csv"));
  const json = JSON.parse(await download(page, "#agree-json"));
  await check("every named case is compared; the SEG with no tissue says why", async () => {
    assert.match(await page.textContent("#agree-status"), /^3 cases compared, 1 not\./);
    assert.equal(json.failed.length, 1);
    assert.equal(json.failed[0].case, "unknown.dcm");
    assert.match(json.failed[0].reason, /none of its segments is a tissue/);
  });
  await check("reader areas equal the command line's; automatic areas within 2 %", async () => {
    const key = (r) => `${r.case}|${r.tissue}`;
    const cliRows = Object.fromEntries(cli.cases.map((r) => [key(r), r]));
    assert.equal(json.cases.length, cli.cases.length);
    for (const row of json.cases) {
      const c = cliRows[key(row)];
      assert.ok(c, `${key(row)} in the command line's output`);
      assert.equal(row.area_ref_cm2, c.area_ref_cm2, key(row));
      if (row.tissue === "muscle") {
        assert.ok(Math.abs(row.area_auto_cm2 - c.area_auto_cm2) <= 0.02 * c.area_auto_cm2 + 0.5,
          `${key(row)}: page ${row.area_auto_cm2} cm², CLI ${c.area_auto_cm2} cm²`);
      }
    }
  });
  await check("the level figures and the CSV agree with the command line", async () => {
    assert.deepEqual(json.level, cli.level);
    assert.equal(json.level.same_slice, 1, "slice 74 is the automatic L3");
    const muscle = csv.filter((r) => r.tissue === "muscle");
    assert.equal(muscle.length, 3);
    const distances = muscle.map((r) => Number(r.level_difference_slices)).sort();
    assert.deepEqual(distances, [-2, -2, 0]);
  });
  await check("the page shows the report with its Bland–Altman plots, the model named", async () => {
    const report = await page.textContent("#agree-report");
    assert.match(report, /Overlap per tissue/);
    assert.match(report, /Automatic masks: sarcoscope-l3-unet .*SHA-256/);
    assert.equal(await page.locator("#agree-report svg").count() >= 2, true);
    const html = await download(page, "#agree-html");
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Bland–Altman plot of Skeletal muscle area/);
  });
  await page.screenshot({ path: join(artifacts, "agreement.png"), fullPage: true });
} catch (e) {
  await check("the agreement run completes", async () => { throw e; });
}
await finish("agreement");
