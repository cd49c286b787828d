// The statistics worker's speed in headless Chromium: the Cox model, and the Cox model
// with 200 bootstrap refits, on the invented cohorts scripts/bench writes — timed from
// the click to the result on the page (the file already read). A benchmark: it prints
// figures and fails on nothing but a broken page.
// Usage: node tests/e2e/bench-statistics.mjs <base-url> <folder with cohort-N.csv>
import { join } from "node:path";
import { start } from "./harness.mjs";

const [base, folder] = process.argv.slice(2);
const { page, finish } = await start(base);
try {
  await page.goto(`${base}#/statistics`);
  const idle = () => page.waitForFunction(() => !document.querySelector("#stats-progress"), null, { timeout: 600000 });
  for (const n of [1000, 10000]) {
    await page.setInputFiles("#stats-file", join(folder, `cohort-${n}.csv`));
    await page.waitForSelector("#stats-columns:not([hidden]) table", { timeout: 60000 });
    await idle();
    await page.fill("#stats-event-value", "1");
    await page.fill("#stats-covariates", "meld, factor(sarcopenia), age_years, albumin");
    await page.fill("#stats-horizons", "365");
    const times = {};
    for (const b of [0, 200]) {
      await page.fill("#stats-bootstrap", String(b));
      const runs = [];
      for (let run = 0; run < (b === 0 ? 5 : 1); run++) {
        const before = Number(await page.getAttribute("#view-statistics", "data-answers"));
        const t0 = Date.now();
        await page.click("#stats-fit");
        await page.waitForFunction((n) => Number(document.querySelector("#view-statistics").dataset.answers) > n, before, { timeout: 600000 });
        runs.push((Date.now() - t0) / 1000);
        const error = (await page.textContent("#stats-error")).trim();
        if (error) throw new Error(`n = ${n}, B = ${b}: ${error}`);
      }
      runs.sort((a, c) => a - c);
      times[b] = runs[runs.length >> 1];
    }
    console.log(`browser n = ${String(n).padStart(5)}: Cox fit ${times[0].toFixed(3).padStart(8)} s; Cox + 200 bootstrap refits ${times[200].toFixed(3).padStart(8)} s`);
  }
} finally {
  await finish("statistics bench");
}
