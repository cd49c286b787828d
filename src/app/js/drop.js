// Collects every file of a drag-and-drop, descending into dropped folders (the
// File and Directory Entries API has no synchronous form, hence this small helper).
// Resolves to [[File, relativePath], ...]. Nothing here leaves the browser.
export async function filesFromDrop(dataTransfer) {
  const entries = [];
  for (const item of dataTransfer.items) {
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else if (item.kind === "file") {
      const f = item.getAsFile();
      if (f) entries.push({ isFile: true, file: (ok) => ok(f), fullPath: f.name });
    }
  }
  const out = [];
  async function walk(entry) {
    if (entry.isFile) {
      const file = await new Promise((ok, fail) => entry.file(ok, fail));
      out.push([file, entry.fullPath.replace(/^\//, "")]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  }
  for (const entry of entries) await walk(entry);
  return out;
}
