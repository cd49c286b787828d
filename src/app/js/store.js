// The browser's own database (IndexedDB) for work in progress: the reader's mask
// corrections and the case form, so that a reload loses nothing. It lives in this
// browser profile only; nothing is sent anywhere. Each value is
// { json: string, labels: Uint8Array | null }, keyed by series.
const DB = "sarcoscope";
const STORE = "cases";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("another tab holds this browser's storage"));
  });
}

async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result ?? null);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export function saveCase(key, value) {
  return run("readwrite", (store) => store.put(value, key));
}

export function loadCase(key) {
  return run("readonly", (store) => store.get(key));
}

// A series opened waits for its record (a level set by hand decides which slice is
// segmented), so a storage that does not answer must not hold it for long: past
// LOAD_WAIT_MS this resolves with { later } (the read, still under way) and the series
// goes on without the record, which is taken when it comes. Else with { value }.
const LOAD_WAIT_MS = 5000;

export function loadCaseOrLater(key) {
  const read = loadCase(key);
  const late = new Promise((resolve) => setTimeout(() => resolve({ later: read }), LOAD_WAIT_MS));
  return Promise.race([read.then((value) => ({ value })), late]);
}

export function forgetCase(key) {
  return run("readwrite", (store) => store.delete(key));
}
