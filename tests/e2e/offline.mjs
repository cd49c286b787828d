// Offline after one visit (the service worker): the app is kept in the browser, so with
// the network cut — the server stopped and the DevTools protocol taking the page
// offline — a reload still opens it and the demo path completes; a new build is offered
// as "new version — reload", and taking it removes the old version's cache.
// Usage: node tests/e2e/offline.mjs DIST ARTIFACTS SARCOSCOPE_SERVE
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, demoPath } from "./harness.mjs";

const [dist, artifacts, serverBinary] = process.argv.slice(2);
// A copy of the build of its own, so that a "new build" can be made by changing it.
const root = mkdtempSync(join(tmpdir(), "sarcoscope-offline-"));
cpSync(dist, root, { recursive: true });

// Serves `root` with the app's own server; resolves to [address, stop].
function serve(port = 0) {
  return new Promise((resolve, reject) => {
    const server = spawn(serverBinary, [root, "--port", String(port)]);
    let said = "";
    server.stdout.on("data", (d) => {
      said += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(said);
      if (m) resolve([m[0], () => new Promise((done) => {
        if (server.exitCode !== null || server.signalCode !== null) return done();
        server.once("exit", done);
        server.kill();
      })]);
    });
    server.once("exit", (code) => reject(new Error(`the server stopped (${code}): ${said}`)));
  });
}

let [base, stop] = await serve();
const port = new URL(base).port;
const { page, context, check, finish } = await start(base, { serviceWorkers: "allow" });
const cdp = await context.newCDPSession(page);
const cacheNames = () => page.evaluate(() => caches.keys());
try {
  await page.goto(base);
  await check("the first visit keeps the app for offline use and says so", async () => {
    await page.waitForFunction(() => /Available offline/.test(document.querySelector("#offline-state")?.textContent || ""), null, { timeout: 120000 });
    await page.evaluate(() => navigator.serviceWorker.ready);
    const names = (await cacheNames()).filter((n) => n.startsWith("sarcoscope-app-"));
    assert.equal(names.length, 1, `caches: ${names}`);
    const kept = await page.evaluate(async (name) => (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname), names[0]);
    for (const file of ["/index.html", "/sarcoscope-web_bg.wasm", "/sarcoscope-worker_bg.wasm", "/sarcoscope-segmenter_bg.wasm",
                        "/sarcoscope-statistics_bg.wasm", "/models/sarcoscope-l3-unet.weights", "/models/sarcoscope-l3-unet.json"]) {
      assert.ok(kept.includes(file), `${file} is kept (${kept.length} files kept)`);
    }
  });

  // The network goes: the server stops and the page is taken offline.
  await stop();
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.reload();
  await check("with the network cut, a reload opens the app from the browser's copy", async () => {
    await page.waitForSelector("#load-demo", { timeout: 60000 });
    assert.match(await page.textContent("#offline-state"), /Available offline/);
  });
  await demoPath(page, check, "offline");
  await page.screenshot({ path: join(artifacts, "e2e-offline.png"), fullPage: true });

  // The network is back, with a new build on the server: the page offers it, and taking
  // it leaves only the new version's cache.
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const sw = join(root, "sw.js");
  const old = /const VERSION = "([0-9a-f]+)"/.exec(readFileSync(sw, "utf8"))[1];
  writeFileSync(sw, readFileSync(sw, "utf8").replace(old, "0000000000000000"));
  [base, stop] = await serve(port);
  await page.reload();
  await check("a new build is offered as a new version, and nothing changes until the reload", async () => {
    await page.waitForFunction(() => /new version is available/.test(document.querySelector("#offline-state")?.textContent || ""), null, { timeout: 120000 });
    const names = (await cacheNames()).filter((n) => n.startsWith("sarcoscope-app-"));
    assert.deepEqual(names.sort(), [`sarcoscope-app-${old}`, "sarcoscope-app-0000000000000000"].sort());
  });
  await check("Reload takes the new version and removes the old one's cache", async () => {
    await Promise.all([page.waitForEvent("load", { timeout: 60000 }), page.click("#apply-update")]);
    await page.waitForFunction(() => /Available offline/.test(document.querySelector("#offline-state")?.textContent || ""), null, { timeout: 60000 });
    const names = (await cacheNames()).filter((n) => n.startsWith("sarcoscope-app-"));
    assert.deepEqual(names, ["sarcoscope-app-0000000000000000"]);
  });
} finally {
  await stop().catch(() => {});
  rmSync(root, { recursive: true, force: true });
}
await finish("offline e2e");
