// The release archive as a hospital would host it: unpacked, its checksums verified,
// site/ served by Debian's nginx or Apache with the archive's own snippet (nginx.conf,
// apache.conf) at a sub-path (/tools/sarcoscope/), and the demo path run in Chromium
// against it — offline use included, and the headers the snippet promises checked on
// the wire.
// Usage: node tests/e2e/package.mjs ARCHIVE ARTIFACTS [nginx|apache]
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, demoPath } from "./harness.mjs";

const [archive, artifacts, server = "nginx"] = process.argv.slice(2);
const root = mkdtempSync(join(tmpdir(), "sarcoscope-package-"));
execFileSync("tar", ["-xzf", archive, "-C", root]);
const [name] = readdirSync(root);
const unpacked = join(root, name);
// The server's workers read the files as an unprivileged user.
execFileSync("chmod", ["-R", "a+rX", root]);
chmodSync(root, 0o755);

const free = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const port = await free();
// The snippet as DEPLOY.md says to use it: its path and folder changed to ours.
const snippet = (file) => readFileSync(join(unpacked, file), "utf8")
  .replaceAll("/sarcoscope", "/tools/sarcoscope")
  .replaceAll("/srv/tools/sarcoscope/site/", join(unpacked, "site") + "/");
const logs = join(root, "logs");
execFileSync("mkdir", ["-p", logs]);
// Each server's smallest configuration around the archive's snippet, and its command.
const servers = {
  nginx: () => {
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
${snippet("nginx.conf")}
  }
}
`);
    return spawn("/usr/sbin/nginx", ["-c", join(root, "nginx-test.conf"), "-p", root]);
  },
  // Debian's apache2 with only the modules the snippet names (and those any site needs);
  // log_config and unixd are built in.
  apache: () => {
    const modules = "/usr/lib/apache2/modules";
    const load = ["mpm_event", "authz_core", "mime", "headers", "alias", "dir"]
      .map((m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`).join("\n");
    execFileSync("mkdir", ["-p", join(root, "empty")]);
    writeFileSync(join(root, "apache-test.conf"), `
ServerName localhost
Listen 127.0.0.1:${port}
PidFile ${logs}/apache.pid
DefaultRuntimeDir ${logs}
ErrorLog ${logs}/error.log
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog ${logs}/access.log common
${load}
User www-data
Group www-data
TypesConfig /etc/mime.types
DocumentRoot ${join(root, "empty")}
${snippet("apache.conf")}
`);
    return spawn("/usr/sbin/apache2", ["-f", join(root, "apache-test.conf"), "-DFOREGROUND"]);
  },
};
assert.ok(servers[server], `no such server: ${server}`);
const serving = servers[server]();
let serverSaid = "";
serving.stdout.on("data", (d) => { serverSaid += d; });
serving.stderr.on("data", (d) => { serverSaid += d; });
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
  await check(`${server} with the archive's snippet sends wasm as application/wasm and the page's policy`, async () => {
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
  await check(`${server}: the address without its last slash leads to the app`, async () => {
    const bare = await fetch(base.replace(/\/$/, ""), { redirect: "manual" });
    assert.equal(bare.status, 301);
    assert.equal(new URL(bare.headers.get("location"), base).href, base);
  });
  await page.goto(base);
  await check("from the sub-path, the app loads and is kept for offline use", async () => {
    await page.waitForSelector("#load-demo", { timeout: 60000 });
    await page.waitForFunction(() => /Available offline/.test(document.querySelector("#offline-state")?.textContent || ""), null, { timeout: 120000 });
  });
  await demoPath(page, check, `packaged, from a sub-path of ${server}`);
  await page.screenshot({ path: join(artifacts, `e2e-package-${server}.png`), fullPage: true });
  await check("every request stayed under the sub-path", async () => {
    const log = readFileSync(join(logs, "access.log"), "utf8").trim().split("\n");
    // The address without its last slash (asked for above) is under it too.
    const outside = log.filter((l) => !/"(GET|HEAD) \/tools\/sarcoscope[/ ]/.test(l));
    assert.deepEqual(outside, []);
  });
} finally {
  serving.kill();
  if (serverSaid) console.log(serverSaid);
  const errors = join(logs, "error.log");
  if (existsSync(errors) && /\[(\w+:)?error\]/.test(readFileSync(errors, "utf8"))) console.log(readFileSync(errors, "utf8"));
}
rmSync(root, { recursive: true, force: true });
await finish(`package e2e (${server})`);
