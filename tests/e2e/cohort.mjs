// End-to-end test of the Cohort view in headless Chromium: an archive of 21 mixed
// studies (16 phantom series of varied build, a single-slice phantom, the real example
// CT, an MR study, real DICOMDIR media whose CT files hold no image, a folder without
// DICOM; and in one phantom study a file nesting sequences 50,000 deep, which aborted
// the decoding worker) chosen through the folder input is measured study by study in
// the page's workers (on the CPU: a browser without WebGPU, as many hospital computers;
// WebGPU on SwiftShader took 5 s a study where the CPU takes under 1, and the WebGPU path
// is checked against the CPU's in viewer.mjs), each study one row — measured or failed
// with its reason — and the downloaded cohort table equals `sarcoscope batch` on the
// same folder (slice, L3 status, reasons; areas within the wasm/native difference); no
// request leaves the origin. The page is reloaded in the middle of the run: the rows
// made before stay, and choosing the folder again goes on without measuring any study
// twice. A study is then opened from the review queue in the Patient view, its mask
// corrected, and saved back: its row says reviewed with the pixels changed. The key table
// (asked for and confirmed) equals `sarcoscope batch --keys`. Last, clinical tables are
// joined by case code and by PatientID (equal to `sarcoscope join`) and the joined table
// opened in the Statistics view. Case codes carry a typed prefix (C1-, as `batch
// --code-prefix`); the masks download as one ZIP (checked against `batch --seg-dir`), the
// corrected study's with its painting; a folder chosen with the folder picker is kept and
// read again after a reload with one click. Last, a decoding worker made to die costs only
// the study it held.
//
// Usage: node tests/e2e/cohort.mjs <base-url> <shared-dir> <artifacts-dir> <sarcoscope-cli>
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { loadedAndSegmented, paintMuscle, pngGrey8, start, unzip } from "./harness.mjs";

const [base, shared, artifacts, sarcoscope] = process.argv.slice(2);
const archive = join(artifacts, "cohort-archive");
rmSync(archive, { recursive: true, force: true });
mkdirSync(archive, { recursive: true });
const cli = (...args) => execFileSync(sarcoscope, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
cli("phantom", join(archive, "p01"), "--seed", "1");
// Fifteen more phantom patients of varied build (each seed draws habitus, muscle, fat).
const more = Array.from({ length: 15 }, (_, k) => `p${String(k + 2).padStart(2, "0")}`);
more.forEach((folder, k) => cli("phantom", join(archive, folder), "--seed", String(k + 4)));
// Real DICOMDIR media (pydicom's test file-set: CT headers whose pixel data was stripped).
cpSync(join(shared, "data/dicom/pydicom/dicomdirtests/TINY_ALPHA"), join(archive, "media"), { recursive: true });
// A copy of a p02 slice with a private sequence nested 50,000 deep after group 0008.
{
  const slice = readFileSync(join(archive, "p02/slice0000.dcm"));
  let at = 144 + slice.readUInt32LE(140);
  while (slice.readUInt16LE(at) === 8) {
    const vr = slice.toString("latin1", at + 4, at + 6);
    at += ["OB", "OW", "SQ", "UN", "UT", "UC", "UR"].includes(vr) ? 12 + slice.readUInt32LE(at + 8) : 8 + slice.readUInt16LE(at + 6);
  }
  const open = Buffer.from([0x09, 0, 0x01, 0x10, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
  const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  const creator = Buffer.from([0x09, 0, 0x10, 0, 0x4c, 0x4f, 4, 0, 0x44, 0x45, 0x45, 0x50]);
  const depth = 50000;
  writeFileSync(join(archive, "p02/nested.dcm"), Buffer.concat([slice.subarray(0, at), creator,
    Buffer.alloc(open.length * depth, open), Buffer.alloc(close.length * depth, close), slice.subarray(at)]));
}
cli("phantom", join(archive, "single"), "--seed", "3", "--slices", "1");
cpSync(join(shared, "data/ct/totalseg-example/series-dicom"), join(archive, "real"), { recursive: true });
mkdirSync(join(archive, "mr"));
cpSync(join(shared, "data/dicom/pydicom/MR_small.dcm"), join(archive, "mr/MR_small.dcm"));
mkdirSync(join(archive, "notes"));
writeFileSync(join(archive, "notes/readme.txt"), "not an image");

// The same table from the command line (outside the archive, on the CPU).
const cliTable = join(artifacts, "cohort-cli.csv");
const cliKeys = join(artifacts, "cohort-keys-cli.csv");
rmSync(cliKeys, { force: true });
const cliMasks = join(artifacts, "cohort-masks-cli");
rmSync(cliMasks, { recursive: true, force: true });
cli("batch", archive, "--out", cliTable, "--keys", cliKeys, "--device", "cpu", "--code-prefix", "C1-", "--seg-dir", cliMasks);

// RFC 4180 rows, enough for these tables (quoted fields may hold commas).
const parse = (text) => text.trim().split(/\r?\n/).map((line) => {
  const out = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { out.push(cur); cur = ""; } else cur += c;
  }
  out.push(cur);
  return out;
});
const rowsOf = (text) => {
  const [header, ...rows] = parse(text);
  return Object.fromEntries(rows.map((r) => {
    const row = Object.fromEntries(header.map((h, k) => [h, r[k]]));
    return [row.source_folder, row];
  }));
};

const { page, check, finish } = await start(base, { webgpu: false });
let painted = 0;
try {
  await page.goto(`${base}#/cohort`);
  await page.waitForSelector("#view-cohort", { state: "visible", timeout: 60000 });
  await check("a case-code prefix that could carry a name or break a file name is refused before the run starts", async () => {
    await page.fill("#cohort-prefix", "Dr Smith");
    await page.setInputFiles("#cohort-folder", archive);
    assert.match(await page.textContent("#cohort-status"), /^Not started: a case-code prefix is 1 to 16 letters, digits/);
    assert.equal(await page.locator("#cohort-table tbody tr").count(), 0);
  });
  // The centre's own codes, as `sarcoscope batch --code-prefix C1-` gives them.
  await page.fill("#cohort-prefix", "C1-");
  await page.setInputFiles("#cohort-folder", archive);
  let before;
  await check("reloaded in the middle of the run, the rows made before are still there", async () => {
    // mr fails at once (no CT); p01 is measured next; reload while the real CT is under way.
    await page.waitForFunction(() => Number(document.querySelector("#view-cohort").dataset.stored) >= 2, null, { timeout: 240000 });
    const stored = Number(await page.getAttribute("#view-cohort", "data-stored"));
    before = (await page.locator("#cohort-table tbody tr").allTextContents()).slice(0, stored);
    await page.reload();
    await page.waitForSelector("#view-cohort", { state: "visible", timeout: 60000 });
    await page.waitForFunction((n) => document.querySelectorAll("#cohort-table tbody tr").length >= n, before.length, { timeout: 30000 });
    assert.match(await page.textContent("#cohort-status"), /kept in this browser/);
    const after = await page.locator("#cohort-table tbody tr").allTextContents();
    assert.deepEqual(after.slice(0, before.length), before);
    assert.ok(await page.isVisible("#cohort-forget"));
    assert.equal(await page.inputValue("#cohort-prefix"), "C1-", "the kept run's codes");
  });
  await page.setInputFiles("#cohort-folder", archive);
  await check("the run shows its pace: studies a minute and the time left", async () => {
    await page.waitForFunction(() => /Measuring study \d+ of 21… [\d.]+ studies a minute, about \d+ (s|min) left\./.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 240000 });
  });
  await check("chosen again, the run goes on: every study one row, none measured twice", async () => {
    await page.waitForFunction(() => /^Done:/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 480000 });
    assert.match(await page.textContent("#cohort-status"), /Done: 21 of 21 studies have a row/);
    assert.equal(await page.locator("#cohort-table tbody tr").count(), 21);
    const rows = await page.locator("#cohort-table tbody tr").allTextContents();
    // The rows made before the reload, unchanged (a study measured again would differ in
    // nothing but would be made twice: the count above and the codes below say not).
    assert.deepEqual(rows.slice(0, before.length), before);
    const codes = rows.map((r) => r.slice(0, 7));
    assert.deepEqual(codes, Array.from({ length: 21 }, (_, k) => `C1-${String(k + 1).padStart(4, "0")}`));
    assert.equal(await page.locator('#cohort-table tbody tr[data-status="failed"]').count(), 3);
  });
  await page.screenshot({ path: join(artifacts, "e2e-cohort.png"), fullPage: true });
  await check("the cohort table equals sarcoscope batch on the same folder", async () => {
    const [d] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-download")]);
    const path = join(artifacts, "cohort-browser.csv");
    await d.saveAs(path);
    const browser = rowsOf(readFileSync(path, "utf8"));
    const native = rowsOf(readFileSync(cliTable, "utf8"));
    assert.deepEqual(Object.keys(browser).sort(), Object.keys(native).sort());
    assert.equal(readFileSync(path, "utf8").split(/\r?\n/)[0], readFileSync(cliTable, "utf8").split(/\r?\n/)[0], "the same columns");
    for (const [folder, want] of Object.entries(native)) {
      const got = browser[folder];
      for (const key of ["case", "status", "reason", "l3_status", "level_slice", "level_method", "series", "sex", "height_m", "smi_cutoffs", "cutoffs_version"]) {
        assert.equal(got[key], want[key], `${folder}: ${key}`);
      }
      if (want.status === "measured") {
        // Both segment on the CPU, the page in WebAssembly: the same network, summed in
        // another order, so the areas agree within 0.5 %.
        const [a, b] = [Number(got.sma_cm2), Number(want.sma_cm2)];
        assert.ok(Math.abs(a - b) <= 0.005 * b + 0.1, `${folder}: SMA ${a} vs ${b}`);
        assert.match(got.segmentation_path, /CPU/);
      }
    }
    assert.equal(native.mr.reason, "no CT image series in this study (it holds MR)");
    assert.equal(native.single.l3_status, "given");
    assert.equal(native["media/PT000000/ST000000/SE000000"].reason, "no CT image series in this study (it holds CT files without an image)");
    assert.equal(native.media, undefined, "the folder holding the DICOMDIR is no study");
    assert.equal(native.p02.status, "measured", "the study with the deeply nested file");
  });
  await check("the key table leaves the page only when asked and confirmed, equal to sarcoscope batch --keys", async () => {
    let asked = "";
    page.once("dialog", (dialog) => { asked = dialog.message(); dialog.accept(); });
    const [d] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-keys")]);
    assert.match(asked, /identifies the patients/);
    const path = join(artifacts, "cohort-keys.csv");
    await d.saveAs(path);
    assert.equal(readFileSync(path, "utf8"), readFileSync(cliKeys, "utf8"));
    assert.match(readFileSync(path, "utf8"), /^case,study_uid,study_date,source_folder,patient_id\r\n/);
  });
  await check("the damaged file is named on the page with its reason, not hidden", async () => {
    const text = await page.textContent("#cohort-damaged");
    assert.match(text, /1 file could not be read and was left out of its study/);
    assert.match(text, /p02\/nested\.dcm: the file nests sequences more than 64 levels deep/);
  });
  await check("the table on the page shows the reason of each failed study", async () => {
    const text = await page.textContent("#cohort-table");
    assert.match(text, /no CT image series in this study \(it holds MR\)/);
    assert.match(text, /no DICOM file in this folder could be read/);
  });
  await check("ordered to look at first: the failed studies, then the doubtful ones with why", async () => {
    await page.selectOption("#cohort-order", "review");
    const rows = await page.locator("#cohort-table tbody tr").allTextContents();
    const failed = await page.$$eval('#cohort-table tbody tr[data-status="failed"]', (r) => r.map((x) => x.textContent.slice(0, 7)));
    assert.deepEqual(rows.map((r) => r.slice(0, 7)).slice(0, 3).sort(), failed.sort());
    const single = rows.find((r) => r.includes("single"));
    assert.match(single, /level as given, not searched for/);
    // A phantom series found at L3 comes last, with no doubt about its level.
    const last = await page.$eval("#cohort-table tbody tr:last-child", (r) => [r.children[1].textContent, r.lastElementChild.textContent]);
    assert.match(last[0], /^p\d\d$/);
    assert.doesNotMatch(last[1], /not measured|level as given|L3 uncertain/);
  });
  await check("the table filters and sorts: failed studies alone, then by SMA either way, empty cells last", async () => {
    await page.selectOption("#cohort-order", "archive");
    await page.selectOption("#cohort-filter", "failed");
    const statuses = await page.$$eval("#cohort-table tbody tr", (r) => r.map((x) => x.dataset.status));
    assert.deepEqual(statuses, ["failed", "failed", "failed"]);
    assert.match(await page.textContent("#cohort-shown"), /^3 of 21 studies shown/);
    await page.selectOption("#cohort-filter", "all");
    const sma = () => page.$$eval("#cohort-table tbody tr", (r) => r.map((x) => x.children[5].textContent));
    await page.click('#cohort-table th button[data-column="5"]');
    const up = await sma();
    const values = up.filter((v) => v !== "").map(Number);
    assert.equal(values.length, 18);
    assert.deepEqual(values, [...values].sort((a, b) => a - b));
    assert.deepEqual(up.slice(-3), ["", "", ""], "the failed studies (no SMA) last");
    assert.equal(await page.getAttribute("#cohort-table thead th:nth-child(6)", "aria-sort"), "ascending");
    await page.click('#cohort-table th button[data-column="5"]');
    const down = await sma();
    assert.deepEqual(down.filter((v) => v !== "").map(Number), [...values].sort((a, b) => b - a));
    assert.deepEqual(down.slice(-3), ["", "", ""]);
    assert.equal(await page.getAttribute("#cohort-table thead th:nth-child(6)", "aria-sort"), "descending");
  });
  await check("a study opened from the review queue, corrected and saved: its row says reviewed with the pixels changed, the others stay, and it is kept", async () => {
    const native = rowsOf(readFileSync(cliTable, "utf8"));
    const first = rowsOf(readFileSync(join(artifacts, "cohort-browser.csv"), "utf8"));
    const { case: code, level_slice: slice } = native.p03;
    await page.selectOption("#cohort-order", "review");
    await page.click(`#cohort-table button.open[data-case="${code}"]`);
    await page.waitForSelector(`#view-patient:not([hidden]) #review-bar[data-case="${code}"]`, { timeout: 120000 });
    await loadedAndSegmented(page);
    assert.equal(await page.textContent("#level-choice"), `Measurement slice: ${slice} (automatic)`, "opened on the row's level");
    // The reader paints muscle across the middle of the slice, then saves to the row.
    await page.click("#tab-muscle");
    await paintMuscle(page);
    const edited = await page.getAttribute("#edited-pixels", "data-count");
    assert.ok(Number(edited) > 0);
    painted = Number(edited);
    await page.click("#review-save");
    assert.match(await page.textContent("#review-said"), new RegExp(`^Row ${code} saved: SMA [\\d.]+ cm² at slice ${slice}, ${edited} pixels corrected by hand, marked reviewed\\.`));
    await page.screenshot({ path: join(artifacts, "e2e-cohort-review.png"), fullPage: true });
    await page.click("#review-back");
    await page.waitForSelector("#view-cohort:not([hidden])");
    const row = page.locator(`#cohort-table tbody tr:has(button.open[data-case="${code}"])`);
    assert.equal(await row.getAttribute("data-reviewed"), "yes");
    assert.match(await row.textContent(), new RegExp(`reviewed by hand \\(${edited} pixels corrected\\)`));
    const [d] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-download")]);
    const path = join(artifacts, "cohort-reviewed.csv");
    await d.saveAs(path);
    const now = rowsOf(readFileSync(path, "utf8"));
    for (const [folder, was] of Object.entries(first)) {
      if (folder !== "p03") assert.deepEqual(now[folder], was, `${folder} unchanged`);
    }
    const [was, is] = [first.p03, now.p03];
    assert.equal(is.reviewed, "yes");
    assert.equal(is.edited_pixels, edited);
    assert.ok(Number(is.sma_cm2) > Number(was.sma_cm2) + 1, `SMA ${was.sma_cm2} → ${is.sma_cm2}`);
    for (const key of ["case", "status", "source_folder", "series", "seconds", "l3_status", "level_slice", "slice_z_mm", "model_sha256"]) {
      assert.equal(is[key], was[key], key);
    }
    // Kept in this browser like every row: a reload shows the reviewed row.
    await page.reload();
    await page.waitForSelector("#view-cohort", { state: "visible", timeout: 60000 });
    await page.waitForFunction((c) => [...document.querySelectorAll("#cohort-table tbody tr")]
      .some((r) => r.textContent.startsWith(c) && r.dataset.reviewed === "yes"), code, { timeout: 30000 });
  });
  await check("the masks download as one ZIP from the browser's disk, after a reload too: a SEG and a PNG per measured study, as sarcoscope batch --seg-dir makes them, the corrected one with its painting", async () => {
    const native = rowsOf(readFileSync(cliTable, "utf8"));
    const [d] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-masks")]);
    const path = join(artifacts, "cohort-masks.zip");
    await d.saveAs(path);
    const entries = unzip(readFileSync(path));
    const measured = Object.values(native).filter((r) => r.status === "measured").map((r) => r.case);
    const names = measured.flatMap((c) => [`${c}.png`, `${c}.seg.dcm`]).sort();
    assert.deepEqual(Object.keys(entries).sort(), names);
    assert.deepEqual(readdirSync(cliMasks).sort(), names, "the same files as --seg-dir");
    await page.waitForFunction((n) => document.querySelector("#cohort-masks-said")?.textContent === `cohort-masks.zip: ${n} files.`, names.length, { timeout: 30000 });
    const uids = readFileSync(cliKeys, "utf8").split(/\r?\n/).slice(1).map((l) => l.split(",")[1]).filter(Boolean);
    for (const code of measured) {
      const seg = entries[`${code}.seg.dcm`];
      assert.equal(seg.toString("latin1", 128, 132), "DICM", `${code}: DICOM SEG`);
      for (const uid of uids) assert.ok(!seg.includes(uid), `${code}: de-identified, no study UID`);
      const [browser, cli] = [pngGrey8(entries[`${code}.png`]).pixels, pngGrey8(readFileSync(join(cliMasks, `${code}.png`))).pixels];
      assert.equal(browser.length, cli.length, `${code}: the same slice size`);
      const muscle = (labels) => labels.reduce((n, l) => n + (l === 1), 0);
      if (code === native.p03.case) {
        // The reader's painting is in the kept mask (page and command line differ by < 0.2 %).
        const gained = muscle(browser) - muscle(cli);
        assert.ok(Math.abs(gained - painted) <= 0.002 * cli.length, `${code}: ${gained} muscle pixels more, ${painted} painted`);
      } else {
        const same = browser.reduce((n, l, k) => n + (l === cli[k]), 0);
        assert.ok(same >= 0.998 * cli.length, `${code}: ${same} of ${cli.length} labels as the CLI's`);
      }
    }
  });
  await check("a clinical table joins by case code: heights fill SMI, labs the scores, outcomes come along — equal to sarcoscope join — and open in Statistics", async () => {
    const native = rowsOf(readFileSync(cliTable, "utf8"));
    const [a, b, c] = [native.p04.case, native.p05.case, native.mr.case];
    // As a European spreadsheet writes it: semicolons, decimal commas, R's NA.
    const clinical = join(artifacts, "clinical.csv");
    writeFileSync(clinical, [
      "case;height_cm;bili;creat;inr;na;alb;sex;dialysis;time_days;died",
      `${a};172;34;80;1,4;134;32;M;0;400;1`,
      `${b};NA;20;70;1,1;139;40;F;0;900;0`,
      `${c};;51;110;1,9;128;28;M;0;120;1`,
      "C1-0999;160;20;70;1,1;139;40;F;0;900;0",
      `${native.p06.case};;9000;70;1,1;139;40;F;0;10;0`,
    ].join("\n") + "\n");
    await page.setInputFiles("#cohort-clinical", clinical);
    await page.waitForFunction(() => /studies joined/.test(document.querySelector("#cohort-joined")?.textContent || ""), null, { timeout: 30000 });
    const said = await page.textContent("#cohort-joined");
    assert.match(said, /^clinical\.csv: 3 of 21 studies joined with their clinical row\./);
    assert.match(said, /Cases not in this cohort: C1-0999\./);
    assert.match(await page.textContent("#cohort-join-problems"), /Line 6 not used: bilirubin 9000 µmol\/L is outside what is physiologically possible \(0\.855–1710 µmol\/L\)/);
    const [d] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-joined-download")]);
    const path = join(artifacts, "cohort-joined.csv");
    await d.saveAs(path);
    // The same join on the command line, from the table the page downloaded.
    const reviewed = join(artifacts, "cohort-reviewed.csv");
    const cliJoined = join(artifacts, "cohort-joined-cli.csv");
    execFileSync(sarcoscope, ["join", reviewed, clinical, "--units", "si", "--out", cliJoined], { stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(readFileSync(path, "utf8"), readFileSync(cliJoined, "utf8"), "the page's join equals sarcoscope join");
    const joined = rowsOf(readFileSync(path, "utf8"));
    assert.equal(joined.p04.height_source, "entered");
    assert.equal(Number(joined.p04.smi_cm2_m2).toFixed(1), (Number(joined.p04.sma_cm2) / 1.72 ** 2).toFixed(1));
    assert.ok(Number(joined.p04.meld) > 6 && joined.p04.time_days === "400" && joined.p04.died === "1");
    assert.equal(joined.p05.height_m, native.p05.height_m, "no height given: the DICOM one stays");
    assert.equal(joined.mr.status, "failed");
    assert.equal(joined.mr.reason, native.mr.reason);
    assert.ok(Number(joined.mr.meld) > 6, "a study without a measurement still gets its scores");
    assert.equal(joined.p06.meld, "", "a clinical row with a bad value is not used");
    assert.equal(joined.p06.time_days, "10", "its outcome still comes along");
    assert.equal(joined.p07.time_days, "");
    // A clinical table kept by PatientID joins through the key table this browser keeps;
    // the ID is not copied into the joined table.
    const ids = Object.fromEntries(parse(readFileSync(cliKeys, "utf8")).slice(1).map((k) => [k[3], k[4]]));
    const byId = join(artifacts, "clinical-by-id.csv");
    writeFileSync(byId, `patient_id,height_cm,died\n${ids.real},181,1\n${ids.mr},,0\nNOT-HERE,170,0\n`);
    await page.setInputFiles("#cohort-clinical", byId);
    await page.waitForFunction(() => /^clinical-by-id\.csv: 2 of 21 studies joined/.test(document.querySelector("#cohort-joined")?.textContent || ""), null, { timeout: 30000 });
    assert.match(await page.textContent("#cohort-joined"), /Cases not in this cohort: NOT-HERE\./);
    const [e] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-joined-download")]);
    const idPath = join(artifacts, "cohort-joined-by-id.csv");
    await e.saveAs(idPath);
    const idCli = join(artifacts, "cohort-joined-by-id-cli.csv");
    execFileSync(sarcoscope, ["join", reviewed, byId, "--keys", cliKeys, "--units", "si", "--out", idCli], { stdio: ["ignore", "pipe", "pipe"] });
    assert.equal(readFileSync(idPath, "utf8"), readFileSync(idCli, "utf8"), "the page's join by PatientID equals sarcoscope join --keys");
    const byPatient = rowsOf(readFileSync(idPath, "utf8"));
    assert.equal(byPatient.real.height_m, "1.810");
    assert.equal(byPatient.real.died, "1");
    assert.equal(byPatient.mr.died, "0");
    assert.ok(!readFileSync(idPath, "utf8").includes(ids.real), "no PatientID in the joined table");
    await page.click("#cohort-joined-statistics");
    await page.waitForSelector("#view-statistics:not([hidden]) #stats-columns:not([hidden]) table", { timeout: 60000 });
    assert.match(await page.textContent("#stats-columns"), /cohort-joined\.csv — 21 patients.*died/s);
  });
  await check("a folder chosen with the browser's folder picker is kept: after a reload one click goes on with it, no study measured twice", async () => {
    // The picker is the user's to drive: here it hands back a folder of this site's own
    // disk (a handle like the picker's, kept in IndexedDB the same way).
    const picked = join(artifacts, "cohort-picked");
    rmSync(picked, { recursive: true, force: true });
    ["s1", "s2", "s3"].forEach((folder, k) => cli("phantom", join(picked, folder), "--seed", String(30 + k), "--slices", "1"));
    const files = readdirSync(picked, { recursive: true }).filter((f) => f.endsWith(".dcm"))
      .map((f) => ({ path: f, data: readFileSync(join(picked, f)).toString("base64") }));
    await page.goto(`${base}#/cohort`);
    // The clinical table joined before is kept with the run across a reload.
    await page.reload();
    await page.waitForFunction(() => /^clinical-by-id\.csv: 2 of 21 studies joined/.test(document.querySelector("#cohort-joined")?.textContent || ""), null, { timeout: 30000 });
    await page.waitForSelector("#cohort-pick", { state: "visible", timeout: 60000 });
    await page.evaluate(async (files) => {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle("picked-archive", { create: true });
      for (const { path, data } of files) {
        const [folder, name] = path.split("/");
        const file = await (await root.getDirectoryHandle(folder, { create: true })).getFileHandle(name, { create: true });
        const w = await file.createWritable();
        await w.write(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
        await w.close();
      }
      window.showDirectoryPicker = async () => root;
    }, files);
    await page.fill("#cohort-prefix", "P-");
    await page.click("#cohort-pick");
    await page.waitForFunction(() => /^Done: 3 of 3 studies have a row/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 240000 });
    const before = await page.locator("#cohort-table tbody tr").allTextContents();
    assert.deepEqual(before.map((r) => r.slice(0, 6)), ["P-0001", "P-0002", "P-0003"]);
    assert.equal(await page.textContent("#cohort-joined"), "", "another folder: the last run's clinical table went with it");
    await page.waitForFunction(() => document.querySelector("#view-cohort").dataset.stored === "3", null, { timeout: 30000 });
    const table = async (name) => {
      const [d] = await Promise.all([page.waitForEvent("download"), page.click("#cohort-download")]);
      await d.saveAs(join(artifacts, name));
      return readFileSync(join(artifacts, name), "utf8");
    };
    const first = await table("cohort-picked.csv");
    await page.reload();
    await page.waitForSelector("#cohort-reopen-folder", { state: "visible", timeout: 60000 });
    assert.match(await page.textContent("#cohort-reopen-folder"), /Go on with the kept folder “picked-archive”/);
    await page.click("#cohort-reopen-folder");
    await page.waitForFunction(() => /^Done: 3 of 3 studies have a row/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 60000 });
    assert.deepEqual(await page.locator("#cohort-table tbody tr").allTextContents(), before);
    assert.equal(await table("cohort-picked-again.csv"), first, "the kept rows, each study's seconds too: none measured again");
    // Forgotten, the folder goes with the run.
    await page.click("#cohort-forget");
    assert.ok(await page.isHidden("#cohort-reopen-folder"));
  });
  await check("a decoding worker that dies costs only the study it held: a fresh one takes the next, the others are measured", async () => {
    const crash = join(artifacts, "cohort-crash");
    rmSync(crash, { recursive: true, force: true });
    ["c1", "c2", "c3", "c4", "c5"].forEach((folder, k) => cli("phantom", join(crash, folder), "--seed", String(40 + k), "--slices", "1"));
    // The run's first decoding worker reads the headers and takes c1; the second starts
    // (one per core) for c2 and dies before it answers, as an aborted decoder would. The
    // decoders' WebAssembly is held back 3 s, so that c2 is still waiting for its worker to
    // be ready when the error comes (else a one-slice study may be done first).
    let held = 0;
    const slow = async (route) => { held++; await new Promise((r) => setTimeout(r, 3000)); await route.continue(); };
    await page.route(/sarcoscope-worker_bg\.wasm$/, slow);
    let decoders = 0;
    let injected = null;
    const onWorker = (worker) => {
      if (!worker.url().includes("worker_loader")) return;
      if (++decoders === 2) {
        injected = worker.evaluate(() => { setTimeout(() => { throw new Error("injected crash"); }, 0); }).catch((e) => String(e));
      }
    };
    page.on("worker", onWorker);
    try {
      await page.fill("#cohort-prefix", "X-");
      await page.setInputFiles("#cohort-folder", crash);
      await page.waitForFunction(() => /^Done: 5 of 5 studies have a row/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 240000 });
    } finally {
      page.off("worker", onWorker);
      await page.unroute(/sarcoscope-worker_bg\.wasm$/, slow);
    }
    assert.ok(injected, "a second decoding worker started (one per core; this test needs two cores)");
    assert.ok(held >= 2, `the decoders' WebAssembly was held back (${held} fetches)`);
    await injected;
    const rows = await page.$$eval("#cohort-table tbody tr", (trs) => trs.map((tr) => [tr.textContent.slice(0, 6), tr.dataset.status, tr.textContent]));
    assert.deepEqual(rows.map(([code, status]) => [code, status]),
      [["X-0001", "measured"], ["X-0002", "failed"], ["X-0003", "measured"], ["X-0004", "measured"], ["X-0005", "measured"]]);
    assert.match(rows[1][2], /stopped the program \(the decoder stopped: .*injected crash\)/);
    await page.click("#cohort-forget");
  });
} finally {
  await finish("cohort e2e");
}
