// The Cohort view's throughput in headless Chromium: each archive chosen through the
// folder input and measured to the last row — studies per minute from the choice to
// "Done", and the peak memory of the whole browser (the sum of the resident memory of
// every Chromium process, sampled every half second: page, workers' renderer, GPU
// process). `webgpu`: WebGPU on SwiftShader (a CPU emulation of a GPU: slower than the
// CPU path, a check of the GPU path's cost, not a GPU's speed); `cpu`: WebGPU off, the
// app's wasm CPU fallback. A benchmark: it prints figures and fails on nothing but a
// broken page.
// Usage: node tests/e2e/bench-cohort.mjs <base-url> webgpu|cpu <archive> [<archive> …]
import { readdirSync, readFileSync } from "node:fs";
import { start } from "./harness.mjs";

const [base, mode, ...archives] = process.argv.slice(2);

// Every process below this one (Playwright starts Chromium as its child).
function treeRssBytes() {
  const parent = new Map();
  const rss = new Map();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields start after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(pid, fields[1]);
      rss.set(pid, Number(fields[21]) * 4096);
    } catch { /* the process ended meanwhile */ }
  }
  const below = (pid) => {
    for (let p = parent.get(pid); p; p = parent.get(p)) if (p === String(process.pid)) return true;
    return false;
  };
  let total = 0;
  for (const [pid, bytes] of rss) if (below(pid)) total += bytes;
  return total;
}

const { page, finish } = await start(base, { webgpu: mode !== "cpu" });
try {
  for (const archive of archives) {
    await page.goto(`${base}#/cohort`);
    await page.waitForSelector("#view-cohort", { state: "visible", timeout: 60000 });
    // A run kept from the archive before is forgotten first.
    if (await page.isVisible("#cohort-forget")) await page.click("#cohort-forget");
    const studies = readdirSync(archive).length;
    let peak = treeRssBytes();
    const samples = [];
    const sampler = setInterval(() => {
      const now = treeRssBytes();
      peak = Math.max(peak, now);
      samples.push(now);
    }, 500);
    const t0 = Date.now();
    await page.setInputFiles("#cohort-folder", archive);
    // The headers of every file are read before the first study is measured.
    await page.waitForFunction(() => /^Measuring/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 3 * 3600 * 1000, polling: 100 });
    const headers = (Date.now() - t0) / 1000;
    await page.waitForFunction(() => /^Done:/.test(document.querySelector("#cohort-status")?.textContent || ""), null, { timeout: 3 * 3600 * 1000 });
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    const rows = await page.$$eval("#cohort-table tbody tr[data-status=measured]", (r) => r.length);
    // The memory curve in tenths of the run: flat when it does not grow with the cohort.
    const tenths = Array.from({ length: 10 }, (_, k) => samples[Math.min(samples.length - 1, Math.floor((k + 1) * samples.length / 10) - 1)] || 0)
      .map((b) => (b / 2 ** 20).toFixed(0)).join(" ");
    console.log(`browser (${mode}): ${studies} studies (${rows} measured) in ${seconds.toFixed(0)} s = ${(studies / seconds * 60).toFixed(1)} studies/min (headers read in ${headers.toFixed(1)} s); `
      + `peak memory of all Chromium processes ${(peak / 2 ** 20).toFixed(0)} MiB; by tenth of the run (MiB): ${tenths}`);
  }
} finally {
  await finish("cohort bench");
}
