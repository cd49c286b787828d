// What every end-to-end script shares: headless Chromium (Debian's, driven by
// playwright-core) with WebGPU on SwiftShader, a page whose every request is seen by
// the DevTools protocol, named checks that go on after a failure, and the closing
// audit — no request off the serving origin, no CSP violation, no page error.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { crc32, inflateSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { availableParallelism, machine as arch, totalmem } from "node:os";

// Named checks that go on after a failure; `summary(label)` prints the count and says
// whether all passed.
export function checker() {
  let failed = 0;
  let passed = 0;
  // Each line says how long its check took, so that a slow run shows where its time went
  // (the work since the previous check, e.g. a load the check waits for, counts for it).
  let since = performance.now();
  const took = () => { const now = performance.now(); const s = ((now - since) / 1000).toFixed(1); since = now; return `(${s} s)`; };
  const check = async (name, fn) => {
    try { await fn(); passed++; console.log(`ok - ${name} ${took()}`); }
    catch (e) { failed++; console.log(`FAILED - ${name} ${took()}\n  ${String(e.stack || e).split("\n").slice(0, 12).join("\n  ")}`); }
  };
  const summary = (label) => { console.log(`${label}: ${passed} passed, ${failed} failed`); return failed === 0; };
  return { check, summary };
}

// `webgpu: false` leaves WebGPU off (no adapter), so the app's CPU fallback runs.
// Service workers are blocked unless asked for (`serviceWorkers: "allow"`: the offline
// and release tests): requests a service worker answers bypass Playwright's routes,
// which several checks use to damage or slow a file.
export async function start(base, { webgpu = true, serviceWorkers = "block" } = {}) {
  const origin = new URL(base).origin;
  const offOrigin = [];
  const cspViolations = [];
  const requested = [];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // WebGPU on SwiftShader: a correctness check of the GPU path, not a speed figure.
    args: ["--no-sandbox", ...(webgpu ? ["--enable-unsafe-webgpu"] : []), "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  const { check, summary } = checker();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true, serviceWorkers });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const offsite = (url) => !url.startsWith(origin) && !/^(data|blob):/.test(url);
  cdp.on("Network.requestWillBeSent", (e) => { if (offsite(e.request.url)) offOrigin.push(e.request.url); });
  context.on("request", (r) => { requested.push(r.url()); if (offsite(r.url())) offOrigin.push(r.url()); });
  page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text()); });
  page.on("pageerror", (e) => cspViolations.push("page error: " + e.message));
  // The audit, the browser closed, and the exit status: call once, at the end.
  const finish = async (label) => {
    await check("no request left the origin", async () => assert.deepEqual(offOrigin, []));
    await check("no CSP violation or page error", async () => assert.deepEqual(cspViolations, []));
    await browser.close();
    process.exit(summary(label) ? 0 : 1);
  };
  return { browser, context, page, check, requested, finish };
}

// A reader's brush stroke in the Muscle tab: muscle painted (HU range off, 15 px) across
// the middle of the axial image, as a correction would be made by hand.
export async function paintMuscle(page) {
    await page.check("#correct");
    await page.selectOption("#brush-tool", "paint");
    await page.selectOption("#brush-tissue", "muscle");
    await page.uncheck("#brush-hu");
    await page.locator("#brush-size").fill("15");
    await page.locator("#axial").scrollIntoViewIfNeeded();
    const box = await page.locator("#axial").boundingBox();
    await page.mouse.move(box.x + box.width * 0.42, box.y + box.height * 0.55);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.58, box.y + box.height * 0.55, { steps: 8 });
    await page.mouse.up();
}

// Waits until the series opened in the Patient view is loaded and its mask is on screen,
// and checks that the segmentation said no error.
export async function loadedAndSegmented(page) {
  await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await segmentationSettled(page);
  assert.equal(await page.textContent("#segmentation-error"), "");
}

// Waits until the segmentation of the slice shown has settled: a mask, or an error.
export async function segmentationSettled(page) {
  await page.waitForFunction(() => {
    const busy = document.querySelector("#segmentation-busy")?.textContent;
    const error = document.querySelector("#segmentation-error")?.textContent;
    return error || (!busy && document.querySelector("#segmentation-panel")?.dataset.backend);
  }, null, { timeout: 300000 });
}

// The entries of a ZIP of stored files, each checked against its CRC-32.
export function unzip(zip) {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, "a ZIP end record");
  const entries = {};
  let at = zip.readUInt32LE(end + 16);
  for (let k = 0; k < zip.readUInt16LE(end + 10); k++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, "a central directory entry");
    const [crc, size, nameLength, local] = [zip.readUInt32LE(at + 16), zip.readUInt32LE(at + 24), zip.readUInt16LE(at + 28), zip.readUInt32LE(at + 42)];
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries[name] = zip.subarray(start, start + size);
    assert.equal(crc32(entries[name]), crc, `${name}: CRC-32`);
    at += 46 + nameLength;
  }
  return entries;
}

// The pixels of an 8-bit greyscale PNG as the app writes its masks (src/png.rs: one
// IDAT, filter "none" on every row), each chunk checked against its CRC-32.
export function pngGrey8(png) {
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  let [width, height, idat] = [0, 0, []];
  for (let at = 8; at < png.length; ) {
    const [length, kind] = [png.readUInt32BE(at), png.toString("latin1", at + 4, at + 8)];
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(crc32(data, crc32(Buffer.from(kind, "latin1"))), png.readUInt32BE(at + 8 + length), `${kind}: CRC-32`);
    if (kind === "IHDR") {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      assert.deepEqual([...data.subarray(8)], [8, 0, 0, 0, 0], "8-bit greyscale, not interlaced");
    }
    if (kind === "IDAT") idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (width + 1));
  const pixels = Buffer.alloc(width * height);
  for (let row = 0; row < height; row++) {
    assert.equal(raw[row * (width + 1)], 0, `row ${row}: filter none`);
    raw.copy(pixels, row * width, row * (width + 1) + 1, (row + 1) * (width + 1));
  }
  return { width, height, pixels };
}

// The single-patient path on the embedded demo case, as a first visit would take it:
// load the demo, its L3 found, segmented, SMI and the calls, the scores and the
// de-identified report. `label` names the checks (the same path in several settings).
export async function demoPath(page, check, label) {
  await page.click("#load-demo");
  await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 120000 });
  await check(`${label}: the demo loads and its L3 is found`, async () => {
    assert.match(await page.textContent("#series-list li.series.selected"), /Sarcoscope synthetic demo \(not a patient\)/);
    assert.match(await page.textContent("#level-summary"), /L3 found automatically at slice \d+/);
  });
  await check(`${label}: the demo's L3 slice is segmented`, async () => {
    await segmentationSettled(page);
    assert.equal(await page.textContent("#segmentation-error"), "");
    assert.ok(Number(await page.getAttribute("#tissue-muscle", "data-area")) > 50);
  });
  await check(`${label}: SMI, the calls, the scores and the report`, async () => {
    const smi = Number((await page.textContent("#metric-sma td:nth-child(3)")).trim());
    assert.ok(smi > 20 && smi < 90, `demo SMI ${smi}`);
    assert.ok(["yes", "no"].includes(await page.getAttribute("#call-sarcopenia", "data-call")));
    assert.ok(Number(await page.getAttribute("#score-meld", "data-value")) >= 6);
    assert.match(await page.getAttribute("#score-child-pugh", "data-value"), /class [ABC]/);
    assert.match(await page.textContent("#report"), /De-identified\. Case code: DEMO/);
  });
}

// The machine a benchmark ran on, for its figures: CPU model, cores, memory, platform.
export function machine() {
  let model = "unknown CPU";
  try {
    model = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) || [])[1]?.trim() || model;
  } catch { /* not Linux */ }
  return `${model}, ${availableParallelism()} CPU(s) (nproc), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${process.platform} ${arch()}`;
}
