// End-to-end test of the Cohort statistics view in headless Chromium: R's `pbc`
// cohort goes in through the file input; the curves, the Cox model and an external
// validation computed in the page's statistics worker must equal R's values
// (../shared/data/stats, each value with the R call that made it); the bootstrap runs
// while the page stays responsive and can be cancelled; the model file goes out and
// comes back as an "external centre"'s; the aggregate report prints to PDF and holds
// no patient's row; and no request leaves the origin.
//
// Usage: node tests/e2e/statistics.mjs <base-url> <shared-dir> <artifacts-dir> <sarcoscope-cli>
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { start } from "./harness.mjs";

const [base, shared, artifacts, sarcoscope] = process.argv.slice(2);
const stats = join(shared, "data/stats");
const ref = JSON.parse(readFileSync(join(stats, "pbc-reference.json"), "utf8"));
const extra = JSON.parse(readFileSync(join(stats, "pbc-extra-reference.json"), "utf8"));
mkdirSync(artifacts, { recursive: true });

// The randomised patients (trt not missing), and the two arms: the cohorts the R
// references were computed on.
const text = readFileSync(join(stats, "pbc.csv"), "utf8").trim().split("\n");
const header = text[0];
const trt = header.split(",").indexOf('"trt"');
const rows = text.slice(1);
const write = (name, kept) => {
  const path = join(artifacts, name);
  writeFileSync(path, [header, ...kept].join("\n") + "\n");
  return path;
};
const randomised = write("pbc-312.csv", rows.filter((l) => !["", "NA"].includes(l.split(",")[trt])));
const arm1 = write("pbc-arm1.csv", rows.filter((l) => l.split(",")[trt] === "1"));
const arm2 = write("pbc-arm2.csv", rows.filter((l) => l.split(",")[trt] === "2"));

// R's NA (null in its JSON) must be ours too: not defined, never a number.
const close = (what, ours, theirs, tol, relative = false) => {
  if (theirs === null) return assert.equal(ours, null, `${what}: ${ours} where R has NA`);
  const scale = relative ? Math.max(Math.abs(theirs), 1e-300) : 1;
  assert.ok(Number.isFinite(ours) && Math.abs(ours - theirs) / scale <= tol,
    `${what}: ${ours} vs R ${theirs} (tolerance ${tol}${relative ? " relative" : ""})`);
};

const { page, check, finish } = await start(base);
try {
  // A download's text, from the button that makes it.
  const download = async (selector, name) => {
    const [d] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
    const path = join(artifacts, name || d.suggestedFilename());
    await d.saveAs(path);
    return { path, text: readFileSync(path, "utf8") };
  };
  const idle = () => page.waitForFunction(() => !document.querySelector("#stats-progress"), null, { timeout: 300000 });
  const open = async (file) => {
    await page.setInputFiles("#stats-file", file);
    await page.waitForSelector("#stats-columns:not([hidden]) table", { timeout: 60000 });
    await idle();
  };
  const fill = async (fields) => {
    for (const [id, value] of Object.entries(fields)) {
      if (await page.locator(`#${id}`).evaluate((e) => e.tagName === "SELECT")) await page.selectOption(`#${id}`, value);
      else await page.fill(`#${id}`, value);
    }
  };
  const noError = async () => assert.equal((await page.textContent("#stats-error")).trim(), "");

  await page.goto(`${base}#/statistics`);
  await check("the statistics view asks for a cohort file first", async () => {
    // The app mounts after the wasm is compiled: seconds on a busy 2-core machine.
    await page.waitForSelector("#view-statistics", { state: "visible", timeout: 60000 });
    assert.ok(await page.isHidden("#stats-roles"));
  });

  await page.click("#stats-demo");
  await page.waitForSelector("#stats-columns:not([hidden]) table", { timeout: 60000 });
  await idle();
  await check("the invented cohort opens like a file, with the same figures as the command line's", async () => {
    assert.match(await page.textContent("#stats-columns h2"), /invented-cirrhosis-cohort\.csv — 1000 patients, 16 columns/);
    await fill({ "stats-event-value": "1", "stats-covariates": "meld, factor(sarcopenia), age_years", "stats-bootstrap": "0", "stats-horizons": "365" });
    await page.click("#stats-fit");
    await idle();
    await noError();
    const fit = JSON.parse((await download("#stats-download-fit")).text);
    const csv = join(artifacts, "invented.csv");
    execFileSync(sarcoscope, ["cohort", "synth", "--n", "1000", "--seed", "1", "--out", csv]);
    const cli = JSON.parse(execFileSync(sarcoscope, ["cohort", "fit", csv, "--time", "time", "--event", "status", "--covariates", "meld, factor(sarcopenia), age_years", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    fit.coefficients.forEach((c, j) => close(`invented cohort ${c.name}`, c.coef, cli.coefficients[j].coef, 1e-12, true));
    assert.ok(fit.coefficients[0].hr > 1, "death rises with MELD, as the generator made it");
  });

  await check("a published score (MELD, 3-month survival) validates as the command line validates its shipped file", async () => {
    const csv = join(artifacts, "invented.csv");
    await page.click("#stats-published-meld");
    await page.waitForSelector("#stats-model");
    assert.match(await page.textContent("#stats-model"), /Wiesner R et al\..*Risks only at 90 days/);
    assert.equal(await page.inputValue("#stats-horizons"), "90");
    await page.click("#stats-validate");
    await idle();
    await noError();
    const report = JSON.parse((await download("#stats-download-report", "report-meld.json")).text);
    assert.equal(report.published_elsewhere, true);
    const file = join(artifacts, "meld.sarcoscope-model.json");
    execFileSync(sarcoscope, ["cohort", "published", "meld", "--out", file]);
    const cli = JSON.parse(execFileSync(sarcoscope, ["cohort", "validate", csv, "--time", "time", "--event", "status", "--model", file, "--horizons", "90", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    for (const key of ["harrell_c", "uno_c"]) close(`MELD ${key}`, report.figures[key], cli[key], 1e-12);
    close("MELD Brier at 90 days", report.figures.brier[0].brier, cli.brier[0].brier, 1e-12);
    close("MELD O:E at 90 days", report.figures.calibration[0].oe, cli.calibration[0].oe, 1e-12);
    assert.equal(report.figures.calibration[0].oe_counts, null, "no expected count before the only published horizon");
    assert.match(await page.textContent("#stats-report"), /A published score, not this study's model/);
  });

  await check("MELD-Sarcopenia, published without a baseline, ranks patients as its column does and claims no probability", async () => {
    await page.click("#stats-published-meld_sarcopenia");
    await page.waitForFunction(() => /Ranks patients only/.test(document.querySelector("#stats-model")?.textContent || ""));
    assert.equal(await page.inputValue("#stats-horizons"), "90");
    await page.click("#stats-validate");
    await idle();
    await noError();
    const report = JSON.parse((await download("#stats-download-report", "report-meld-sarcopenia.json")).text);
    const cli = JSON.parse(execFileSync(sarcoscope, ["cohort", "validate", join(artifacts, "invented.csv"), "--time", "time", "--event", "status", "--score", "meld_sarcopenia", "--horizons", "90", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    for (const key of ["harrell_c", "uno_c"]) close(`MELD-Sarcopenia ${key}`, report.figures[key], cli[key], 1e-12);
    assert.deepEqual(report.figures.calibration, []);
    assert.deepEqual(report.deciles, []);
    assert.match(await page.textContent("#stats-report"), /no baseline survival/);
  });

  await check("a score column without a model file is rated as the command line rates it", async () => {
    await fill({ "stats-score": "meld3" });
    await page.click("#stats-rate");
    await idle();
    await noError();
    const rated = JSON.parse((await download("#stats-download-rated")).text);
    const cli = JSON.parse(execFileSync(sarcoscope, ["cohort", "validate", join(artifacts, "invented.csv"), "--time", "time", "--event", "status", "--score", "meld3", "--horizons", "90", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    for (const key of ["harrell_c", "harrell_c_se", "uno_c", "uno_c_se"]) close(`meld3 ${key}`, rated[key], cli[key], 1e-12);
    close("meld3 AUC at 90 days", rated.auc[0].auc, cli.auc[0].auc, 1e-12);
    assert.match(await page.textContent("#stats-rated"), /meld3: patients, events\s*1000, 386/);
  });

  await check("a covariate that separates events is fitted with a warning in words, and an infinite limit is not shown as a number", async () => {
    const file = join(artifacts, "separating.csv");
    writeFileSync(file, "time,status,x\n1,1,1\n2,1,1\n3,0,0\n4,0,0\n5,1,1\n6,0,0\n");
    await open(file);
    await fill({ "stats-event-value": "1", "stats-covariates": "x", "stats-bootstrap": "0", "stats-horizons": "3" });
    await page.click("#stats-fit");
    await idle();
    await noError();
    assert.match(await page.textContent("#stats-fit-section"), /grows without bound — x separates the patients with events/);
    const row = await page.textContent("#stats-cox-table tbody tr");
    assert.doesNotMatch(row, /NaN|inf/i);
    assert.match(row, /–\)/, `the HR's upper limit is shown as not defined: ${row}`);
  });

  await open(join(stats, "pbc.csv"));
  await check("the cohort file's columns are summarised: type, missing, range, levels", async () => {
    assert.match(await page.textContent("#stats-columns h2"), /pbc\.csv — 418 patients, 20 columns/);
    const trtRow = await page.locator("#stats-columns tr", { hasText: /^trt/ }).textContent();
    assert.match(trtRow, /number\s*106/, trtRow);
    const sexRow = await page.locator("#stats-columns tr", { hasText: /^sex/ }).textContent();
    assert.match(sexRow, /text.*f \(374\), m \(44\)/, sexRow);
    // Guessed from the names.
    assert.equal(await page.inputValue("#stats-time"), "time");
    assert.equal(await page.inputValue("#stats-event"), "status");
  });

  await fill({ "stats-event-value": "2", "stats-group": "edema", "stats-conf": "log-log", "stats-horizons": "365.25, 1826.25, 3652.5" });
  await page.click("#stats-km");
  await idle();
  await check("Kaplan–Meier by edema equals survfit (log-log CI) and the log-rank test survdiff", async () => {
    await noError();
    assert.ok(await page.isVisible("#stats-km-plot svg"));
    const km = JSON.parse((await download("#stats-download-km")).text);
    const r = extra.km_by_edema_loglog;
    assert.deepEqual(km.groups.map((g) => g.group), ["0", "0.5", "1"]);
    for (const g of km.groups) {
      const want = r[`edema=${g.group}`];
      g.at.forEach((p, k) => {
        assert.equal(p.n_risk, want.n_risk[k], `n at risk, edema ${g.group}`);
        for (const key of ["surv", "std_err", "lower", "upper"]) close(`${key}, edema ${g.group}, t ${p.time}`, p[key], want[key][k], 1e-6);
      });
    }
    const lr = extra.logrank_edema_3groups;
    close("log-rank chi-square", km.logrank.chisq, lr.chisq, 1e-6);
    assert.equal(km.logrank.df, lr.df);
    assert.match(await page.textContent("#stats-logrank"), /on 2 df, p < 0\.001 \(survival::survdiff\)/);
    assert.match(await page.textContent("#stats-km-left"), /row\(s\) left out/);
  });
  await page.screenshot({ path: join(artifacts, "e2e-statistics-km.png"), fullPage: true });

  await fill({ "stats-competing-value": "1", "stats-covariates": "log(bili), age" });
  await page.click("#stats-competing");
  await idle();
  await check("competing risks by edema: Gray's test equals cmprsk::cuminc, the Fine–Gray model cmprsk::crr", async () => {
    await noError();
    assert.ok(await page.isVisible("#stats-competing-plot svg"));
    const c = JSON.parse((await download("#stats-download-competing")).text);
    assert.deepEqual(c.groups.map((g) => [g.group, g.n, g.events, g.competing]), [["0", 354, 116, 22], ["0.5", 44, 26, 3], ["1", 20, 19, 0]]);
    // cuminc(time, status, group = edema, cencode = 0)$Tests (cmprsk 2.2-11)
    close("Gray's test, death", c.gray_event.chisq, 69.24712630802, 1e-7, true);
    close("Gray's test, transplant", c.gray_competing.chisq, 1.13186061138206, 1e-7, true);
    assert.match(await page.textContent("#stats-gray"), /Gray's test, the event: χ² = 69\.247 on 2 df, p < 0\.001/);
    // crr(time, status, cov1 = cbind(log(bili), age), failcode = 2, cencode = 0)
    const fg = ref.fine_gray_death;
    const [bili, age] = c.fine_gray.coefficients;
    close("Fine–Gray log(bili)", bili.coef, fg.coef.logbili, 1e-6, true);
    close("Fine–Gray age", age.coef, fg.coef.age, 1e-6, true);
    // crr's default stopping rule (gtol = 1e-6) leaves its SEs 2e-7 from the maximum's.
    close("Fine–Gray se log(bili)", bili.se, fg.se[0], 1e-6, true);
    close("Fine–Gray se age", age.se, fg.se[1], 1e-6, true);
    assert.match(await page.textContent("#stats-fine-gray"), /log\(bili\)/);
    await page.locator("#stats-competing-section").screenshot({ path: join(artifacts, "e2e-statistics-competing.png") });
  });
  await fill({ "stats-group": "", "stats-covariates": "" });
  await page.click("#stats-competing");
  await idle();
  await check("the cumulative incidence of death and of transplant equals survfit's Aalen–Johansen and cuminc's variance", async () => {
    await noError();
    const c = JSON.parse((await download("#stats-download-competing")).text);
    const r = ref.aalen_johansen;
    const all = c.groups[0];
    assert.equal(all.group, "all");
    // times 365.25, 1826.25, 3652.5; R's at 1826.25 and 3652.5
    [1, 2].forEach((k, j) => {
      close(`AJ death at ${r.times[j]}`, all.at[k].event.incidence, r.pstate[j][2], 1e-9);
      close(`AJ transplant at ${r.times[j]}`, all.at[k].competing.incidence, r.pstate[j][1], 1e-9);
    });
    // timepoints(cuminc(time, status, cencode = 0), 1826.25)$var
    close("cuminc var, death at 5 years", all.at[1].event.std_err ** 2, 0.000540283668566916, 1e-9, true);
    assert.equal(c.fine_gray, null, "no covariates, no Fine–Gray model");
    assert.match(await page.textContent("#stats-competing-table"), /0\.2917 \(0\.\d{4}–0\.\d{4}\)/);
  });

  for (const conf of ["log", "log-log"]) {
    await fill({ "stats-conf": conf });
    await page.click("#stats-km");
    await idle();
    await check(`Kaplan–Meier of all 418 (transplant censored) equals survfit, ${conf} interval`, async () => {
      await noError();
      const km = JSON.parse((await download("#stats-download-km", `km-all-${conf}.json`)).text);
      const r = ref[conf === "log" ? "km_all_418_transplant_censored" : "km_all_418_transplant_censored_loglog"];
      const all = km.groups[0];
      assert.equal(all.n, 418);
      all.at.forEach((p, k) => {
        assert.equal(p.n_risk, r.n_risk[k]);
        for (const key of ["surv", "std_err", "lower", "upper"]) close(`${key} at ${p.time}`, p[key], r[key][k], 1e-6);
      });
    });
  }

  // survdiff(Surv(time, status == 2) ~ edema > 0): a grouping column made from edema.
  const cells = (l) => l.split(",");
  const edema = header.split(",").indexOf('"edema"');
  const edemaAny = join(artifacts, "pbc-edema-any.csv");
  writeFileSync(edemaAny, [header + ',"edema_any"', ...rows.map((l) => `${l},${Number(cells(l)[edema]) > 0 ? 1 : 0}`)].join("\n") + "\n");
  await open(edemaAny);
  await fill({ "stats-event-value": "2", "stats-group": "edema_any", "stats-conf": "log" });
  await page.click("#stats-km");
  await idle();
  await check("the log-rank test of any edema equals survdiff", async () => {
    await noError();
    const km = JSON.parse((await download("#stats-download-km", "km-edema-any.json")).text);
    const r = ref.logrank_edema_any;
    close("log-rank, edema any", km.logrank.chisq, r.chisq, 1e-6, true);
    assert.equal(km.logrank.df, r.df);
    close("log-rank p", km.logrank.p, r.p, 1e-6, true);
    assert.deepEqual(km.groups.map((g) => g.events), r.observed);
  });

  await open(randomised);
  await fill({ "stats-event-value": "2", "stats-group": "", "stats-covariates": "age, edema, log(bili), log(albumin), log(protime)", "stats-bootstrap": "100000" });
  await check("a long bootstrap runs in the worker: the page stays responsive, shows progress and time left, and Cancel stops it", async () => {
    await page.click("#stats-fit");
    try {
      await page.waitForFunction(() => /of 100000, about \d+ s left/.test(document.querySelector("#stats-progress")?.textContent || ""), null, { timeout: 120000 });
      // The main thread answers at once while the refits run.
      const started = Date.now();
      for (let i = 0; i < 5; i++) await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      assert.ok(Date.now() - started < 2000, `the page took ${Date.now() - started} ms for five frames`);
      await page.click("#nav-patient");
      await page.waitForSelector("#view-patient:not([hidden])", { timeout: 5000 });
      await page.click("#nav-statistics");
      await page.waitForSelector("#view-statistics:not([hidden])", { timeout: 5000 });
      assert.ok(await page.isVisible("#stats-progress"), "the bootstrap goes on while another view is shown");
    } finally {
      // Whatever failed above, the refits stop here, so the checks after this one can run.
      if (!(await page.isVisible("#view-statistics"))) {
        await page.click("#nav-statistics");
        await page.waitForSelector("#view-statistics:not([hidden])", { timeout: 5000 });
      }
      if (await page.isVisible("#stats-cancel")) await page.click("#stats-cancel");
    }
    await idle();
    assert.match(await page.textContent("#stats-note"), /stopped\. Nothing else was lost/);
    assert.ok(await page.isVisible("#stats-columns table"), "the cohort is still there");
  });

  await fill({ "stats-bootstrap": "200" });
  await page.click("#stats-fit");
  await idle();
  await check("the Cox model equals coxph (Efron) on the 312 randomised patients, C equals concordance()", async () => {
    await noError();
    const fit = JSON.parse((await download("#stats-download-fit")).text);
    const r = ref.cox_efron;
    assert.equal(fit.n, 312);
    for (const c of fit.coefficients) {
      close(`coef ${c.name}`, c.coef, r.coef[c.name], 1e-6, true);
      close(`se ${c.name}`, c.se, r.se[c.name], 1e-6, true);
    }
    close("loglik", fit.loglik, r.loglik, 1e-6, true);
    close("loglik null", fit.loglik_null, r.loglik_null, 1e-6, true);
    close("LR test", fit.lr_test.chisq, r.lr_test, 1e-6, true);
    close("Wald test", fit.wald_test.chisq, r.wald_test, 1e-6, true);
    close("score test", fit.score_test.chisq, r.score_test, 1e-6, true);
    close("Harrell's C", fit.concordance.harrell, ref.concordance.harrell, 1e-6);
    close("Harrell's C se", fit.concordance.harrell_se, ref.concordance.harrell_se, 1e-6);
    // coxph(…, robust = TRUE)
    fit.coefficients.forEach((c, j) => close(`robust se ${c.name}`, c.robust_se, extra.cox_robust.efron.robust_se[j], 1e-6, true));
    const zph = extra.cox_zph.km;
    assert.deepEqual(fit.proportional_hazards.map((t) => t.term), zph.terms);
    fit.proportional_hazards.forEach((t, k) => {
      close(`cox.zph ${t.term} chisq`, t.test.chisq, zph.chisq[k], 1e-6);
      close(`cox.zph ${t.term} p`, t.test.p, zph.p[k], 1e-6);
    });
    assert.match(await page.textContent("#stats-zph"), /GLOBAL/);
    // plot(cox.zph(fit)): a panel per term, a dot per death.
    assert.equal(await page.locator("#stats-zph-plots figure").count(), 5);
    assert.equal(await page.locator("#stats-zph-plots figure").nth(2).locator("circle.residual").count(), 125);
    assert.match(await page.textContent("#stats-zph-plots figure >> nth=2"), /log\(bili\)/);
    await page.locator("#stats-zph-plots figure >> nth=2").screenshot({ path: join(artifacts, "e2e-statistics-zph.png") });
    assert.equal(fit.bootstrap.b, 200);
    assert.ok(fit.bootstrap.optimism.c > 0 && fit.bootstrap.optimism.c < 0.03, `optimism of C ${fit.bootstrap.optimism.c}`);
    assert.match(await page.textContent("#stats-bootstrap-table"), /Harrell's C/);
  });

  const efronModel = await download("#stats-download-model", "efron-312.sarcoscope-model.json");
  await fill({ "stats-ties": "breslow", "stats-bootstrap": "0" });
  await page.click("#stats-fit");
  await idle();
  await check("Breslow ties equal coxph(ties = \"breslow\")", async () => {
    await noError();
    const fit = JSON.parse((await download("#stats-download-fit", "cox-breslow.json")).text);
    const r = ref.cox_breslow;
    assert.equal(fit.ties, "breslow");
    for (const c of fit.coefficients) {
      close(`Breslow coef ${c.name}`, c.coef, r.coef[c.name], 1e-6, true);
      close(`Breslow se ${c.name}`, c.se, r.se[c.name], 1e-6, true);
    }
    for (const k of ["loglik_null", "loglik"]) close(`Breslow ${k}`, fit[k], r[k], 1e-6, true);
    for (const k of ["lr_test", "wald_test", "score_test"]) close(`Breslow ${k}`, fit[k].chisq, r[k], 1e-6, true);
    assert.equal(fit.iterations, r.iterations);
  });
  await fill({ "stats-ties": "efron" });

  await page.setInputFiles("#stats-model-file", efronModel.path);
  await page.waitForSelector("#stats-model");
  await fill({ "stats-horizons": "1826.25", "stats-centre": "apparent" });
  await page.click("#stats-validate");
  await idle();
  await check("the Efron model validated on its own cohort gives riskRegression::Score's apparent AUC and Brier at 5 years", async () => {
    await noError();
    const report = JSON.parse((await download("#stats-download-report", "report-apparent.json")).text);
    const f = report.figures;
    const r = ref.apparent_5y;
    close("apparent AUC", f.auc[0].auc, r.auc_ipcw, 1e-6);
    close("apparent Brier", f.brier[0].brier, r.brier_cox, 1e-6);
    close("apparent Brier, null model", f.brier[0].brier_null, r.brier_null, 1e-6);
    close("apparent Harrell's C", f.harrell_c, ref.concordance.harrell, 1e-6);
    // timeROC(iid = TRUE) and Score(se.fit = TRUE) at 5 years
    close("apparent AUC se", f.auc[0].se, extra.td_auc_timeROC.se[2], 1e-6, true);
    close("apparent Brier se", f.brier[0].se, extra.brier_riskRegression.se_cox[2], 1e-6, true);
    // Score(..., summary = "ibs") to 5 years
    close("apparent IBS", f.ibs.ibs, extra.ibs_5y.ibs_cox, 1e-6);
    close("apparent IBS, null", f.ibs.ibs_null, extra.ibs_5y.ibs_null_km, 1e-6);
    assert.match(await page.textContent("#stats-report-ibs"), /^0\.0679 \(0\.1209; 0\.438\)$/);
    // Deciles of predicted risk (log-log KM intervals), O:E, ICI (rcs3 smoother: 1e-4)
    const cal = extra.calibration_5y_apparent;
    cal.groups.forEach((g, k) => {
      const d = report.deciles[k];
      assert.equal(d.n.shown, g.n, `decile ${k + 1} size`);
      close(`decile ${k + 1} predicted`, d.predicted, g.mean_predicted_risk, 1e-6);
      close(`decile ${k + 1} observed`, d.observed, g.observed_risk_km, 1e-6);
      close(`decile ${k + 1} lower`, d.observed_lower, g.observed_lower, 1e-6);
      close(`decile ${k + 1} upper`, d.observed_upper, g.observed_upper, 1e-6);
    });
    close("apparent O:E", f.calibration[0].oe, cal.oe_ratio_5y, 1e-6);
    const ici = extra.ici_5y_apparent.rcs3;
    for (const [ours, key] of [[f.calibration[0].ici, "ICI"], [f.calibration[0].e50, "E50"], [f.calibration[0].e90, "E90"]]) close(`apparent ${key}`, ours, ici[key], 1e-4);
    // dcurves::dca(Surv(time, ev) ~ risk5, time = 1826.25, thresholds = seq(0.05, 0.5, 0.05))
    const dca = extra.decision_curve_5y.dcurves;
    f.net_benefit.forEach((nb, k) => {
      close(`net benefit at ${nb.threshold}`, nb.model, dca.model[k], 1e-6);
      close(`treat all at ${nb.threshold}`, nb.treat_all, dca.treat_all[k], 1e-6);
    });
    // and drawn: the model's curve and treat-all's, a row per threshold.
    assert.equal(await page.locator("#stats-decision-curve path.model").count(), 1);
    assert.equal(await page.locator("#stats-decision-curve path.treat-all").count(), 1);
    assert.equal(await page.locator("#stats-report-net-benefit tbody tr").count(), 10);
  });

  await open(arm1);
  await fill({ "stats-event-value": "2", "stats-covariates": "age, edema, log(bili), log(albumin), log(protime)", "stats-bootstrap": "0",
    "stats-horizons": "365.25, 1095.75, 1826.25", "stats-name": "pbc arm 1" });
  await page.click("#stats-fit");
  await idle();
  let modelPath;
  await check("the development centre's model file carries R's coefficients and baseline survival", async () => {
    await noError();
    const model = await download("#stats-download-model");
    modelPath = model.path;
    const m = JSON.parse(model.text);
    const d = extra.split_validation.development;
    assert.equal(m.development.n, d.n);
    m.names.forEach((name, j) => close(`published ${name}`, m.coefficients[j], d.coef[name], 1e-6, true));
    m.horizons.forEach((h, k) => close(`S0(${h.time})`, h.survival_uncentred, d.S0_uncentered.surv[k], 1e-9));
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
  });

  // The external centre: another cohort, the model file loaded back.
  await open(arm2);
  await fill({ "stats-event-value": "2", "stats-centre": "arm 2 (external)" });
  await page.setInputFiles("#stats-model-file", modelPath);
  await page.waitForSelector("#stats-model");
  await fill({ "stats-horizons": "1826.25" });
  await page.click("#stats-validate");
  await idle();
  let reportText;
  const reports = [];
  await check("the external validation equals R's split-sample validation", async () => {
    await noError();
    const sent = await download("#stats-download-report", "report-arm2.json");
    reportText = sent.text;
    reports.push(sent.path);
    const report = JSON.parse(reportText);
    const f = report.figures;
    const v = extra.split_validation.validation;
    assert.equal(f.n, v.n);
    assert.equal(f.events, v.events);
    for (const [ours, key] of [
      [f.harrell_c, "harrell_c"], [f.harrell_c_se, "harrell_c_se"],
      [f.uno_c, "uno_c_truncated_5y"], [f.uno_c_se, "uno_c_truncated_5y_se"],
      [f.calibration[0].slope, "calibration_slope"], [f.calibration[0].slope_se, "calibration_slope_se"],
      [f.calibration[0].oe, "oe_ratio_km_5y"], [f.calibration[0].oe_counts, "oe_ratio_counts_5y"],
      [f.auc[0].auc, "auc_5y_timeROC"], [f.brier[0].brier, "brier_5y"], [f.brier[0].brier_null, "brier_5y_null_km"], [f.brier[0].ipa, "ipa_5y"],
    ]) close(`validation ${key}`, ours, v[key], 1e-6);
    assert.equal(report.centre, "arm 2 (external)");
    assert.match(await page.textContent("#stats-report-c"), /^0\.8583 \(0\.0234\)$/);
    // The calibration plot: one point per tenth at the horizon (none suppressed: 15–16 patients each).
    assert.equal(await page.locator("#stats-calibration-plot circle").count(), 10);
    // and the smoothed calibration curve (Austin et al. 2020) across them.
    assert.equal(await page.locator("#stats-calibration-plot path.smooth").count(), 1);
    assert.equal(f.calibration[0].smooth.length, 40);
  });

  await check("the aggregate export holds no patient's row: no covariate vector, no excluded line", async () => {
    const report = JSON.parse(reportText);
    assert.deepEqual(report.figures.excluded, []);
    const numbers = new Set();
    const walk = (v) => { if (Array.isArray(v)) v.forEach(walk); else if (v && typeof v === "object") Object.values(v).forEach(walk); else if (typeof v === "number") numbers.add(v); };
    walk(report);
    const cols = header.split(",").map((c) => c.replaceAll('"', ""));
    const at = (name) => cols.indexOf(name);
    for (const line of readFileSync(arm2, "utf8").trim().split("\n").slice(1)) {
      const cells = line.split(",");
      const vector = ["age", "edema", "bili", "albumin", "protime"].map((c) => Number(cells[at(c)]));
      assert.ok(!vector.every((x) => numbers.has(x)), `patient ${cells[0]}'s covariates are all in the export`);
    }
  });

  await check("the report prints alone, to PDF", async () => {
    await page.emulateMedia({ media: "print" });
    try {
      assert.ok(await page.isVisible("#stats-report"));
      for (const hidden of ["#stats-cox-table", "#stats-columns", "header.top", "#stats-validate"]) {
        assert.ok(!(await page.isVisible(hidden)), `${hidden} prints`);
      }
    } finally {
      await page.emulateMedia({ media: "screen" });
    }
    const pdf = join(artifacts, "e2e-validation-report.pdf");
    await page.pdf({ path: pdf });
    assert.ok(readFileSync(pdf).length > 5000);
  });

  // Two more centres validate the same model file; the development centre pools all three.
  for (const [file, centre, name] of [[arm1, "arm 1 (development)", "report-arm1.json"], [randomised, "both arms", "report-312.json"]]) {
    await open(file);
    await fill({ "stats-centre": centre });
    await page.click("#stats-validate");
    await idle();
    reports.push((await download("#stats-download-report", name)).path);
  }
  await check("reports from three centres pool as the command line pools them; a file that is not a report is named", async () => {
    await page.setInputFiles("#stats-reports", [...reports, randomised]);
    await page.waitForSelector("#stats-synthesis");
    await page.waitForFunction(() => document.querySelectorAll("#stats-report-problems li").length === 1);
    assert.match(await page.textContent("#stats-report-problems"), /pbc-312\.csv: not a JSON file/);
    assert.equal(await page.locator("#stats-pooling-centres tbody tr").count(), 3);
    for (const id of ["#stats-pooled-c", "#stats-pooled-oe", "#stats-pooled-slope"]) {
      assert.equal(await page.locator(`${id} svg rect`).count(), 3, `${id}: one square per centre`);
    }
    const page_ = JSON.parse((await download("#stats-download-synthesis")).text);
    const cli = JSON.parse(execFileSync(sarcoscope, ["cohort", "pool", ...reports, "--json"], { encoding: "utf8" }));
    for (const key of ["c", "oe", "slope"]) {
      for (const f of ["estimate", "lower", "upper", "tau2"]) close(`pooled ${key} ${f}`, page_[key].Ok[f], cli[key].Ok[f], 1e-12);
      assert.equal(page_[key].Ok.k, 3);
    }
    const cs = page_.c.Ok.centres.map((c) => c.estimate);
    assert.ok(page_.c.Ok.estimate > Math.min(...cs) && page_.c.Ok.estimate < Math.max(...cs));
    assert.ok(page_.c.Ok.prediction[0] <= page_.c.Ok.lower, "the prediction interval is wider than the CI");
  });

  await check("a damaged model file is refused in words", async () => {
    const good = readFileSync(modelPath, "utf8");
    const damaged = join(artifacts, "damaged.sarcoscope-model.json");
    writeFileSync(damaged, good.replace(/"n": 158/, '"n": 159'));
    await page.setInputFiles("#stats-model-file", damaged);
    await page.waitForSelector("#stats-model-error");
    assert.match(await page.textContent("#stats-model-error"), /changed or damaged since it was made/);
    assert.ok(await page.isDisabled("#stats-validate"));
  });
  await page.screenshot({ path: join(artifacts, "e2e-statistics.png"), fullPage: true });

  await check("the Patient view gives the demo patient's risk under the shipped scores, and says what the study's model file needs", async () => {
    await page.click("#nav-patient");
    await page.waitForSelector("#view-patient:not([hidden])");
    await page.click("#empty-demo");
    await page.waitForFunction(() => /slice\(s\) loaded/.test(document.querySelector("#status")?.textContent || ""), null, { timeout: 180000 });
    await page.click("#tab-scores");
    const survival = Number((await page.textContent("#score-meld-survival")).match(/(\d+\.\d) %/)[1]);
    const meld = await page.textContent('#prediction-panel li[data-model^="MELD, 3-month"]');
    const risk = Number(meld.match(/risk of death by 90 days: (\d+\.\d) %/)[1]);
    assert.ok(Math.abs(risk - (100 - survival)) <= 0.11, `MELD risk ${risk} % vs the score panel's survival ${survival} %`);
    assert.match(meld, /no interval: the model carries no covariance/);
    assert.match(meld, /Published score, not this study's model: Wiesner R et al\./);
    const model = await page.textContent('#prediction-panel li[data-model="pbc arm 1"]');
    assert.match(model, /Not computed: needs age, edema, bili, albumin, protime\./);
    await page.screenshot({ path: join(artifacts, "e2e-patient-predictions.png") });
    await page.click("#nav-statistics");
    await page.waitForSelector("#view-statistics:not([hidden])");
  });

  await check("the statistics view never scrolls sideways, down to 683×384", async () => {
    for (const [w, h] of [[1366, 768], [683, 384]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(150);
      const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(sw <= cw, `at ${w}×${h} the page scrolls sideways (${sw} > ${cw})`);
    }
    await page.setViewportSize({ width: 1400, height: 1000 });
  });
} finally {
  await finish("statistics e2e");
}
