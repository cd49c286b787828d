// Memory of a thin-slice series in the built app, in headless Chromium (Debian's, driven
// by playwright-core): a large series (scripts/bench writes a 512×512×1,000 phantom with
// `sarcoscope phantom`, 0.5 GB of 16-bit voxels) goes in through the folder input; the
// page loads it, finds L3 and segments that slice; then the peak memory of the tab's
// renderer process (the page and its workers: one process) is read, with the browser's
// own figures beside it. A benchmark, not a test: it prints numbers and fails only if
// the page never gets there.
//
// Figures: the renderer's peak resident memory (VmHWM of the process Chromium names as
// the page's renderer through the DevTools protocol, SystemInfo.getProcessInfo), its
// resident memory at the end, the GPU process's peak (WebGPU's buffers live there; on
// SwiftShader that is CPU memory), and the page's JavaScript heap as Chromium reports it
// (performance.memory, with --enable-precise-memory-info).
//
// Usage: node tests/e2e/bench-memory.mjs <base-url> <series-dir>
import { chromium } from "playwright-core";
import { machine } from "./harness.mjs";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const [base, series] = process.argv.slice(2);
const files = readdirSync(series).filter((f) => f.endsWith(".dcm"));
const megabytes = files.reduce((sum, f) => sum + statSync(join(series, f)).size, 0) / 1e6;

/// Kilobytes of field `name` in /proc/<pid>/status, or NaN when the process is gone.
function status(pid, name) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
    return Number(/(\d+)/.exec(line || "")?.[1]);
  } catch {
    return NaN;
  }
}

/// The value of US element (0028,`element`) in an explicit-VR little-endian file.
function usTag(file, element) {
  const bytes = readFileSync(file);
  const tag = Buffer.from([0x28, 0x00, element, 0x00, 0x55, 0x53, 0x02, 0x00]);
  const at = bytes.indexOf(tag);
  return at < 0 ? NaN : bytes.readUInt16LE(at + 8);
}

const mb = (kilobytes) => `${(kilobytes / 1024).toFixed(0)} MiB`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-precise-memory-info", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         // One renderer process for the tab, none kept spare, so the figures are the tab's.
         "--renderer-process-limit=1", "--disable-features=SpareRendererForSitePerProcess"],
});
try {
  console.log("# Browser memory with a thin-slice series (tests/e2e/bench-memory.mjs)\n");
  console.log(`machine: ${machine()}`);
  console.log(`browser: headless Chromium ${browser.version()}, the release build in dist/`);
  console.log(`series: ${files.length} files, ${megabytes.toFixed(1)} MB, from ${series}`);
  const cdp = await browser.newBrowserCDPSession();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(base, { waitUntil: "networkidle" });
  // The tab's renderer: the one renderer process that grows with the page (sampled every
  // 50 ms from here on, to tell which step holds the peak).
  const renderersNow = async () => (await cdp.send("SystemInfo.getProcessInfo")).processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
  const pids = await renderersNow();
  const rss = () => Math.max(...pids.map((pid) => status(pid, "VmRSS")).filter(Number.isFinite));
  const phases = [["page loaded", rss()]];
  let phase = "loading the series";
  const peaks = new Map();
  const sampler = setInterval(() => peaks.set(phase, Math.max(peaks.get(phase) || 0, rss())), 50);
  const started = performance.now();
  await page.setInputFiles("#folder-input", series);
  await page.waitForFunction(() => /slice\(s\) loaded|too large|could not set aside/.test(document.querySelector("#status")?.textContent || "")
    || document.querySelector("#problems")?.textContent?.includes("too large"), null, { timeout: 900000, polling: 200 });
  const loadedSeconds = (performance.now() - started) / 1000;
  const statusText = (await page.textContent("#status")).trim();
  if (!/slice\(s\) loaded/.test(statusText)) throw new Error(`the series did not load: ${statusText}`);
  const slices = await page.getAttribute("#series-list li.series.selected", "data-slices");
  const summary = (await page.textContent("#level-summary")).trim();
  phases.push(["series loaded", rss()]);
  phase = "segmenting the L3 slice";
  await page.waitForFunction(() => !document.querySelector("#segmentation-busy")?.textContent
    && /segmented on/.test(document.querySelector("#segmentation-path")?.textContent || ""), null, { timeout: 900000, polling: 200 });
  const path = (await page.textContent("#segmentation-path")).trim();
  phases.push(["segmented", rss()]);
  phase = "afterwards";
  await page.waitForTimeout(500);
  clearInterval(sampler);
  const heap = await page.evaluate(() => ({ used: performance.memory?.usedJSHeapSize, total: performance.memory?.totalJSHeapSize }));
  const { processInfo } = await cdp.send("SystemInfo.getProcessInfo");
  const renderers = processInfo.filter((p) => p.type === "renderer");
  const gpu = processInfo.filter((p) => p.type === "GPU");
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(`\nloaded ${slices} slices in ${loadedSeconds.toFixed(1)} s; ${summary}; ${path}`);
  console.log("\n| process | peak resident (VmHWM) | resident at the end (VmRSS) |");
  console.log("|---|---:|---:|");
  for (const p of renderers) console.log(`| renderer (pid ${p.id}: the page and its workers) | ${mb(status(p.id, "VmHWM"))} | ${mb(status(p.id, "VmRSS"))} |`);
  for (const p of gpu) console.log(`| GPU process (pid ${p.id}) | ${mb(status(p.id, "VmHWM"))} | ${mb(status(p.id, "VmRSS"))} |`);
  console.log("\nthe renderer's resident memory along the way (sampled every 50 ms):");
  for (const [what, kilobytes] of phases) console.log(`- ${what}: ${mb(kilobytes)}`);
  for (const [what, kilobytes] of peaks) console.log(`- highest while ${what}: ${mb(kilobytes)}`);
  console.log(`\npage's JavaScript heap (performance.memory): ${(heap.used / 2 ** 20).toFixed(0)} MiB used of ${(heap.total / 2 ** 20).toFixed(0)} MiB`);
  const [columns, rows] = [0x11, 0x10].map((element) => usTag(join(series, files[0]), element));
  console.log(`voxels of the series: ${((Number(slices) * columns * rows * 2) / 2 ** 20).toFixed(0)} MiB (16-bit, ${columns}×${rows})`);
  await context.close();
} finally {
  await browser.close();
}
