// How fast a set of files' bytes can reach a worker at all, before anything decodes them: the
// floor under the app's "file input → slices loaded" (issue #17 item 7), on a blank page of the
// same Chromium. Three ways, each on a fresh page, alternating:
//   page-reads   the page reads the files (up to 128 reads in flight) and transfers their
//                bytes to the worker in parts of 8 — what the app does for a set under 256 MiB;
//   handles-8    the page posts the file handles in parts of 8 and the worker reads them;
//   handles-all  the page posts every handle in one message and the worker reads them.
// The clock runs from the files in the input to the worker holding every byte (both sides on
// `performance.timeOrigin`). A benchmark: nothing here fails on timing.
//
// Usage: node tests/e2e/bench-handoff.mjs SHARED [LARGE_SERIES_DIR] [PAGES]
import { chromium } from "playwright-core";
import { readdirSync } from "node:fs";
import { machine } from "./harness.mjs";
import { join } from "node:path";

const [shared, large, pagesArg] = process.argv.slice(2);
const pages = Number(pagesArg || 10);
const sets = [["112-slice real series", join(shared, "data/ct/totalseg-example/series-dicom")]];
if (large) sets.push(["large series", large]);

const WORKER = `
let held = 0, bytes = 0, total = 0;
const got = (buffer) => {
  held++;
  bytes += buffer.byteLength;
  if (held === total) postMessage({ bytes, at: performance.timeOrigin + performance.now() });
};
onmessage = ({ data }) => {
  if (data.total) { total = data.total; return; }
  for (const buffer of data.buffers || []) got(buffer);
  for (const file of data.files || []) file.arrayBuffer().then(got);
};`;

// In the page: hands the input's files to the worker `how`; resolves to the milliseconds until
// the worker held them all, the bytes it counted, and when the page's own part ended.
async function handOver(how) {
  const files = [...document.querySelector("#files").files];
  const worker = window.worker;
  worker.postMessage({ total: files.length });
  const held = new Promise((resolve) => { worker.onmessage = ({ data }) => resolve(data); });
  const start = performance.now();
  if (how === "page-reads") {
    await new Promise((resolve) => {
      let started = 0, done = 0, part = [];
      const next = () => {
        if (started >= files.length) return;
        files[started++].arrayBuffer().then((buffer) => {
          done++;
          part.push(buffer);
          if (part.length === 8 || done === files.length) {
            worker.postMessage({ buffers: part }, part);
            part = [];
          }
          if (done === files.length) resolve(); else next();
        });
      };
      for (let k = 0; k < 128; k++) next();
    });
  } else {
    const size = how === "handles-8" ? 8 : files.length;
    for (let k = 0; k < files.length; k += size) worker.postMessage({ files: files.slice(k, k + size) });
  }
  const pageDone = performance.now() - start;
  const { bytes, at } = await held;
  return { ms: at - (performance.timeOrigin + start), bytes, pageDone };
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
console.log(`${machine()}; Chromium ${browser.version()}; ${pages} fresh pages each way`);
const ways = ["page-reads", "handles-8", "handles-all"];
for (const [label, dir] of sets) {
  const files = readdirSync(dir).filter((f) => !f.startsWith(".")).sort().map((f) => join(dir, f));
  const results = Object.fromEntries(ways.map((w) => [w, []]));
  let expected = null;
  for (let run = 0; run < pages; run++) {
    for (const how of ways) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.setContent('<input type="file" id="files" multiple>');
      await page.evaluate((source) => {
        window.worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
      }, WORKER);
      await page.setInputFiles("#files", files);
      const r = await page.evaluate(handOver, how);
      expected ??= r.bytes;
      if (r.bytes !== expected) throw new Error(`${how}: the worker held ${r.bytes} bytes, not ${expected}`);
      results[how].push(r);
      await context.close();
    }
  }
  console.log(`${label}: ${files.length} files, ${(expected / 1e6).toFixed(1)} MB`);
  for (const how of ways) {
    const ms = results[how].map((r) => r.ms).sort((a, b) => a - b);
    const page = results[how].map((r) => r.pageDone).sort((a, b) => a - b);
    console.log(`  ${how.padEnd(12)} bytes in the worker: median ${ms[ms.length >> 1].toFixed(1)} ms ` +
      `(${ms[0].toFixed(0)}–${ms.at(-1).toFixed(0)}); the page's part: median ${page[page.length >> 1].toFixed(0)} ms`);
  }
}
await browser.close();
