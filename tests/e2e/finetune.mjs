// End-to-end test of the segmentation model section of the Reader study view, in
// headless Chromium: readers' masks (PNG label maps named after their CT images, four
// slices 12 mm apart of the real example series) are compared with the automatic masks,
// then the model is fine-tuned on them in the page's worker (on the CPU, two folds of two
// steps: the path, not the gain). What must hold:
// - progress is shown step by step, and the figures "before" (the shipped model on each
//   fold's own masks) equal those of `sarcoscope train --labels` on the same folders;
// - the downloaded card names its start and its data (no file name), and its SHA-256 is
//   the downloaded weights';
// - "Use this model" makes every segmentation run it: the Patient view and the report name it (with
//   its weights' SHA-256), the panel with
//   "chosen in this browser", a reload keeps it, "Return to the shipped model" ends it;
// - a model file made by the command line can be chosen; a card with weights not its own
//   is refused in words and the model in use stays;
// - a run on WebGPU takes steps, and can be stopped, leaving the model in use as it was
//   (a whole run on SwiftShader's WebGPU gave the same "before" figures, in 6 min
//   rather than 2: measured once, not repeated here);
// - no request leaves the origin.
//
// Usage: node tests/e2e/finetune.mjs <base-url> <shared-dir> <artifacts-dir> <sarcoscope-cli>
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { start, loadedAndSegmented } from "./harness.mjs";

const [base, shared, artifacts, sarcoscope] = process.argv.slice(2);
const series = join(shared, "data/ct/totalseg-example/series-dicom");
const masks = join(artifacts, "finetune-masks");
const models = join(artifacts, "finetune-models");
for (const dir of [masks, models]) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
const run = (args) => execFileSync(sarcoscope, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
// The "readers' masks": Sarcoscope's own PNG exports (the file of slice k is slicek).
for (const k of [80, 84, 88, 92]) {
  const name = `slice${String(k).padStart(4, "0")}`;
  run(["segment", series, "--slice", String(k), "--mask-out", join(masks, `${name}.png`), "--device", "cpu"]);
}
run(["train", "--labels", masks, "--ct", series, "--folds", "2", "--steps", "2", "--device", "cpu",
  "--name", "cli-site", "--out", models, "--eval-phantoms", "1"]);
const cliCard = JSON.parse(readFileSync(join(models, "cli-site.json"), "utf8"));
const shipped = JSON.parse(readFileSync("models/sarcoscope-l3-unet.json", "utf8"));
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

const download = async (page, selector) => {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  return readFileSync(await file.path());
};
const inUse = (page) => page.textContent("#model-in-use");

const { page, check, finish } = await start(base);
try {
  await page.goto(`${base}#/reader`);
  await page.setInputFiles("#agree-ct", series);
  await page.setInputFiles("#agree-masks", masks);
  await page.click("#agree-run");
  await page.waitForFunction(() => /cases compared/.test(document.querySelector("#agree-status")?.textContent ?? ""),
    null, { timeout: 600_000 });
  await check("the four masks are placed and offered for fine-tuning", async () => {
    assert.match(await page.textContent("#agree-status"), /^4 cases compared, 0 not\./);
    assert.match(await page.textContent("#tune-cases"), /^4 readers' masks/);
    assert.match(await inUse(page), /The shipped model/);
  });

  await page.fill("#tune-name", "browser-site");
  await page.fill("#tune-folds", "2");
  await page.fill("#tune-steps", "2");
  await page.check("#tune-cpu");
  await page.click("#tune-start");
  await check("each step is shown while it trains", async () => {
    await page.waitForFunction(() => /fold 1 of 2, step \d of 2 on the CPU/.test(document.querySelector("#tune-step")?.textContent ?? ""),
      null, { timeout: 300_000, polling: 50 });
  });
  await page.waitForSelector("#tune-result", { timeout: 900_000 });
  await page.screenshot({ path: join(artifacts, "finetune.png"), fullPage: true });

  const card = JSON.parse((await download(page, "#tune-download-card")).toString("utf8"));
  const weights = await download(page, "#tune-download-weights");
  await check("the figures before fine-tuning equal the command line's, fold by fold", async () => {
    const cv = card.validation.site_cross_validation;
    const cli = cliCard.validation.site_cross_validation;
    assert.equal(cv.split, "along_body");
    assert.equal(cv.folds.length, 2);
    for (const [k, fold] of cv.folds.entries()) {
      // The same slices (the folds run along the body), numbered in each tool's reading order.
      assert.equal(fold.tested.length, cli.folds[k].tested.length);
      for (const tissue of Object.keys(cli.folds[k].before)) {
        const [page_, cli_] = [fold.before[tissue].dice, cli.folds[k].before[tissue].dice];
        assert.ok(Math.abs(page_ - cli_) < 0.002, `fold ${k + 1} ${tissue}: page ${page_}, CLI ${cli_}`);
        assert.ok(typeof fold.after[tissue].dice === "number", `fold ${k + 1} ${tissue} after`);
      }
    }
    const shown = await page.$$eval("#tune-figures tbody tr", (rows) => rows.map((r) => r.cells[0].textContent));
    assert.deepEqual(shown.sort(), Object.keys(cv.after).sort());
  });
  await check("the card names its start and data, and the weights are the ones it names", async () => {
    assert.equal(card.name, "browser-site");
    assert.equal(card.weights.sha256, sha256(weights));
    assert.equal(card.weights.bytes, weights.length);
    assert.ok(card.training.data.started_from.includes(shipped.weights.sha256));
    assert.equal(card.training.data.site.slices, 4);
    assert.match(card.training.log.device, /CPU/);
    assert.ok(!JSON.stringify(card).includes("slice00"), "the card names a file");
  });

  await page.click("#tune-use");
  await page.waitForFunction(() => /browser-site/.test(document.querySelector("#model-in-use")?.textContent ?? ""));
  await page.goto(`${base}#/patient`);
  await page.click("#load-demo");
  await loadedAndSegmented(page);
  await check("the Patient view runs the chosen model and says so", async () => {
    const path = await page.textContent("#segmentation-path");
    assert.match(path, new RegExp(`Model browser-site ${card.version.replace(/[.+]/g, "\\$&")} \\(chosen in this browser, not the shipped model\\), weights SHA-256 ${card.weights.sha256.slice(0, 12)}`));
  });
  await page.goto(`${base}#/report`);
  await check("the report names the chosen model and its weights' SHA-256", async () => {
    const qc = await page.textContent("#report-qc");
    assert.ok(qc.includes(`Segmented by browser-site ${card.version} (weights SHA-256 ${card.weights.sha256.slice(0, 12)}…)`), qc);
  });
  // This run trains on WebGPU (SwiftShader here), from the model now in use. It comes
  // last before the reload: a step in flight on SwiftShader when stopped kept the next
  // segmentation waiting a minute, where the reload ends it.
  await page.goto(`${base}#/reader`);
  await page.fill("#tune-steps", "500");
  await page.uncheck("#tune-cpu");
  await page.click("#tune-start");
  await check("fine-tuning runs on WebGPU where the browser has it", async () => {
    await page.waitForFunction(() => /step \d+ of 500 on WebGPU/.test(document.querySelector("#tune-step")?.textContent ?? ""),
      null, { timeout: 300_000, polling: 50 });
  });
  await page.click("#tune-stop");
  await check("a run can be stopped; the model in use is unchanged", async () => {
    assert.match(await page.textContent("#tune-status"), /stopped; nothing was kept/);
    assert.match(await inUse(page), /browser-site/);
    assert.equal(await page.isDisabled("#tune-start"), false);
  });

  await page.reload();
  await page.goto(`${base}#/reader`);
  await check("a reload keeps the chosen model", async () => {
    await page.waitForFunction(() => /browser-site .*chosen in this browser/.test(document.querySelector("#model-in-use")?.textContent ?? ""),
      null, { timeout: 20_000 });
  });

  const cliFiles = [join(models, "cli-site.json"), join(models, "cli-site.weights")];
  const mismatched = join(artifacts, "finetune-mismatched");
  rmSync(mismatched, { recursive: true, force: true });
  mkdirSync(mismatched);
  writeFileSync(join(mismatched, "cli-site.json"), readFileSync(cliFiles[0]));
  writeFileSync(join(mismatched, "browser-site.weights"), weights);
  await page.setInputFiles("#model-files", [join(mismatched, "cli-site.json"), join(mismatched, "browser-site.weights")]);
  await check("weights that are not the card's are refused, and the model in use stays", async () => {
    await page.waitForFunction(() => /not chosen/.test(document.querySelector("#model-said")?.textContent ?? ""));
    assert.match(await page.textContent("#model-said"), /the weights are not the ones the card names/);
    assert.match(await inUse(page), /browser-site/);
  });
  await page.setInputFiles("#model-files", cliFiles);
  await check("a model made by sarcoscope train --labels can be chosen", async () => {
    await page.waitForFunction(() => /cli-site/.test(document.querySelector("#model-in-use")?.textContent ?? ""));
    assert.match(await page.textContent("#model-said"), new RegExp(`cli-site .*weights SHA-256 ${cliCard.weights.sha256.slice(0, 12)}`));
  });

  await page.click("#model-shipped");
  await check("the shipped model can be restored", async () => {
    await page.waitForFunction(() => /shipped model is used from now on/.test(document.querySelector("#model-said")?.textContent ?? ""));
    assert.match(await inUse(page), /The shipped model/);
    await page.reload();
    await page.goto(`${base}#/reader`);
    await page.waitForTimeout(1000);
    assert.match(await inUse(page), /The shipped model/);
  });
} catch (e) {
  await check("the fine-tuning run completes", async () => { throw e; });
}
await finish("finetune");
