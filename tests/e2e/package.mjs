// The release archive as a hospital would host it: unpacked, its checksums verified,
// site/ served by Debian's nginx with the archive's own nginx.conf at a sub-path
// (/tools/sarcoscope/), and the demo path run in Chromium against it — offline use
// included, and the headers the snippet promises checked on the wire.
// Usage: node tests/e2e/package.mjs ARCHIVE ARTIFACTS
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, demoPath } from "./harness.mjs";

const [archive, artifacts] = process.argv.slice(2);
const root = mkdtempSync(join(tmpdir(), "sarcoscope-package-"));
execFileSync("tar", ["-xzf", archive, "-C", root]);
const [name] = readdirSync(root);
const unpacked = join(root, name);
// nginx's workers read the files as an unprivileged user.
execFileSync("chmod", ["-R", "a+rX", root]);
chmodSync(root, 0o755);

const free = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const port = await free();
const snippet = readFileSync(join(unpacked, "nginx.conf"), "utf8")
  .replaceAll("/sarcoscope/", "/tools/sarcoscope/")
  .replaceAll("/srv/tools/sarcoscope/site/", join(unpacked, "site") + "/");
const logs = join(root, "nginx");
execFileSync("mkdir", ["-p", logs]);
writeFileSync(join(root, "nginx-test.conf"), `
daemon off;
worker_processes 1;
pid ${logs}/nginx.pid;
error_log ${logs}/error.log;
events {}
http {
  access_log ${logs}/access.log;
  client_body_temp_path ${logs}/body; proxy_temp_path ${logs}/proxy; fastcgi_temp_path ${logs}/fastcgi;
  uwsgi_temp_path ${logs}/uwsgi; scgi_temp_path ${logs}/scgi;
  server {
    listen 127.0.0.1:${port};
${snippet}
  }
}
`);
const nginx = spawn("/usr/sbin/nginx", ["-c", join(root, "nginx-test.conf"), "-p", root]);
let nginxSaid = "";
nginx.stderr.on("data", (d) => { nginxSaid += d; });
const base = `http://127.0.0.1:${port}/tools/sarcoscope/`;
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(base)).ok) break; } catch { /* not yet listening */ }
  await new Promise((r) => setTimeout(r, 100));
}

const { page, check, finish } = await start(base, { serviceWorkers: "allow" });
try {
  await check("the archive holds the site, its checksums, the model card and DEPLOY.md", async () => {
    for (const f of ["SHA256SUMS", "DEPLOY.md", "MODEL-CARD.md", "sarcoscope-l3-unet.json", "nginx.conf", "apache.conf", "site/index.html", "site/sw.js"]) {
      assert.ok(existsSync(join(unpacked, f)), f);
    }
    const verified = execFileSync("sha256sum", ["-c", "../SHA256SUMS"], { cwd: join(unpacked, "site") }).toString();
    const lines = verified.trim().split("\n");
    assert.ok(lines.length >= 15 && lines.every((l) => / OK$/.test(l)), verified);
  });
  await check("nginx with the archive's snippet sends wasm as application/wasm and the page's policy", async () => {
    const wasm = await fetch(base + "sarcoscope-web_bg.wasm");
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    const csp = wasm.headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-[^']+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    const html = await (await fetch(base)).text();
    assert.ok(csp.startsWith(/http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)[1]), "the header is the page's own policy");
    assert.equal(wasm.headers.get("x-content-type-options"), "nosniff");
    assert.equal(wasm.headers.get("cache-control"), "no-cache");
  });
  await page.goto(base);
  await check("from the sub-path, the app loads and is kept for offline use", async () => {
    await page.waitForSelector("#load-demo", { timeout: 60000 });
    await page.waitForFunction(() => /Available offline/.test(document.querySelector("#offline-state")?.textContent || ""), null, { timeout: 120000 });
  });
  await demoPath(page, check, "packaged, from a sub-path");
  await page.screenshot({ path: join(artifacts, "e2e-package.png"), fullPage: true });
  await check("every request stayed under the sub-path", async () => {
    const log = readFileSync(join(logs, "access.log"), "utf8").trim().split("\n");
    const outside = log.filter((l) => !/"(GET|HEAD) \/tools\/sarcoscope\//.test(l));
    assert.deepEqual(outside, []);
  });
} finally {
  nginx.kill();
  if (nginxSaid) console.log(nginxSaid);
}
rmSync(root, { recursive: true, force: true });
await finish("package e2e");
