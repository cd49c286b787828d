//! The page: loading, the series list, the panels around the viewer, the per-file
//! problems list and the decoding check. It builds the [`Workspace`] once and hands it
//! to every view.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DataTransfer, DragEvent, File, HtmlInputElement};

use super::body_panel::BodyPanel;
use super::case;
use super::cohort::{Cohort, CohortView, ReviewBar};
use super::correction::CorrectionPanel;
use super::download::save_text;
use super::facts_panel::FactsPanel;
use super::level_panel::LevelPanel;
use super::prediction_panel::PredictionPanel;
use super::reader::{Agreement, ReaderBar, ReaderStudyState, ReaderView};
use super::report_panel::ReportPanel;
use super::scores_panel::{EligibilityPanel, LabsPanel, ScoresPanel};
use super::shell::{route_signal, Route, ShortcutSheet, TopBar};
use super::statistics::{Statistics, StatisticsView};
use super::store;
use super::summary::SummaryStrip;
use super::tissue_panel::SegmentationPanel;
use super::viewer::Viewer;
use super::workspace::Workspace;
use sarcoscope::ingest::SeriesAt;

#[wasm_bindgen(module = "/js/drop.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = filesFromDrop)]
    async fn files_from_drop(data: DataTransfer) -> Result<JsValue, JsValue>;
}

/// The tabs of the patient view's right-hand column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Muscle,
    PatientLabs,
    Scores,
    Eligibility,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Muscle, Tab::PatientLabs, Tab::Scores, Tab::Eligibility];

    fn key(self) -> &'static str {
        match self {
            Tab::Muscle => "muscle",
            Tab::PatientLabs => "patient",
            Tab::Scores => "scores",
            Tab::Eligibility => "eligibility",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Muscle => "Muscle and fat",
            Tab::PatientLabs => "Patient and labs",
            Tab::Scores => "Scores",
            Tab::Eligibility => "Eligibility",
        }
    }
}

/// Whether a key press belongs to a form field (then it is typing, not a shortcut).
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
}

#[component]
pub fn App() -> impl IntoView {
    let ws = Workspace::new();
    store::install(ws);
    let composition = Memo::new(move |_| case::composition(ws));
    // One report for every panel, the printout and the exports.
    let current = Memo::new(move |_| case::report(ws, composition));
    let route = route_signal();
    let stats = Statistics::new();
    let cohort = Cohort::new(ws.model);
    let agreement = Agreement::new(ws.model);
    let reading = ReaderStudyState::new();
    let drawer = RwSignal::new(false);
    let shortcuts = RwSignal::new(false);
    let tab = RwSignal::new(Tab::Muscle);
    // Kept for the page's life (the handle only removes the listener when asked).
    let _ = window_event_listener(leptos::ev::keydown, move |ev| match ev.key().as_str() {
        "Escape" => {
            shortcuts.set(false);
            drawer.set(false);
        }
        "?" if !typing(&ev) => shortcuts.set(true),
        digit if ev.alt_key() => {
            let chosen = digit
                .parse::<usize>()
                .ok()
                .and_then(|n| Tab::ALL.get(n.wrapping_sub(1)));
            if let Some(&t) = chosen {
                tab.set(t);
                ev.prevent_default();
            }
        }
        _ => {}
    });
    let on = move |r: Route| move || route.get() != r;
    view! {
        <TopBar ws=ws route=route drawer=drawer shortcuts=shortcuts/>
        // The drawer opens over the views, never over the top bar (which wraps onto more
        // lines in a narrow window): both sit in this stage, under the bar.
        <div class="stage">
        <main>
            <div class="view patient" id="view-patient" hidden=on(Route::Patient)>
                <aside class="left">
                    <Loader ws=ws/>
                    <SeriesList ws=ws/>
                    <LevelPanel ws=ws/>
                </aside>
                <div class="centre">
                    <ReviewBar ws=ws cohort=cohort/>
                    <ReaderBar ws=ws study=reading/>
                    <EmptyPatient ws=ws/>
                    <Viewer ws=ws/>
                </div>
                <aside class="right">
                    <SummaryStrip current=current/>
                    <div class="tabs" role="tablist">
                        {Tab::ALL.into_iter().map(|t| view! {
                            <button
                                role="tab"
                                id=format!("tab-{}", t.key())
                                class:active=move || tab.get() == t
                                aria-selected=move || (tab.get() == t).to_string()
                                on:click=move |_| tab.set(t)
                            >
                                {t.title()}
                            </button>
                        }).collect_view()}
                    </div>
                    // A scrolling region: in the Tab order, so the keyboard scrolls it too.
                    <div class="tab-body" tabindex="0" role="region" aria-label="Measurements">
                        <div class="tab-panel" id="tab-panel-muscle" hidden=move || tab.get() != Tab::Muscle>
                            <SegmentationPanel ws=ws current=current/>
                            <BodyPanel case=ws.case current=current/>
                            <CorrectionPanel ws=ws/>
                        </div>
                        <div class="tab-panel" id="tab-panel-patient" hidden=move || tab.get() != Tab::PatientLabs>
                            <FactsPanel ws=ws/>
                            <LabsPanel case=ws.case/>
                        </div>
                        <div class="tab-panel" id="tab-panel-scores" hidden=move || tab.get() != Tab::Scores>
                            <ScoresPanel current=current/>
                            <PredictionPanel current=current models=stats.state.models/>
                        </div>
                        <div class="tab-panel" id="tab-panel-eligibility" hidden=move || tab.get() != Tab::Eligibility>
                            <EligibilityPanel case=ws.case current=current/>
                        </div>
                    </div>
                </aside>
            </div>
            <div class="view report-view" id="view-report" hidden=on(Route::Report)>
                <ReportPanel ws=ws current=current/>
            </div>
            <CohortView cohort=cohort ws=ws stats=stats shown=route/>
            <StatisticsView stats=stats shown=route/>
            <ReaderView agreement=agreement ws=ws study=reading shown=route/>
        </main>
        <aside class="drawer" id="drawer" hidden=move || !drawer.get()>
            <button class="close" id="close-drawer" on:click=move |_| drawer.set(false)>"Close"</button>
            <Problems ws=ws/>
            <DecodingCheck ws=ws/>
        </aside>
        </div>
        <ShortcutSheet open=shortcuts/>
    }
}

/// What to do first, while no series is open.
#[component]
fn EmptyPatient(ws: Workspace) -> impl IntoView {
    let empty = move || ws.scan.loaded.with(Option::is_none);
    view! {
        <section class="empty" id="patient-empty" hidden=move || !empty()>
            <h2>"No study open"</h2>
            <p>
                "Drop a patient's abdominal CT folder on the box at the left, or choose a folder or files there. "
                "Everything is read in this browser; nothing is uploaded."
            </p>
            <p>
                <button class="button" id="empty-demo" on:click=move |_| ws.decoder.load_demo()>"Load the demo case"</button>
                " — a synthetic CT this page makes itself, read exactly like your own files."
            </p>
            <p class="hint">{move || ws.scan.status.get()}</p>
        </section>
    }
}

fn file_list(input: &HtmlInputElement) -> (Vec<File>, Vec<String>) {
    let mut files = Vec::new();
    let mut names = Vec::new();
    if let Some(list) = input.files() {
        for i in 0..list.length() {
            if let Some(f) = list.get(i) {
                let path = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
                    .ok()
                    .and_then(|p| p.as_string())
                    .unwrap_or_default();
                names.push(if path.is_empty() { f.name() } else { path });
                files.push(f);
            }
        }
    }
    (files, names)
}

#[component]
fn Loader(ws: Workspace) -> impl IntoView {
    let folder_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    let on_pick = move |ev: leptos::ev::Event| {
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            let (files, names) = file_list(&input);
            if !files.is_empty() {
                ws.decoder.add_files(files, names);
            }
            input.set_value("");
        }
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let Some(data) = ev.data_transfer() else {
            return;
        };
        spawn_local(async move {
            match files_from_drop(data).await {
                Ok(list) => {
                    let mut files = Vec::new();
                    let mut names = Vec::new();
                    for pair in js_sys::Array::from(&list).iter() {
                        let pair = js_sys::Array::from(&pair);
                        if let Ok(f) = pair.get(0).dyn_into::<File>() {
                            names.push(pair.get(1).as_string().unwrap_or_else(|| f.name()));
                            files.push(f);
                        }
                    }
                    ws.decoder.add_files(files, names);
                }
                Err(_) => ws.scan.status.set(
                    "The dropped items could not be read. Try the folder button instead.".into(),
                ),
            }
        });
    };
    view! {
        <section class="loader">
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>"Drop a CT study folder (or files) here"</p>
                <label class="button">
                    "Choose a folder…"
                    <input id="folder-input" type="file" multiple node_ref=folder_input on:change=on_pick/>
                </label>
                <label class="button">
                    "Choose files…"
                    <input id="file-input" type="file" multiple on:change=on_pick/>
                </label>
                <button class="button demo" id="load-demo" on:click=move |_| ws.decoder.load_demo()>
                    "Load the demo case"
                </button>
                <p class="hint">
                    "No CT at hand? The demo case is a synthetic abdominal CT this page makes itself "
                    "(a phantom, not a patient), read exactly like your own files."
                </p>
            </div>
            {move || {
                ws.scan
                    .progress
                    .get()
                    .map(|p| {
                        view! {
                            <div class="progress">
                                <span>{format!("{} {}/{}", p.label, p.done, p.total)}</span>
                                <progress max=p.total.max(1) value=p.done></progress>
                                <button id="cancel-reading" on:click=move |_| ws.decoder.cancel()>"Cancel"</button>
                            </div>
                        }
                    })
            }}
            <p class="status" id="status">{move || ws.scan.status.get()}</p>
        </section>
    }
}

#[component]
fn SeriesList(ws: Workspace) -> impl IntoView {
    let scan = ws.scan;
    view! {
        <section class="series-list" id="series-list">
            <h2>"Studies and series"</h2>
            {move || {
                let selected = scan.selection.with(|s| s.as_ref().map(|s| s.at));
                scan.studies
                    .get()
                    .into_iter()
                    .enumerate()
                    .map(|(si, study)| {
                        let title = format!(
                            "Study {} {}",
                            study.description,
                            study.date.clone().unwrap_or_default(),
                        );
                        view! {
                            <div class="study">
                                <h3>{title}</h3>
                                <ul>
                                    {study
                                        .series
                                        .into_iter()
                                        .enumerate()
                                        .map(|(ri, s)| {
                                            let at = SeriesAt { study: si, series: ri };
                                            let is_selected = selected == Some(at);
                                            let label = format!(
                                                "#{} {} — {} — {} slice(s)",
                                                s.series_number.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                                                if s.description.is_empty() { "(no description)".to_string() } else { s.description.clone() },
                                                s.kind.label(),
                                                s.slices.len(),
                                            );
                                            let warnings = s.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>();
                                            let loadable = !s.slices.is_empty();
                                            view! {
                                                <li class="series" class:selected=is_selected data-slices=s.slices.len()>
                                                    <button disabled=!loadable on:click=move |_| ws.decoder.load_series(at)>
                                                        {label}
                                                    </button>
                                                    <ul class="warnings">
                                                        {warnings.into_iter().map(|w| view! { <li>"⚠ " {w}</li> }).collect_view()}
                                                    </ul>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </section>
    }
}

#[component]
fn Problems(ws: Workspace) -> impl IntoView {
    let problems = ws.scan.problems;
    view! {
        <section class="problems" id="problems">
            <h2>{move || format!("Problems ({})", problems.with(Vec::len))}</h2>
            <p class="hint">"Files that could not be used. The others were read normally."</p>
            <ul>
                {move || {
                    problems
                        .get()
                        .into_iter()
                        .map(|p| view! { <li><code>{p.file}</code>": "{p.message}</li> })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

/// Decodes every file completely and shows what was read, per file, with the report
/// `sarcoscope inspect --json` writes — so a site can check its own corpus against any
/// reference decoder. The report holds file names and image facts, no patient data.
#[component]
fn DecodingCheck(ws: Workspace) -> impl IntoView {
    let reports = ws.scan.reports;
    let download = move |_| {
        let reports = reports.get_untracked();
        let json = serde_json::json!({
            "decoder": format!("sarcoscope {} in the browser", env!("CARGO_PKG_VERSION")),
            "files": reports,
        });
        let _ = save_text(
            "sarcoscope-decoding-report.json",
            "application/json",
            &json.to_string(),
        );
    };
    view! {
        <section class="check" id="decoding-check">
            <h2>"Decoding check"</h2>
            <p class="hint">
                "Decodes every file completely (not only the series shown) and lists what was read. "
                "The downloadable report has the fields of "<code>"sarcoscope inspect --json"</code>
                " and holds file names and image facts only, no patient data."
            </p>
            <button id="check-all" on:click=move |_| ws.decoder.check_all()>"Check every file"</button>
            <button id="download-report" disabled=move || reports.with(Vec::is_empty) on:click=download>
                "Download report (JSON)"
            </button>
            <table>
                <thead>
                    <tr><th>"File"</th><th>"Encoding"</th><th>"Shape"</th><th>"Stored min / max / mean"</th><th>"HU mean"</th><th>"Problem"</th></tr>
                </thead>
                <tbody>
                    {move || {
                        reports
                            .get()
                            .into_iter()
                            .map(|r| {
                                let syntax = r.transfer_syntax.as_deref().map(|uid| sarcoscope::dicom::syntax::info(uid).name).unwrap_or("");
                                let shape = r.stored.as_ref().map(|s| format!("{:?}", s.shape)).unwrap_or_default();
                                let stats = r.stored.as_ref().map(|s| format!("{} / {} / {:.2}", s.min, s.max, s.mean)).unwrap_or_default();
                                let hu = r.hu.as_ref().map(|h| format!("{:.1}", h.mean)).unwrap_or_default();
                                view! {
                                    <tr>
                                        <td><code>{r.file}</code></td>
                                        <td>{syntax}</td>
                                        <td>{shape}</td>
                                        <td>{stats}</td>
                                        <td>{hu}</td>
                                        <td class="problem">{r.error.unwrap_or_default()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </section>
    }
}
