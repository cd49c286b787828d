// End-to-end test of the built app in headless Chromium (Debian's, driven by
// playwright-core): the real 112-slice CT series goes in through the file input, and
// the page must list it, show the right HU at a known pixel, report bad files in plain
// language without losing the good ones, and never send a request off its origin.
//
// The L3 slice is segmented on WebGPU (SwiftShader here) and on the CPU; both must
// agree with each other and with the command line's `sarcoscope segment --json`.
//
// Usage: node tests/e2e/viewer.mjs <base-url> <shared-dir> <artifacts-dir> <cli-segment.json>
import { chromium } from "playwright-core";
import { readFileSync, readdirSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";

const [base, shared, artifacts, cliSegment] = process.argv.slice(2);
const series = join(shared, "data/ct/totalseg-example/series-dicom");
mkdirSync(artifacts, { recursive: true });

// An independent reading of one uncompressed slice (explicit VR little endian), so the
// HU the page shows is checked against the file itself, not against our decoder.
function referenceHu(file, column, row) {
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
  const at = data + 2 * (row * columns + column);
  const stored = signed ? b.readInt16LE(at) : b.readUInt16LE(at);
  return stored * slope + intercept;
}

const origin = new URL(base).origin;
const offOrigin = [];
const cspViolations = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // WebGPU on SwiftShader: a correctness check of the GPU path, not a speed figure.
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"],
});
let failed = 0;
let passed = 0;
async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok - ${name}`); }
  catch (e) { failed++; console.log(`FAILED - ${name}\n  ${String(e.stack || e).split("\n").slice(0, 12).join("\n  ")}`); }
}
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  // Every request the page or its worker makes, seen by the DevTools protocol.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.requestWillBeSent", (e) => { if (!e.request.url.startsWith(origin) && !/^(data|blob):/.test(e.request.url)) offOrigin.push(e.request.url); });
  context.on("request", (r) => { if (!r.url().startsWith(origin) && !/^(data|blob):/.test(r.url())) offOrigin.push(r.url()); });
  const requested = [];
  context.on("request", (r) => requested.push(r.url()));
  page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text()); });
  page.on("pageerror", (e) => cspViolations.push("page error: " + e.message));

  await page.goto(base);
  await check("privacy note is visible", async () => {
    const note = await page.textContent("#privacy-note");
    assert.match(note, /stay in this browser/);
  });

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
  await check("the demo's L3 slice is segmented straight away", async () => {
    await segmented();
    const a = await areas();
    assert.ok(a.muscle > 50 && a.sat > 10, `demo areas ${JSON.stringify(a)}`);
  });
  await page.screenshot({ path: join(artifacts, "e2e-demo.png"), fullPage: true });

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
  await check("the L3 slice is segmented on WebGPU, and the panel says so and how long it took", async () => {
    await segmented();
    assert.equal(await page.getAttribute("#segmentation-panel", "data-backend"), "webgpu");
    const path = await page.textContent("#segmentation-path");
    assert.match(path, new RegExp(`Slice ${opened} segmented on WebGPU .* in \\d+ ms`));
    assert.match(path, /Model sarcoscope-l3-unet/);
    assert.ok(requested.some((u) => u.endsWith("sarcoscope-segmenter_bg.wasm")), "segmenter module was never loaded");
    assert.ok(requested.some((u) => u.endsWith("models/sarcoscope-l3-unet.weights")), "weights were not fetched from the origin");
    gpuAreas = await areas();
    const text = await page.textContent("#segmentation-panel");
    assert.match(text, /Mitsiopoulos/);
  });
  await check("the browser's areas equal the command line's on the same slice", async () => {
    const cli = JSON.parse(readFileSync(cliSegment, "utf8"));
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
  await page.screenshot({ path: join(artifacts, "e2e-segmentation.png"), fullPage: true });

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
  await page.setInputFiles("#file-input", [...bad, ...files.slice(0, 40)]);
  await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await check("bad files are listed in plain language and the good ones still load", async () => {
    const problems = await page.locator("#problems li").allTextContents();
    const text = problems.join("\n");
    assert.match(text, /MR_truncated\.dcm: the file ends before its image is complete/);
    assert.match(text, /README: not a DICOM file/);
    assert.match(text, /DICOMDIR: this is a DICOMDIR index/);
    const label = await page.textContent("#slice-label");
    assert.match(label, /\/ 40 /);
  });
  await page.screenshot({ path: join(artifacts, "e2e-problems.png"), fullPage: true });

  // The whole shared corpus through the folder picker, then every file decoded in the
  // browser's WebAssembly and compared with the reference decoder (pydicom + pylibjpeg).
  await page.setInputFiles("#folder-input", corpus);
  await page.waitForFunction(() => !document.querySelector(".progress") && /loaded|no CT image series/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await page.click("#check-all");
  await page.waitForFunction(() => /^Checked/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 300000 });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-report")]);
  const report = JSON.parse(readFileSync(await download.path(), "utf8"));
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
  // corruption (one byte of the RLE header's image size) panics dicom-rs's RLE decoder.
  const rle = join(corpus, "cornerstone3d/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm");
  const broken = Buffer.from(readFileSync(rle));
  broken[7057] ^= 0xff;
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
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
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

  await check("no request left the origin", async () => assert.deepEqual(offOrigin, []));
  await check("no CSP violation or page error", async () => assert.deepEqual(cspViolations, []));
} finally {
  await browser.close();
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
