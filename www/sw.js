// Sarcoscope's service worker: after one visit the whole app works with the network
// off. Everything the app is made of (the page, its three WebAssembly modules and their
// loaders, the style sheet and the model files) is kept in one cache named after this
// build; the build writes the list and the version below (scripts/seal-offline), so a
// new build is a new service worker, which the page offers as "new version — reload".
// Only this origin's own files are ever cached or served; anything else goes to the
// network untouched (and the page's Content-Security-Policy forbids other origins).
const VERSION = "__VERSION__";
const FILES = __FILES__;
const CACHE = "sarcoscope-app-" + VERSION;
const PREFIX = "sarcoscope-app-";

// Resolved against this script's own address, so the app works from any path.
const scope = new URL("./", self.location.href);
const urls = new Set(FILES.map((f) => new URL(f, scope).href));

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll([...urls].map((u) => new Request(u, { cache: "reload" }))))
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

// The page asks a waiting worker to take over when its user chooses to reload.
self.addEventListener("message", (event) => {
  if (event.data === "take-over") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin) return;
  // The page itself under any of its addresses (the folder, index.html, a #/route).
  let key = url.origin + url.pathname;
  if (request.mode === "navigate" && key === scope.href) key = new URL("index.html", scope).href;
  if (!urls.has(key)) return;
  event.respondWith(
    caches.open(CACHE).then((cache) => cache.match(key).then((hit) => hit || fetch(request)))
  );
});
