// End-to-end test of the built app in headless Chromium (Debian's, driven by
// playwright-core): the real 112-slice CT series goes in through the file input, and
// the page must list it, show the right HU at a known pixel, report bad files in plain
// language without losing the good ones, and never send a request off its origin.
//
// The L3 slice is segmented on WebGPU (SwiftShader here) and on the CPU; both must
// agree with each other (≥ 99.9 % of the mask's pixels identical, as exported) and with
// the command line's `sarcoscope segment --json`.
//
// A synthetic series with arms beside the trunk must have them left out, and say so.
//
// Usage: node tests/e2e/viewer.mjs <base-url> <shared-dir> <artifacts-dir> <cli-segment.json>
//          <arms-phantom-dir> <arms-cli-segment.json>
import { paintMuscle, pngGrey8, start } from "./harness.mjs";
import { readFileSync, readdirSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import assert from "node:assert/strict";

const [base, shared, artifacts, cliSegment, armsDir, armsSegment, largeDir] = process.argv.slice(2);
// `sarcoscope segment --json` on the real series: the reference for the browser's numbers.
const cli = JSON.parse(readFileSync(cliSegment, "utf8"));
const series = join(shared, "data/ct/totalseg-example/series-dicom");
// The Python with pydicom that scripts/bootstrap installed (never whichever `python3` is first on PATH).
const python = process.env.SARCOSCOPE_PYTHON;
assert.ok(python, "SARCOSCOPE_PYTHON is not set: run this through scripts/test, which installs it");
mkdirSync(artifacts, { recursive: true });

// An independent reading of one uncompressed slice (explicit VR little endian), so the
// HU the page shows is checked against the file itself, not against our decoder.
function referenceSlice(file) {
  const b = readFileSync(file);
  const find = (group, element) => {
    for (let i = 132; i + 8 < b.length; i++) {
      if (b.readUInt16LE(i) === group && b.readUInt16LE(i + 2) === element) return i;
    }
    return -1;
  };
  const text = (g, e) => { const at = find(g, e); const len = b.readUInt16LE(at + 6); return b.toString("latin1", at + 8, at + 8 + len).trim(); };
  const u16 = (g, e) => b.readUInt16LE(find(g, e) + 8);
  const columns = u16(0x0028, 0x0011);
  const signed = u16(0x0028, 0x0103) === 1;
  const slope = parseFloat(text(0x0028, 0x1053) || "1");
  const intercept = parseFloat(text(0x0028, 0x1052) || "0");
  const pixel = find(0x7fe0, 0x0010);
  const data = pixel + 12;
  return (column, row) => {
    const at = data + 2 * (row * columns + column);
    const stored = signed ? b.readInt16LE(at) : b.readUInt16LE(at);
    return stored * slope + intercept;
  };
}
const referenceHu = (file, column, row) => referenceSlice(file)(column, row);

const { browser, page, check, requested, finish } = await start(base);
try {
  // The shell: a view per workflow behind a hash route, tabs in the patient view, the
  // problems drawer. Elements of a view or tab that is not shown cannot be clicked.
  const view = async (name) => {
    await page.click(`#nav-${name}`);
    await page.waitForSelector(`#view-${name}:not([hidden])`);
  };
  const download = async (button) => {
    const [d] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
  };
  // The mask as the report view exports it: a label per pixel (0 background, 1 muscle…).
  const maskPixels = async () => {
    await view("report");
    const { pixels } = pngGrey8((await download("#download-mask-png")).bytes);
    await view("patient");
    return pixels;
  };
  const tab = async (name) => {
    if (!(await page.isVisible("#view-patient"))) await view("patient");
    await page.click(`#tab-${name}`);
  };
  const drawer = async (open) => {
    if ((await page.isVisible("#drawer")) !== open) await page.click(open ? "#open-problems" : "#close-drawer");
  };
  // Each view, at a laptop's and a desktop's size: screenshots, no sideways scrolling,
  // and in the patient view the image and the SMI in sight without scrolling.
  const views = ["patient", "report", "cohort", "statistics", "reader"];
  const layout = async (state, { fits = false } = {}) => {
    const shown = (await page.isVisible("#view-report")) ? "report" : "patient";
    // Whatever fails, the checks after this one start from the usual size and view.
    try {
      // 683×384 is the laptop's window at 200 % zoom: one column, but still no sideways scroll.
      for (const [w, h] of [[1366, 768], [1920, 1080], [683, 384]]) {
        await page.setViewportSize({ width: w, height: h });
        for (const v of views) {
          await view(v);
          await page.waitForTimeout(150);
          await page.screenshot({ path: join(artifacts, `shell-${state}-${v}-${w}x${h}.png`) });
          const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
          assert.ok(sw <= cw, `${state}, ${v} at ${w}×${h}: the page scrolls sideways (${sw} > ${cw})`);
          if (v === "patient" && fits && w === 1366) {
            const [sh, ih] = await page.evaluate(() => [document.documentElement.scrollHeight, innerHeight]);
            assert.ok(sh <= ih, `the patient view scrolls at 1366×768 (${sh} > ${ih})`);
            for (const sel of ["#axial", "#summary-smi"]) {
              const b = await page.locator(sel).boundingBox();
              assert.ok(b && b.width > 20 && b.height > 10 && b.x >= 0 && b.y >= 0 && b.x + b.width <= w + 1 && b.y + b.height <= h + 1,
                `${sel} is not in sight at 1366×768: ${JSON.stringify(b)}`);
            }
          }
        }
      }
    } finally {
      await page.setViewportSize({ width: 1400, height: 1000 });
      await view(shown);
    }
  };

  await page.goto(`${base}#/cohort`);
  await check("a route works on its own and after a reload: the cohort view says what to do first", async () => {
    await page.waitForSelector("#view-cohort:not([hidden])", { timeout: 30000 });
    assert.equal(await page.isVisible("#view-patient"), false);
    assert.match(await page.textContent("#cohort-empty"), /Choose the folder that holds the patients' CT studies/);
    await page.reload();
    await page.waitForSelector("#view-cohort:not([hidden])", { timeout: 30000 });
    await view("patient");
    assert.match(await page.textContent("#patient-empty"), /No study open/);
  });
  await check("privacy note is visible", async () => {
    const note = await page.textContent("#privacy-note");
    assert.match(note, /stay in this browser/);
  });
  await check("? opens the keyboard shortcut sheet and Escape closes it", async () => {
    await page.keyboard.press("?");
    assert.equal(await page.isVisible("#shortcuts"), true);
    assert.match(await page.textContent("#shortcuts"), /Shift \+ ↑ \/ ↓/);
    await page.keyboard.press("Escape");
    assert.equal(await page.isVisible("#shortcuts"), false);
  });
  await check("the empty state at both sizes, without sideways scrolling", async () => layout("empty"));

  // The embedded demo case: made in the page's worker, read through the same path.
  await page.click("#load-demo");
  await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await check("the demo case loads as a synthetic CT series with patient facts", async () => {
    const item = page.locator("#series-list li.series.selected");
    assert.match(await item.textContent(), /Sarcoscope synthetic demo \(not a patient\)/);
    const slices = Number(await item.getAttribute("data-slices"));
    assert.ok(slices >= 32, `demo has ${slices} slices`);
    assert.equal(await page.inputValue("#sex"), "M");
    assert.equal(await page.inputValue("#age"), "58");
    assert.match(await page.inputValue("#height"), /^1[5-9]\d$/);
    assert.equal((await page.locator("#problems li").allTextContents()).length, 0);
  });
  await check("the demo's L3 is found where the phantom put it (slice 27, exact by construction)", async () => {
    const summary = await page.textContent("#level-summary");
    const m = /L3 found automatically at slice (\d+)/.exec(summary);
    assert.ok(m, `no automatic L3 on the demo: "${summary}"`);
    assert.ok(Math.abs(Number(m[1]) - 27) <= 1, `demo L3 at slice ${m[1]}`);
  });
  const segmented = async () => {
    await page.waitForFunction(() => {
      const busy = document.querySelector("#segmentation-busy")?.textContent;
      const error = document.querySelector("#segmentation-error")?.textContent;
      return error || (!busy && document.querySelector("#segmentation-panel")?.dataset.backend);
    }, null, { timeout: 300000 });
    const error = await page.textContent("#segmentation-error");
    assert.equal(error, "", `segmentation failed: ${error}`);
  };
  const areas = async () => Object.fromEntries(await Promise.all(["muscle", "imat", "vat", "sat"].map(
    async (k) => [k, Number(await page.getAttribute(`#tissue-${k}`, "data-area"))])));
  const value = async (sel) => page.getAttribute(sel, "data-value");
  await check("the demo's L3 slice is segmented straight away", async () => {
    await segmented();
    const a = await areas();
    assert.ok(a.muscle > 50 && a.sat > 10, `demo areas ${JSON.stringify(a)}`);
  });
  await check("the demo shows the whole path: SMI, calls, scores, eligibility and the report", async () => {
    const smi = Number((await page.textContent("#metric-sma td:nth-child(3)")).trim());
    assert.ok(smi > 20 && smi < 90, `demo SMI ${smi}`);
    assert.ok(["yes", "no"].includes(await page.getAttribute("#call-sarcopenia", "data-call")));
    assert.ok(["yes", "no"].includes(await page.getAttribute("#call-myosteatosis", "data-call")));
    assert.ok(Number(await value("#score-meld")) >= 6);
    assert.ok(Number(await value("#score-meld3")) >= 6);
    assert.match(await value("#score-child-pugh"), /class [ABC]/);
    assert.notEqual(await value("#score-meld-sarcopenia"), "");
    assert.match(await page.textContent("#report"), /De-identified\. Case code: DEMO/);
  });
  await page.screenshot({ path: join(artifacts, "e2e-demo.png"), fullPage: true });
  await check("the demo at both sizes: the image and the SMI in sight, nothing scrolls sideways", async () => layout("demo", { fits: true }));

  const files = readdirSync(series).filter((f) => f.endsWith(".dcm")).sort().map((f) => join(series, f));
  assert.equal(files.length, 112);
  await page.setInputFiles("#file-input", files);
  await page.waitForSelector("#series-list li.series", { timeout: 120000 });
  await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });

  await check("the series is listed with 112 slices", async () => {
    const slices = await page.getAttribute("#series-list li.series.selected", "data-slices");
    assert.equal(slices, "112");
  });
  await check("the decoding ran in the worker", async () => {
    assert.ok(requested.some((u) => u.endsWith("sarcoscope-worker_bg.wasm")), "worker module was never loaded");
  });

  // The reference (labels.json, TotalSegmentator): L3 spans slices 65–79, centroid 73.5.
  let opened = 56;
  await check("L3 is found automatically and the viewer opens on it", async () => {
    const summary = await page.textContent("#level-summary");
    const m = /L3 found automatically at slice (\d+)/.exec(summary);
    assert.ok(m, `no automatic L3: "${summary}"`);
    opened = Number(m[1]);
    assert.ok(opened >= 73 && opened <= 74, `L3 slice ${opened} is not within one slice of 73.5`);
    assert.match(await page.textContent("#slice-label"), new RegExp(`Slice ${opened} / 112`));
    assert.match(await page.textContent("#level-choice"), new RegExp(`Measurement slice: ${opened} \\(automatic\\)`));
    assert.match(await page.textContent("#level-evidence"), /sacrum seen, last rib seen/);
  });

  let gpuAreas = null;
  let gpuMask = null;
  await check("the L3 slice is segmented on WebGPU, and the panel says so and how long it took", async () => {
    await segmented();
    assert.equal(await page.getAttribute("#segmentation-panel", "data-backend"), "webgpu");
    const path = await page.textContent("#segmentation-path");
    assert.match(path, new RegExp(`Slice ${opened} segmented on WebGPU .* in \\d+ ms`));
    assert.match(path, /Model sarcoscope-l3-unet/);
    assert.ok(requested.some((u) => u.endsWith("sarcoscope-segmenter_bg.wasm")), "segmenter module was never loaded");
    assert.ok(requested.some((u) => u.endsWith("models/sarcoscope-l3-unet.weights")), "weights were not fetched from the origin");
    gpuAreas = await areas();
    gpuMask = await maskPixels();
    const text = await page.textContent("#segmentation-panel");
    assert.match(text, /Mitsiopoulos/);
  });
  await check("the browser's areas equal the command line's on the same slice", async () => {
    assert.equal(cli.slice_index, opened);
    for (const [i, k] of ["muscle", "imat", "vat", "sat"].entries()) {
      const want = cli.tissues[i].area_cm2;
      assert.ok(Math.abs(gpuAreas[k] - want) <= Math.max(0.005 * want, 0.1), `${k}: browser ${gpuAreas[k]} vs CLI ${want}`);
    }
  });
  await check("the mask is drawn over the image and can be hidden", async () => {
    const digest = () => page.evaluate(() => {
      const c = document.querySelector("#axial");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let h = 0; for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] * 3 + d[i + 1] * 5 + d[i + 2] * 7) >>> 0;
      return h;
    });
    const on = await digest();
    await page.uncheck("#overlay");
    const off = await digest();
    await page.check("#overlay");
    assert.notEqual(on, off);
    assert.equal(await digest(), on);
  });
  await check("the CPU path gives the same areas as WebGPU", async () => {
    await page.click("#segment-cpu");
    await segmented();
    assert.equal(await page.getAttribute("#segmentation-panel", "data-backend"), "cpu");
    assert.match(await page.textContent("#segmentation-path"), /on the CPU — CPU chosen in \d+ ms/);
    const cpuAreas = await areas();
    for (const k of Object.keys(cpuAreas)) {
      assert.ok(Math.abs(cpuAreas[k] - gpuAreas[k]) <= Math.max(0.001 * gpuAreas[k], 0.1), `${k}: CPU ${cpuAreas[k]} vs WebGPU ${gpuAreas[k]}`);
    }
  });
  // The same model on two backends: float rounding may flip a pixel on a boundary, no more.
  await check("WebGPU and the CPU give the same mask, pixel for pixel (≥ 99.9 % identical)", async () => {
    const cpuMask = await maskPixels();
    assert.equal(cpuMask.length, gpuMask.length);
    let same = 0;
    for (let i = 0; i < cpuMask.length; i++) same += cpuMask[i] === gpuMask[i];
    const share = same / cpuMask.length;
    const muscle = cpuMask.filter((label) => label === 1).length;
    console.log(`  WebGPU and CPU masks: ${(100 * share).toFixed(3)} % of ${cpuMask.length} pixels identical, ${muscle} muscle pixels`);
    assert.ok(share >= 0.999, `only ${share.toFixed(5)} of pixels agree`);
    // Two blank masks would agree perfectly and prove nothing.
    assert.ok(muscle > 1000, `only ${muscle} muscle pixels`);
  });
  await page.screenshot({ path: join(artifacts, "e2e-segmentation.png"), fullPage: true });

  await check("the real series at both sizes: the image and the SMI in sight, nothing scrolls sideways", async () => layout("real", { fits: true }));

  // From mask to decision on the real series: metrics, calls, scores, eligibility, report.
  await check("SMI waits for a height, then equals the command line's muscle area / height²", async () => {
    await tab("patient");
    await page.fill("#height", "");
    assert.match(await page.textContent("#body-panel"), /Enter the height/);
    assert.equal(await page.getAttribute("#call-sarcopenia", "data-call"), "unknown");
    await page.fill("#sex", "M");
    await page.fill("#height", "172");
    await page.fill("#weight", "70");
    const smi = cli.tissues[0].area_cm2 / (1.72 * 1.72);
    const sma = Number(await value("#metric-sma"));
    assert.ok(Math.abs(sma - cli.tissues[0].area_cm2) <= Math.max(0.001 * sma, 0.1), `SMA ${sma} vs CLI ${cli.tissues[0].area_cm2}`);
    const shown = Number((await page.textContent("#metric-sma td:nth-child(3)")).trim());
    assert.ok(Math.abs(shown - smi) <= 0.06, `SMI shown ${shown} vs ${smi.toFixed(2)}`);
    const call = await page.getAttribute("#call-sarcopenia", "data-call");
    assert.equal(call, smi < 50 ? "yes" : "no");
    assert.match(await page.textContent("#call-sarcopenia"), /threshold 50\.00 cm²\/m²/);
    assert.match(await page.textContent("#call-sarcopenia"), /Carey/);
    assert.equal(await page.getAttribute("#summary-sarcopenia", "data-call"), call);
    // Another cut-off set changes the threshold and says where it comes from.
    await tab("muscle");
    await page.selectOption("#smi-cutoffs", "zeng2021");
    assert.match(await page.textContent("#call-sarcopenia"), /threshold 44\.77 .*Zeng/s);
    await page.selectOption("#smi-cutoffs", "jsh2016");
    assert.match(await page.textContent("#call-sarcopenia"), /Unverified source/);
    await page.selectOption("#smi-cutoffs", "carey2017");
    assert.ok(["yes", "no"].includes(await page.getAttribute("#call-myosteatosis", "data-call")));
    const lama = Number(await value("#metric-lama"));
    assert.ok(lama >= 0 && lama <= 100, `LAMA ${lama}`);
  });
  await check("an impossible height is refused in words and nothing is indexed", async () => {
    await tab("patient");
    await page.fill("#height", "1.72");
    assert.match(await page.textContent("#facts-errors"), /not an adult height/);
    assert.equal(await page.getAttribute("#call-sarcopenia", "data-call"), "unknown");
    // A possible but unlikely height makes SMI implausible (127 cm² / 1.2² = 88 > 52.9 + 4 SD).
    await page.fill("#height", "120");
    assert.match(await page.textContent("#report-qc li[data-key=smi_plausibility]"), /more than 4 SD from healthy men's mean/);
    await page.fill("#height", "172");
    assert.equal(await page.locator("#report-qc li[data-key=smi_plausibility]").count(), 0);
  });
  await check("scores follow the published vectors, in SI or conventional units per field", async () => {
    // MELD(Cr 1.9, bili 4.2, INR 1.2) = 20; with Na 125, MELD-Na 28 (CLINICAL.md §1.2–1.3).
    await tab("patient");
    await page.fill("#lab-bili", String(4.2 * 17.1));
    await page.fill("#lab-creat", String(1.9 * 88.4));
    await page.fill("#lab-inr", "1.2");
    await page.fill("#lab-na", "125");
    await page.fill("#lab-alb", "30");
    await page.fill("#lab-platelets", "80");
    await page.fill("#lab-ast", "90");
    await page.fill("#lab-alt", "36");
    await page.fill("#age", "60");
    assert.equal(await value("#score-meld"), "", "MELD before dialysis is answered");
    assert.match(await page.textContent("#scores-missing"), /MELD needs dialysis/);
    await page.selectOption("#dialysis", "0");
    assert.equal(await value("#score-meld"), "20");
    assert.equal(await value("#score-meld-na"), "28");
    // Switching the unit converts the typed number: the quantity never changes silently.
    await page.selectOption("#unit-bili", "conventional");
    assert.equal(await page.inputValue("#lab-bili"), "4.2");
    assert.equal(await value("#score-meld"), "20");
    await page.fill("#lab-bili", "900");
    assert.match(await page.textContent("#lab-bili-error"), /900 mg\/dL is outside what is physiologically possible/);
    assert.equal(await value("#score-meld"), "");
    await page.fill("#lab-bili", "4.2");
    await page.selectOption("#ascites", "mild");
    await page.selectOption("#encephalopathy", "0");
    // bili 4.2 → 3, albumin 30 g/L → 2, INR 1.2 → 1, mild ascites 2, no HE 1.
    assert.equal(await value("#score-child-pugh"), "9 (class B)");
    assert.equal(await value("#score-apri"), "2.81");
    assert.ok(Number(await value("#score-meld3")) > 0);
    // MELD-Sarcopenia calls sarcopenia with Martin 2013, as it was derived: a man with
    // BMI 70 / 1.72² = 23.7 (< 25) is sarcopenic below SMI 43.
    const ms = Number(await value("#score-meld-sarcopenia"));
    const smi = cli.tissues[0].area_cm2 / (1.72 * 1.72);
    assert.ok(Math.abs(ms - (20 + (smi < 43 ? 10.35 : 0))) < 1e-9, `MELD-Sarcopenia ${ms} with SMI ${smi}`);
    assert.match(await page.textContent("#score-meld-sarcopenia"), new RegExp(`${smi < 43 ? "" : "not "}sarcopenic by Martin 2013`));
    assert.match(await page.textContent("#scores-panel"), /Kim WR et al\., Gastroenterology 2021/);
  });
  await check("eligibility stays unknown until the qualifiers are answered, then is met", async () => {
    await tab("eligibility");
    assert.equal(await page.getAttribute("#eligibility-route", "data-status"), "unknown");
    await page.selectOption("#answer-platelets", "yes");
    await page.selectOption("#answer-albumin", "yes");
    assert.equal(await page.getAttribute("#eligibility-route", "data-status"), "met");
    assert.equal(await page.getAttribute("#criterion-apri", "data-status"), "met");
    assert.equal(await page.getAttribute("#criterion-inr", "data-status"), "not met");
  });
  await check("all eight exclusion criteria are asked; one yes excludes, unknown is never met", async () => {
    assert.equal(await page.locator("select[id^=exclusion-]").count(), 8);
    assert.equal(await page.getAttribute("#eligibility-exclusions", "data-status"), "unknown");
    assert.match(await page.textContent("#eligibility-panel"), /look at the liver and the rest of the scan/);
    for (const id of await page.$$eval("select[id^=exclusion-]", (l) => l.map((e) => e.id))) await page.selectOption(`#${id}`, "no");
    assert.equal(await page.getAttribute("#eligibility-exclusions", "data-status"), "met");
    await page.selectOption("#exclusion-malignancy", "yes");
    assert.equal(await page.getAttribute("#eligibility-exclusions", "data-status"), "not met");
    assert.equal(await page.getAttribute("#criterion-malignancy", "data-status"), "not met");
    await page.selectOption("#exclusion-malignancy", "no");
    assert.doesNotMatch(await page.textContent("#eligibility-panel"), /only the first item/);
  });
  await check("moving Patient → Cohort → Patient keeps the study, its level, mask and form", async () => {
    const before = await Promise.all(["#slice-label", "#level-choice", "#tissue-muscle"].map((s) => page.textContent(s)));
    const height = await page.inputValue("#height");
    await view("cohort");
    assert.equal(await page.isVisible("#axial"), false);
    await view("patient");
    const after = await Promise.all(["#slice-label", "#level-choice", "#tissue-muscle"].map((s) => page.textContent(s)));
    assert.deepEqual(after, before);
    assert.equal(await page.inputValue("#height"), height);
    assert.equal(await value("#score-meld-na"), "28");
  });
  await check("the report shows the numbers, their sources and the QC flags, de-identified", async () => {
    const report = await page.textContent("#report");
    assert.match(report, /De-identified/);
    assert.match(report, /Produced \d{2}\/\d{2}\/\d{4}/);
    assert.match(report, /Sarcopenia: (yes|no) — Cirrhosis — Carey 2017/);
    assert.match(report, /MELD-Na\s*28/);
    assert.match(report, /Level: slice \d+ chosen automatically/);
    assert.match(report, /Segmented by sarcoscope-l3-unet/);
    assert.match(report, /not been marked as reviewed/);
    const keys = await page.$$eval("#report-qc li", (l) => l.map((e) => e.dataset.key));
    for (const k of ["level", "thickness", "contrast", "kvp", "segmentation", "review", "height"]) assert.ok(keys.includes(k), `QC flag ${k} missing: ${keys}`);
    assert.doesNotMatch(report, /1\.2\.826|study 1\./, "a UID in the de-identified report");
    await page.emulateMedia({ media: "print" });
    assert.equal(await page.isVisible("#scores-panel"), false, "the form prints");
    assert.equal(await page.isVisible("#report"), true);
    await page.pdf({ path: join(artifacts, "e2e-report.pdf") });
    await page.emulateMedia({ media: "screen" });
    assert.equal((await page.textContent("#summary-meld-na .value")).trim(), "28");
  });
  await view("report");
  await check("the CSV export is de-identified by default and carries the cut-off set", async () => {
    await page.fill("#case-code", "SITE1-007");
    const csv = await download("#download-csv");
    assert.equal(csv.name, "sarcoscope-SITE1-007.csv");
    const [header, row] = csv.bytes.toString("utf8").trim().split("\r\n").map((l) => l.split(","));
    const get = (k) => row[header.indexOf(k)];
    assert.ok(!header.includes("study_uid"), "identifiers in a default export");
    assert.equal(get("case"), "SITE1-007");
    assert.equal(get("meld_na"), "28");
    assert.equal(get("smi_cutoffs"), "carey2017");
    assert.equal(get("height_source"), "entered");
    assert.equal(get("level_slice"), String(opened));
    const cliMuscle = cli.tissues[0].area_cm2;
    assert.ok(Math.abs(Number(get("smi_cm2_m2")) - cliMuscle / (1.72 * 1.72)) < 0.01, `CSV SMI ${get("smi_cm2_m2")}`);
    assert.equal(get("meld_sarcopenia_martin2013"), cliMuscle / (1.72 * 1.72) < 43 ? "yes" : "no");
    assert.equal(get("meld3_uncapped"), get("meld3"));
    assert.ok(Math.abs(Date.parse(get("exported_at")) - Date.now()) < 600000, `exported_at ${get("exported_at")}`);
    await page.check("#include-identifiers");
    const identified = await download("#download-csv");
    const [h2, r2] = identified.bytes.toString("utf8").trim().split("\r\n").map((l) => l.split(","));
    assert.ok(h2.includes("study_uid") && r2[h2.indexOf("study_uid")].length > 5);
    await page.uncheck("#include-identifiers");
  });
  await check("the mask downloads as a PNG of the slice's size", async () => {
    const png = await download("#download-mask-png");
    const [width, height] = await page.evaluate(() => [document.querySelector("#axial").width, document.querySelector("#axial").height]);
    assert.equal(png.bytes.subarray(1, 4).toString("latin1"), "PNG");
    assert.equal(png.bytes.readUInt32BE(16), width);
    assert.equal(png.bytes.readUInt32BE(20), height);
  });
  await check("the mask downloads as DICOM SEG that pydicom reads back with the same tissue areas", async () => {
    const seg = await download("#download-seg");
    assert.equal(seg.name, "sarcoscope-SITE1-007-seg.dcm");
    const path = join(artifacts, "e2e-mask-seg.dcm");
    writeFileSync(path, seg.bytes);
    const read = JSON.parse(execFileSync(python, ["tests/read_seg.py", path]).toString());
    assert.equal(read.frames, 4);
    assert.equal(read.referenced_series.length, 0, "a de-identified SEG references the source");
    const [r, c] = read.pixel_spacing;
    for (const [i, k] of ["muscle", "imat", "vat", "sat"].entries()) {
      const area = Number(await page.getAttribute(`#tissue-${k}`, "data-area"));
      assert.ok(Math.abs(read.pixels[i] * r * c / 100 - area) < 1e-3, `${k}: SEG ${read.pixels[i]} px vs ${area} cm²`);
    }
  });
  await page.screenshot({ path: join(artifacts, "e2e-report.png"), fullPage: true });

  await check("a brush stroke changes the muscle area live; undo restores it exactly, redo repeats it", async () => {
    await tab("muscle");
    const before = await value("#metric-sma");
    await paintMuscle(page);
    const after = await value("#metric-sma");
    assert.ok(Number(after) > Number(before) + 1, `SMA ${before} → ${after}`);
    assert.ok(Number(await page.getAttribute("#edited-pixels", "data-count")) > 0);
    // The tissue table follows the corrected mask too.
    assert.ok(Math.abs(Number(await page.getAttribute("#tissue-muscle", "data-area")) - Number(after)) < 0.06);
    await page.click("#undo");
    assert.equal(await value("#metric-sma"), before);
    assert.equal(await page.getAttribute("#edited-pixels", "data-count"), "0");
    await page.click("#redo");
    assert.equal(await value("#metric-sma"), after);
    await page.check("#reviewed");
    await page.uncheck("#correct");
    assert.match(await page.textContent("#report"), /Mask reviewed; \d+ pixels corrected by hand/);
  });
  await check("a reload loses nothing: the form, the corrected mask and the reviewed mark come back", async () => {
    await page.waitForFunction(() => /Saved in this browser/.test(document.querySelector("#saved-state")?.textContent || ""), null, { timeout: 30000 });
    const sma = await value("#metric-sma");
    await page.reload();
    await page.setInputFiles("#file-input", files);
    await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
    await segmented();
    await page.waitForFunction(() => /Restored the form and the corrected mask/.test(document.querySelector("#saved-state")?.textContent || ""), null, { timeout: 30000 });
    await page.waitForFunction((want) => document.querySelector("#metric-sma")?.dataset.value === want, sma, { timeout: 30000 });
    assert.equal(await page.isChecked("#reviewed"), true);
    assert.equal(await value("#score-meld-na"), "28");
    assert.equal(await page.inputValue("#height"), "172");
    assert.equal(await page.inputValue("#case-code"), "SITE1-007");
    assert.ok(Number(await page.getAttribute("#edited-pixels", "data-count")) > 0);
  });
  await check("a level set by hand is kept across a reload too", async () => {
    const before = await page.textContent("#saved-state");
    await page.click("#l3-down");
    await page.waitForFunction((old) => {
      const now = document.querySelector("#saved-state")?.textContent || "";
      return now !== old && /Saved in this browser/.test(now);
    }, before, { timeout: 30000 });
    await page.reload();
    await page.setInputFiles("#file-input", files);
    await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
    // The series' record is read from the browser's storage beside the decoding, and
    // may come after the volume: the level set by hand is taken when it does.
    await page.waitForFunction((want) => new RegExp(want).test(document.querySelector("#level-choice")?.textContent || ""),
      `Measurement slice: ${opened - 1} \\(set by hand\\)`, { timeout: 30000 });
    await segmented();
    // The mask shown is of that level.
    assert.match(await page.textContent("#segmentation-path"), new RegExp(`^Slice ${opened - 1} segmented`));
    await page.click("#auto-l3");
    assert.match(await page.textContent("#level-choice"), new RegExp(`Measurement slice: ${opened} \\(automatic\\)`));
  });

  await check("a browser storage that answers late holds nothing up, and the record is applied when it comes", async () => {
    await page.reload();
    // A read-write transaction kept busy on the store for 12 s: the series' read of its
    // record waits behind it, past the page's 5 s wait.
    await page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open("sarcoscope");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction("cases", "readwrite");
        const store = tx.objectStore("cases");
        const until = Date.now() + 12000;
        const spin = () => { if (Date.now() < until) store.count().onsuccess = spin; };
        spin();
        tx.oncomplete = () => db.close();
        resolve();
      };
    }));
    await page.setInputFiles("#file-input", files);
    await page.waitForFunction(() => /has not answered within 5 s/.test(document.querySelector("#saved-state")?.textContent || ""), null, { timeout: 30000 });
    assert.equal(await page.inputValue("#case-code"), "", "nothing restored yet");
    await page.waitForFunction(() => /Restored the form and the corrected mask/.test(document.querySelector("#saved-state")?.textContent || ""), null, { timeout: 30000 });
    assert.equal(await page.inputValue("#case-code"), "SITE1-007");
    await segmented();
    assert.equal(await page.isChecked("#reviewed"), true);
    // Saving is on again: a change is kept.
    await tab("patient");
    await page.fill("#height", "173");
    await page.waitForFunction(() => /Saved in this browser/.test(document.querySelector("#saved-state")?.textContent || ""), null, { timeout: 30000 });
    await page.fill("#height", "172");
  });

  await check("a click on the axial view moves the sagittal and coronal planes, which hold every file's values there", async () => {
    await page.click("button.preset >> nth=0"); // Soft tissue: W 400 / L 40
    assert.equal(await page.textContent("#window-readout"), "W 400 / L 40");
    const [column, row] = [70, 45];
    await page.locator("#axial").scrollIntoViewIfNeeded();
    const box = await page.locator("#axial").boundingBox();
    await page.mouse.click(box.x + (column + 0.5) * box.width / 122, box.y + (row + 0.5) * box.height / 101);
    const grey = (hu) => Math.trunc(Math.min(255, Math.max(0, (hu - (40 - 400 / 2)) * (255 / 400))));
    const slices = files.map(referenceSlice);
    const skipped = new Set([opened, ...[-1, 0, 1].map((d) => opened + d)]);
    for (const [id, width, at] of [["#sagittal", 101, (x) => [column, x]], ["#coronal", 122, (x) => [x, row]]]) {
      const pixels = await page.$eval(id, (c) => Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data));
      assert.equal(pixels.length, width * slices.length * 4, `${id} is ${width} × ${slices.length}`);
      let compared = 0;
      for (let z = 0; z < slices.length; z++) {
        if (skipped.has(z)) continue; // the current slice's marker
        const y = slices.length - 1 - z; // superior on top
        for (let x = 30; x < width; x++) { // the vertebra names are written at the left
          const expected = grey(slices[z](...at(x)));
          assert.equal(pixels[4 * (y * width + x)], expected, `${id} at slice ${z}, ${x}`);
          compared++;
        }
      }
      assert.ok(compared > 7000, `${compared} pixels compared`);
    }
  });

  await check("HU under the cursor equals the file's value at a known pixel", async () => {
    await page.locator("#axial").scrollIntoViewIfNeeded();
    const box = await page.locator("#axial").boundingBox();
    for (const [column, row] of [[61, 50], [30, 40], [90, 70]]) {
      await page.mouse.move(box.x + (column + 0.5) * box.width / 122, box.y + (row + 0.5) * box.height / 101);
      const text = await page.textContent("#hu-readout");
      const m = /(-?\d+) HU at column (\d+), row (\d+), slice (\d+)/.exec(text);
      assert.ok(m, `no HU readout: "${text}"`);
      assert.deepEqual([Number(m[2]), Number(m[3]), Number(m[4])], [column, row, opened]);
      const expected = referenceHu(files[opened], column, row);
      assert.equal(Number(m[1]), expected, `HU at (${column}, ${row})`);
    }
  });

  await check("arrow keys move the slice and the HU readout follows", async () => {
    await page.focus("#axial");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("ArrowUp");
    const label = await page.textContent("#slice-label");
    assert.match(label, new RegExp(`Slice ${opened + 2} / 112`));
    // The pointer stayed at (90, 70): the HU shown follows the new slice.
    const text = await page.textContent("#hu-readout");
    assert.equal(text, `${referenceHu(files[opened + 2], 90, 70)} HU at column 90, row 70, slice ${opened + 2}`);
  });

  await check("the L3 slice can be set by hand and the automatic choice restored", async () => {
    await page.click("#set-l3");
    assert.match(await page.textContent("#level-choice"), new RegExp(`Measurement slice: ${opened + 2} \\(set by hand\\)`));
    await page.click("#auto-l3");
    assert.match(await page.textContent("#level-choice"), new RegExp(`Measurement slice: ${opened} \\(automatic\\)`));
    assert.match(await page.textContent("#slice-label"), new RegExp(`Slice ${opened} / 112`));
  });

  await check("Shift+arrows and the L3 buttons move the chosen slice and the axial view follows", async () => {
    await page.focus("#axial");
    await page.keyboard.press("Shift+ArrowUp");
    assert.match(await page.textContent("#level-choice"), new RegExp(`Measurement slice: ${opened + 1} \\(set by hand\\)`));
    assert.match(await page.textContent("#slice-label"), new RegExp(`Slice ${opened + 1} / 112`));
    await page.click("#l3-down");
    await page.click("#l3-down");
    assert.match(await page.textContent("#level-choice"), new RegExp(`Measurement slice: ${opened - 1} \\(set by hand\\)`));
    assert.match(await page.textContent("#slice-label"), new RegExp(`Slice ${opened - 1} / 112`));
    await page.click("#auto-l3");
  });

  await check("scan facts are shown", async () => {
    const facts = await page.textContent("#scan-facts");
    assert.match(facts, /Slice thickness/);
  });
  await page.screenshot({ path: join(artifacts, "e2e-viewer.png"), fullPage: true });

  // Drag and drop (a DataTransfer made in the page, as a drop from the desktop makes).
  const dropped = files.slice(10, 13).map((f) => [f.split("/").pop(), readFileSync(f).toString("base64")]);
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const [name, b64] of items) {
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    }
    return dt;
  }, dropped);
  await page.dispatchEvent(".dropzone", "drop", { dataTransfer });
  await page.waitForFunction(() => /3 slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 60000 });
  await check("files dropped on the page are read like picked ones", async () => {
    assert.equal(await page.getAttribute("#series-list li.series.selected", "data-slices"), "3");
    assert.match(await page.textContent("#slice-label"), /Slice 1 \/ 3/);
  });

  // Bad files beside good ones: each gets a plain message, the series still loads.
  const corpus = join(shared, "data/dicom");
  const bad = ["pydicom/MR_truncated.dcm", "pydicom/dicomdirtests/TINY_ALPHA/README", "pydicom/dicomdirtests/DICOMDIR",
               "pydicom/rtplan_truncated.dcm", "cornerstone3d/CTImage.dcm_JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm"]
    .map((f) => join(corpus, f));
  // A PACS export left packed: three slices in a ZIP, written by Python's zipfile.
  const packed = join(artifacts, "export.zip");
  execFileSync(python, ["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    for f in sys.argv[2:]: z.write(f)",
                        packed, ...files.slice(40, 43)]);
  bad.push(packed);
  await page.setInputFiles("#file-input", [...bad, ...files.slice(0, 40)]);
  await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await check("bad files are listed in plain language and the good ones still load", async () => {
    const problems = await page.locator("#problems li").allTextContents();
    const text = problems.join("\n");
    assert.match(text, /MR_truncated\.dcm: the file ends before its image is complete/);
    assert.match(text, /README: not a DICOM file/);
    assert.match(text, /DICOMDIR: this is a DICOMDIR index/);
    assert.match(text, /export\.zip: this is a ZIP archive, not a DICOM file: unpack it/);
    const label = await page.textContent("#slice-label");
    assert.match(label, /\/ 40 /);
  });
  await page.screenshot({ path: join(artifacts, "e2e-problems.png"), fullPage: true });

  // A series the browser cannot set memory aside for (as a tab near its limit, or a
  // 32-bit browser, would refuse a large one): the decoding worker's allocations of a
  // volume's size are made to fail as the browser's do, with a RangeError. The page must
  // say so in words before anything breaks, and the same files load once memory is there.
  await check("a series the browser has no memory for is refused in words, and loads once it has", async () => {
    const decoder = page.workers().find((w) => w.url().includes("worker_loader"));
    assert.ok(decoder, "the decoding worker is running");
    await decoder.evaluate(() => {
      const Real = self.Int16Array;
      self.__realInt16Array = Real;
      self.Int16Array = class extends Real {
        constructor(...args) {
          if (typeof args[0] === "number" && args[0] >= 1e6) throw new RangeError("Array buffer allocation failed");
          super(...args);
        }
      };
    });
    await page.setInputFiles("#file-input", files);
    await page.waitForFunction(() => /could not be shown|loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
    assert.match(await page.textContent("#status"),
      /This series could not be shown: this browser could not set aside the [\d.]+ MB that 112 slices of \d+×\d+ need; close other tabs/);
    await decoder.evaluate(() => { self.Int16Array = self.__realInt16Array; });
    await page.click("#series-list li.series button");
    await page.waitForFunction(() => /112 slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  });

  // The whole shared corpus through the folder picker, then every file decoded in the
  // browser's WebAssembly and compared with the reference decoder (pydicom + pylibjpeg).
  await check("the file problems at both sizes, the drawer open", async () => {
    await drawer(true);
    await layout("error");
    assert.equal(await page.isVisible("#problems"), true);
    await drawer(false);
  });
  await page.setInputFiles("#folder-input", corpus);
  await page.waitForFunction(() => !document.querySelector(".progress") && /loaded|no CT image series/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await drawer(true);
  await check("a long check can be cancelled, and run again", async () => {
    await page.click("#check-all");
    await page.click("#cancel-reading", { timeout: 30000 });
    await page.waitForFunction(() => /^Stopped/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 30000 });
    assert.equal(await page.locator(".progress").count(), 0);
  });
  await page.click("#check-all");
  await page.waitForFunction(() => /^Checked/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 300000 });
  const decodingReport = await download("#download-report");
  const report = JSON.parse(decodingReport.bytes.toString("utf8"));
  await check("every file decodes in the browser as the reference decoder does", async () => {
    const expected = JSON.parse(readFileSync(join(corpus, "expected.json"), "utf8")).files;
    const ours = new Map(report.files.map((r) => [r.file.split("/").slice(1).join("/"), r]));
    let exact = 0, lossy = 0;
    const problems = [];
    for (const e of expected) {
      if (!e.stored) continue;
      const o = ours.get(e.file);
      if (!o || !o.stored) { problems.push(`${e.file}: not decoded (${o?.error})`); continue; }
      if (e.lossy) {
        const ok = JSON.stringify(o.stored.shape) === JSON.stringify(e.stored.shape)
          && Math.abs(o.stored.min - e.stored.min) <= 2 && Math.abs(o.stored.max - e.stored.max) <= 2
          && Math.abs(o.stored.mean - e.stored.mean) <= 0.05;
        ok ? lossy++ : problems.push(`${e.file}: lossy values differ`);
      } else {
        o.stored.sha256_i32le === e.stored.sha256_i32le ? exact++ : problems.push(`${e.file}: stored values differ`);
      }
    }
    console.log(`  browser corpus: ${exact} identical to the reference, ${lossy} lossy within tolerance, ${report.files.length} files reported`);
    assert.equal(problems.length, 0, "\n    " + problems.join("\n    "));
    const everyFile = readdirSync(corpus, { recursive: true }).filter((f) => statSync(join(corpus, f)).isFile());
    assert.equal(report.files.length, everyFile.length, "one report per file given");
  });
  await page.screenshot({ path: join(artifacts, "e2e-check.png"), fullPage: true });

  // A file that makes a third-party decoder abort (WebAssembly cannot catch a panic):
  // the page must restart its worker, name the file, and keep everything else. The
  // corruption (one byte of the RLE header's second segment offset) panics dicom-rs's
  // RLE decoder. (A corrupt segment count, used before, is now refused before decoding.)
  const rle = join(corpus, "cornerstone3d/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm");
  const broken = Buffer.from(readFileSync(rle));
  broken[7065] ^= 0xff;
  await page.setInputFiles("#file-input", [
    { name: "broken-rle.dcm", mimeType: "application/dicom", buffer: broken },
    { name: "MR_small.dcm", mimeType: "application/dicom", buffer: readFileSync(join(corpus, "pydicom/MR_small.dcm")) },
  ]);
  await page.waitForFunction(() => /loaded|could not be shown/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await check("a decoder crash while viewing is contained to its file", async () => {
    const problems = (await page.locator("#problems li").allTextContents()).join("\n");
    assert.match(problems, /broken-rle\.dcm: the decoder stopped on this file/);
    assert.match(await page.textContent("#status"), /1 slice\(s\) loaded/);
  });
  await page.click("#check-all");
  await page.waitForFunction(() => /^Checked/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await check("a decoder crash while checking is contained to its file", async () => {
    const rows = await page.locator("#decoding-check tbody tr").allTextContents();
    assert.equal(rows.length, 2);
    assert.match(rows[0], /broken-rle\.dcm.*the decoder stopped on this file/);
    assert.match(rows[1], /MR_small\.dcm.*\[64, 64\]/);
  });

  // Damaged model weights (as a broken proxy or disk would serve them): the page must
  // refuse them in words, not draw a mask from them. A fresh context: nothing cached.
  await check("damaged model weights are refused with a plain message", async () => {
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    try {
      await other.route("**/models/sarcoscope-l3-unet.weights", async (route) => {
        const response = await route.fetch();
        const body = Buffer.from(await response.body());
        body[body.length >> 1] ^= 0x40;
        await route.fulfill({ response, body });
      });
      const p2 = await other.newPage();
      await p2.goto(base);
      await p2.click("#load-demo");
      await p2.waitForFunction(() => document.querySelector("#segmentation-error")?.textContent, null, { timeout: 300000 });
      const error = await p2.textContent("#segmentation-error");
      assert.match(error, /model weights are damaged or not the ones the card names/);
      assert.equal(await p2.getAttribute("#segmentation-panel", "data-backend"), "");
      assert.equal((await p2.locator("#tissue-table tbody tr").count()), 0);
    } finally {
      await other.close();
    }
  });

  // Arms beside the trunk (a phantom: `sarcoscope phantom --arms-gap-mm 5`): the panel
  // says they were left out, and the areas are the command line's, which leaves them out
  // the same way (tests/segment.rs checks the areas equal those without arms).
  await check("arms beside the trunk are left out, and the segmentation panel and the report say so", async () => {
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    try {
      const p2 = await other.newPage();
      await p2.goto(base);
      const files = readdirSync(armsDir).sort().map((f) => join(armsDir, f));
      await p2.setInputFiles("#file-input", files);
      await p2.waitForFunction(() => {
        const busy = document.querySelector("#segmentation-busy")?.textContent;
        const error = document.querySelector("#segmentation-error")?.textContent;
        return error || (!busy && document.querySelector("#segmentation-panel")?.dataset.backend);
      }, null, { timeout: 300000 });
      assert.equal(await p2.textContent("#segmentation-error"), "");
      const said = await p2.textContent("#segmentation-left-out");
      assert.match(said, /2 body parts beside the trunk \(\d+ cm² together, usually the arms\) were found and left out/);
      const want = JSON.parse(readFileSync(armsSegment, "utf8"));
      assert.deepEqual(want.left_out.body_parts_cm2.length, 2);
      for (const [i, k] of ["muscle", "imat", "vat", "sat"].entries()) {
        const got = Number(await p2.getAttribute(`#tissue-${k}`, "data-area"));
        const cliArea = want.tissues[i].area_cm2;
        assert.ok(Math.abs(got - cliArea) <= Math.max(0.005 * cliArea, 0.1), `${k}: browser ${got} vs CLI ${cliArea}`);
      }
      await p2.screenshot({ path: join(artifacts, "e2e-arms-left-out.png"), fullPage: true });
      // …and the report carries it as a QC flag beside the numbers.
      await p2.click("#nav-report");
      await p2.waitForSelector("#view-report:not([hidden])");
      assert.match(await p2.textContent("#report-qc li[data-key=left_out]"), /2 body parts beside the trunk/);
    } finally {
      await other.close();
    }
  });

  // A small set goes to the worker as bytes the page read, once, in parts as it reads
  // them (the worker reads their headers meanwhile): the worker decodes the
  // series the page opens as soon as it has the headers (one request answered with the
  // headers and the volume) and keeps the other files' bytes for a series chosen next,
  // whose request then goes without its files (handing a worker file handles costs
  // Chromium ~0.5 ms each); where it kept none (the series decoded ahead used its bytes
  // up) it asks for the files, and the page sends them. A wrapper around Worker records
  // what the page posts and hears. The worker's warm-up makes the same request, numbered
  // 0, and must answer none of it.
  await check("a small set is read once: its series decoded ahead, another from the bytes kept, files sent when none are", async () => {
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    try {
      await other.addInitScript(() => {
        window.__posts = [];
        window.__heard = [];
        window.__warmUpAnswers = 0;
        const kindOf = (message) => (typeof message === "string" ? message : Object.keys(message || {})[0]);
        const Original = window.Worker;
        window.Worker = function (url, options) {
          const worker = new Original(url, options);
          if (!String(url).includes("sarcoscope-worker")) return worker;
          worker.addEventListener("message", (e) => {
            const { request, message } = JSON.parse(e.data?.json || "{}");
            window.__heard.push({ kind: kindOf(message), request, ahead: message?.HeadersDone?.ahead?.length,
                                  first: message?.HeaderBatch?.first, count: message?.HeaderBatch?.results?.length });
            if (request === 0) window.__warmUpAnswers++;
          });
          const post = worker.postMessage.bind(worker);
          worker.postMessage = (message, transfer) => {
            const { request, message: asked } = JSON.parse(message?.json || "{}");
            window.__posts.push({ kind: kindOf(asked), request, files: message?.files?.length ?? 0, buffers: message?.buffers?.length ?? 0,
                                  part: asked?.FileBytes?.files, of: asked?.FileBytes?.of, ahead: asked?.FileBytes?.decode_ahead });
            return post(message, transfer);
          };
          return worker;
        };
        window.Worker.prototype = Original.prototype;
      });
      const p4 = await other.newPage();
      await p4.goto(base);
      await p4.waitForTimeout(1000); // the worker's warm-up done
      const load = async (action, status) => {
        await p4.evaluate(() => { window.__posts = []; window.__heard = []; });
        await action();
        // The volume's answer heard and shown (a series opened again keeps its status).
        await p4.waitForFunction((status) => window.__heard.some((h) => h.kind === "Volume")
          && new RegExp(status).test(document.querySelector("#status")?.textContent || ""), status.source, { timeout: 120000 });
        return p4.evaluate(() => ({ posts: window.__posts, heard: window.__heard }));
      };
      // The real series and a single CT slice of another study.
      const single = join(shared, "data/dicom/pydicom/CT_small.dcm");
      const drop = () => load(() => p4.setInputFiles("#file-input", [...files, single]), /112 slice\(s\) loaded/);
      const first = await drop();
      const log = JSON.stringify(first);
      // The files' bytes in parts as they were read (each file once, in no set order), then
      // the header request with nothing attached, all under one id.
      const parts = first.posts.slice(0, -1);
      assert.ok(parts.length > 1, log);
      assert.ok(parts.every((p) => p.kind === "FileBytes" && p.files === 0 && p.of === 113 && p.buffers === p.part.length && p.ahead === true), log);
      assert.deepEqual(parts.flatMap((p) => p.part).sort((a, b) => a - b), [...Array(113).keys()], log);
      assert.deepEqual([first.posts.at(-1)].map((p) => [p.kind, p.files, p.buffers]), [["HeadersInBatches", 0, 0]], log);
      const id = first.posts[0].request;
      assert.ok(first.posts.every((p) => p.request === id), log);
      // Every header answered once, in order.
      const batches = first.heard.filter((h) => h.kind === "HeaderBatch");
      let next = 0;
      for (const batch of batches) {
        assert.equal(batch.first, next, log);
        next += batch.count;
      }
      assert.equal(next, 113, log);
      assert.equal(first.heard.find((h) => h.kind === "HeadersDone")?.ahead, 112, log);
      assert.ok(first.heard.some((h) => h.kind === "Volume" && h.request === id), log);
      assert.equal(await p4.getAttribute("#series-list li.series.selected", "data-slices"), "112");
      // The series decoded ahead again: its bytes were used up, the worker asks for them.
      const asked = await load(() => p4.click('#series-list li.series[data-slices="112"] button'), /112 slice\(s\) loaded/);
      assert.deepEqual(asked.posts.map((p) => [p.kind, p.files]), [["Volume", 0], ["Volume", 112]], JSON.stringify(asked));
      assert.equal(asked.heard.filter((h) => h.kind === "NeedsFiles").length, 1, JSON.stringify(asked));
      // After a new drop, the other series: from the bytes kept.
      await drop();
      const kept = await load(() => p4.click('#series-list li.series[data-slices="1"] button'), /(^|\D)1 slice\(s\) loaded/);
      assert.deepEqual(kept.posts.map((p) => [p.kind, p.files]), [["Volume", 0]], JSON.stringify(kept));
      assert.ok(!kept.heard.some((h) => h.kind === "NeedsFiles"), JSON.stringify(kept));
      assert.equal(await p4.locator("#problems li").count(), 0);
      assert.equal(await p4.evaluate(() => window.__warmUpAnswers), 0);
    } finally {
      await other.close();
    }
  });

  // A set of files larger than the page reads whole at once (256 MiB; READ_WHOLE_BYTES):
  // the worker reads the files themselves, their headers from their first bytes, then the
  // series' images — the path of a 1,000-slice series. A phantom of 520 slices of 512².
  if (largeDir) await check("a series larger than the page reads at once loads from the files, L3 found", async () => {
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 }, serviceWorkers: "block" });
    try {
      const p3 = await other.newPage();
      await p3.goto(base);
      const bytes = readdirSync(largeDir).reduce((sum, f) => sum + statSync(join(largeDir, f)).size, 0);
      assert.ok(bytes > 256 * 1024 * 1024, `${bytes} bytes: not larger than what the page reads at once`);
      await p3.setInputFiles("#folder-input", largeDir);
      await p3.waitForFunction(() => /slice\(s\) loaded|could not/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 300000 });
      assert.match(await p3.textContent("#status"), /520 slice\(s\) loaded/);
      assert.match(await p3.textContent("#level-summary"), /L3 found automatically at slice \d+/);
      assert.equal(await p3.locator("#problems li").count(), 0);
    } finally {
      await other.close();
    }
  });
} finally {
  await finish("e2e");
}
