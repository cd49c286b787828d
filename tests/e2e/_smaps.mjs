import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const [base, series] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-precise-memory-info", "--renderer-process-limit=1", "--disable-features=SpareRendererForSitePerProcess"] });
const cdp = await browser.newBrowserCDPSession();
const page = await (await browser.newContext()).newPage();
await page.goto(base, { waitUntil: "networkidle" });
function smaps(label) {
  const pids = [];
  return cdp.send("SystemInfo.getProcessInfo").then(({ processInfo }) => {
    for (const p of processInfo.filter((p) => p.type === "renderer")) {
      const text = readFileSync(`/proc/${p.id}/smaps`, "utf8").split("\n");
      const maps = []; let cur = null;
      for (const l of text) {
        const m = l.match(/^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/);
        if (m) { cur = { size: (parseInt(m[2], 16) - parseInt(m[1], 16)) / 2 ** 20, perm: m[3], name: m[4], start: m[1] }; maps.push(cur); continue; }
        const r = l.match(/^(Rss|Anonymous):\s+(\d+) kB/); if (r && cur) cur[r[1]] = +r[2] / 1024;
      }
      const total = maps.reduce((s, m) => s + (m.Rss || 0), 0);
      console.log(`-- ${label} pid ${p.id} rss total ${total.toFixed(0)} MiB, ${maps.length} maps`);
      // group small maps by name
      const byName = new Map();
      for (const m of maps) { if ((m.Rss || 0) >= 8) console.log(`  ${m.start} ${m.perm} vsize ${m.size.toFixed(0)} rss ${m.Rss.toFixed(0)} ${m.name}`); else byName.set(m.name || "[anon]", (byName.get(m.name || "[anon]") || 0) + (m.Rss || 0)); }
      for (const [n, v] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  small maps ${n}: ${v.toFixed(0)}`);
    }
  });
}
await smaps("page loaded");
await page.setInputFiles("#folder-input", series);
await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 600000, polling: 200 });
await smaps("series loaded");
await page.waitForFunction(() => /segmented on/.test(document.querySelector("#segmentation-path")?.textContent || ""), null, { timeout: 600000, polling: 200 });
await smaps("segmented");
await browser.close();
