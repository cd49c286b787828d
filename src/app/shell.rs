//! The app's shell: one view per workflow of the study, reached from the top bar by a
//! hash route (`#/patient`, `#/report`, `#/cohort`, `#/statistics`, `#/reader`), so that
//! links and reloads work from any path of any server, which need not rewrite URLs.
//! Every view stays mounted while another is shown, so moving between them loses
//! nothing; the keyboard shortcut sheet and the problems drawer live here too.

use leptos::prelude::*;

use super::offline::OfflineNotice;
use super::workspace::Workspace;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Patient,
    Report,
    Cohort,
    Statistics,
    Reader,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::Patient,
        Route::Report,
        Route::Cohort,
        Route::Statistics,
        Route::Reader,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Route::Patient => "patient",
            Route::Report => "report",
            Route::Cohort => "cohort",
            Route::Statistics => "statistics",
            Route::Reader => "reader",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Route::Patient => "Patient",
            Route::Report => "Report",
            Route::Cohort => "Cohort",
            Route::Statistics => "Statistics",
            Route::Reader => "Reader study",
        }
    }

    /// The route a location hash names; anything else is the patient view.
    pub fn from_hash(hash: &str) -> Route {
        let key = hash.trim_start_matches('#').trim_start_matches('/');
        Route::ALL
            .into_iter()
            .find(|r| r.key() == key)
            .unwrap_or(Route::Patient)
    }
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Shows `route`'s view, as a click on its link would (the hash changes, so back and
/// forward move between the views).
pub fn go(route: Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&format!("/{}", route.key()));
    }
}

/// The route shown, following the location's hash (links, back and forward, reloads).
pub fn route_signal() -> RwSignal<Route> {
    let route = RwSignal::new(Route::from_hash(&current_hash()));
    // Kept for the page's life (the handle only removes the listener when asked).
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        route.set(Route::from_hash(&current_hash()));
    });
    route
}

/// The top bar: the views, the privacy promise, problems and the shortcut sheet.
#[component]
pub fn TopBar(
    ws: Workspace,
    route: RwSignal<Route>,
    drawer: RwSignal<bool>,
    shortcuts: RwSignal<bool>,
) -> impl IntoView {
    let problems = ws.scan.problems;
    view! {
        <header class="top">
            <h1>"Sarcoscope"</h1>
            <nav class="views" aria-label="Views">
                {Route::ALL
                    .into_iter()
                    .map(|r| {
                        view! {
                            <a
                                id=format!("nav-{}", r.key())
                                href=format!("#/{}", r.key())
                                class:active=move || route.get() == r
                                aria-current=move || (route.get() == r).then_some("page")
                            >
                                {r.title()}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <p class="privacy" id="privacy-note">
                "Your images stay in this browser: nothing is uploaded, nothing leaves this computer."
            </p>
            <OfflineNotice />
            <button
                id="open-problems"
                class="tool"
                class:has-problems=move || problems.with(|p| !p.is_empty())
                on:click=move |_| drawer.update(|d| *d = !*d)
            >
                {move || format!("Problems ({}) and decoding check", problems.with(Vec::len))}
            </button>
            <button id="open-shortcuts" class="tool" title="Keyboard shortcuts (?)" on:click=move |_| shortcuts.set(true)>
                "?"
            </button>
        </header>
    }
}

/// The keyboard shortcuts, as a sheet over the page (`?` opens it, Escape closes it).
#[component]
pub fn ShortcutSheet(open: RwSignal<bool>) -> impl IntoView {
    const KEYS: [(&str, &str); 10] = [
        ("Wheel, ↑ / ↓", "previous / next slice"),
        ("Page Up / Page Down", "ten slices"),
        ("Shift + ↑ / ↓", "move the L3 (measurement) slice"),
        (
            "Drag on the image",
            "window / level (or paint, when correcting)",
        ),
        ("Click on the image", "move the sagittal and coronal planes"),
        ("Click on sagittal / coronal", "go to that slice"),
        ("Ctrl + Z / Ctrl + Y", "undo / redo a correction"),
        (
            "Alt + 1 … 4",
            "Muscle and fat, Patient and labs, Scores, Eligibility",
        ),
        ("?", "this sheet"),
        ("Escape", "close this sheet or the problems drawer"),
    ];
    view! {
        <div class="sheet" id="shortcuts" role="dialog" aria-label="Keyboard shortcuts" hidden=move || !open.get()>
            <div class="sheet-body">
                <h2>"Keyboard shortcuts"</h2>
                <table>
                    <tbody>
                        {KEYS.into_iter().map(|(k, what)| view! { <tr><td><kbd>{k}</kbd></td><td>{what}</td></tr> }).collect_view()}
                    </tbody>
                </table>
                <button id="close-shortcuts" on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </div>
    }
}
