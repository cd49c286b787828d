// Registers the service worker (sw.js, beside the page) and reports what it means for
// the person using the page: whether the app is kept for offline use, and when a new
// version is waiting. `report(state, detail)` gets "unsupported", "installing",
// "ready", "update" or "failed".
export function watchOffline(report) {
  if (!("serviceWorker" in navigator)) {
    report("unsupported", "this browser or this address (it must be https or this computer) cannot keep the app");
    return;
  }
  const container = navigator.serviceWorker;
  const waitFor = (worker, registration) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") report(container.controller ? "update" : "ready", "");
      if (worker.state === "redundant" && !registration.active) report("failed", "the app's files could not all be kept");
    });
  };
  container
    .register("./sw.js")
    .then((registration) => {
      if (registration.waiting && container.controller) report("update", "");
      else if (registration.active) report("ready", "");
      else report("installing", "");
      if (registration.installing) waitFor(registration.installing, registration);
      registration.addEventListener("updatefound", () => waitFor(registration.installing, registration));
    })
    .catch((error) => report("failed", String(error && error.message ? error.message : error)));
}

// Lets the waiting version take over, then reloads the page into it.
export function applyUpdate() {
  const container = navigator.serviceWorker;
  let reloaded = false;
  container.addEventListener("controllerchange", () => {
    if (!reloaded) {
      reloaded = true;
      location.reload();
    }
  });
  container.getRegistration().then((registration) => {
    if (registration && registration.waiting) registration.waiting.postMessage("take-over");
    else location.reload();
  });
}
