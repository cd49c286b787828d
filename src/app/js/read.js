// Reads every file whole, all at once, so that the browser overlaps the reads (measured
// in Chromium on 112 small files: 46–55 ms, where handing the files to a worker cost
// 26–43 ms before the worker's own read of 36–44 ms). Resolves to an array of
// ArrayBuffer, null where a file could not be read (moved or deleted since it was
// chosen). Nothing here leaves the browser.
export function readAll(files) {
  return Promise.all(files.map((f) => f.arrayBuffer().catch(() => null)));
}
