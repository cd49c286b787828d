// This browser's own disk for this site (the origin-private file system): a cohort's
// masks are written there study by study, so that the ZIP of every mask is made of
// files on disk, not of memory. No other site sees it; nothing is sent anywhere.

async function folder(name, create) {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(name, { create });
}

export async function keepFile(dir, name, bytes) {
  const handle = await (await folder(dir, true)).getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  try {
    await writable.write(bytes);
  } finally {
    await writable.close();
  }
}

// The folder's files (File objects, read from disk when used), by name.
export async function listFiles(dir) {
  let d;
  try {
    d = await folder(dir, false);
  } catch (e) {
    if (e && e.name === "NotFoundError") return [];
    throw e;
  }
  const files = [];
  for await (const handle of d.values()) {
    if (handle.kind === "file") files.push(await handle.getFile());
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function forgetFolder(dir) {
  const root = await navigator.storage.getDirectory();
  try {
    await root.removeEntry(dir, { recursive: true });
  } catch (e) {
    if (!e || e.name !== "NotFoundError") throw e;
  }
}

// The browser's folder picker (Chromium): its handle can be kept (IndexedDB) and read
// again after a reload, once the user allows it again.
export function canPickFolder() {
  return typeof window.showDirectoryPicker === "function";
}

export async function pickFolder() {
  return window.showDirectoryPicker({ id: "sarcoscope-cohort", mode: "read" });
}

// Whether the kept folder may be read; asks the user when the browser wants it asked
// (a click must have led here).
export async function mayRead(handle) {
  if (typeof handle.queryPermission !== "function") return true;
  const mode = { mode: "read" };
  if ((await handle.queryPermission(mode)) === "granted") return true;
  return (await handle.requestPermission(mode)) === "granted";
}

// Every file below the folder, with its path below it ("a/b.dcm"), as the folder
// input names them.
export async function filesOf(handle) {
  const files = [];
  const names = [];
  async function walk(dir, prefix) {
    for await (const entry of dir.values()) {
      const path = prefix + entry.name;
      if (entry.kind === "file") {
        files.push(await entry.getFile());
        names.push(path);
      } else {
        await walk(entry, path + "/");
      }
    }
  }
  await walk(handle, "");
  return { files, names };
}
