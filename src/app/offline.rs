//! Whether this browser keeps the app for use without a network (a service worker,
//! `www/sw.js`), said in the top bar: a hospital's network drops, and a page that then
//! silently fails to load loses a clinic's afternoon. A new build waits until its user
//! chooses to reload, so nobody's work is swapped out from under them.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/offline.js")]
extern "C" {
    #[wasm_bindgen(js_name = watchOffline)]
    fn watch_offline(report: &Closure<dyn FnMut(String, String)>);
    #[wasm_bindgen(js_name = applyUpdate)]
    fn apply_update();
}

#[derive(Clone, Debug, PartialEq)]
enum Offline {
    Installing,
    Ready,
    Update,
    Unavailable(String),
}

#[component]
pub fn OfflineNotice() -> impl IntoView {
    let state = RwSignal::new(Offline::Installing);
    let report = Closure::<dyn FnMut(String, String)>::new(move |kind: String, detail: String| {
        state.set(match kind.as_str() {
            "ready" => Offline::Ready,
            "update" => Offline::Update,
            "installing" => Offline::Installing,
            "unsupported" => Offline::Unavailable(format!("Not kept for offline use: {detail}.")),
            _ => Offline::Unavailable(format!("Could not be kept for offline use: {detail}.")),
        })
    });
    watch_offline(&report);
    // The service worker reports for the page's whole life.
    report.forget();
    move || {
        match state.get() {
        Offline::Installing => view! {
            <p class="offline" id="offline-state">"Keeping the app in this browser for offline use…"</p>
        }
        .into_any(),
        Offline::Ready => view! {
            <p class="offline" id="offline-state" title="The app's files are kept in this browser: it opens and works without a network.">
                "Available offline"
            </p>
        }
        .into_any(),
        Offline::Update => view! {
            <p class="offline update" id="offline-state" role="status">
                "A new version is available. "
                <button id="apply-update" class="tool" on:click=move |_| apply_update()>"Reload"</button>
            </p>
        }
        .into_any(),
        Offline::Unavailable(why) => view! { <p class="offline" id="offline-state">{why}</p> }.into_any(),
    }
    }
}
