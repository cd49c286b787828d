//! The Reader study view's agreement section: a CT folder and a folder of readers' masks
//! in, every mask compared with the automatic mask of its slice, and the study's figures
//! out — on the page, and as the CSV, JSON and printable report `sarcoscope agree` writes.

use leptos::prelude::*;

use super::client::Agreement;
use super::model_view::ModelSection;
use super::study::ReaderStudyState;
use super::study_view::StudySection;
use super::tuning::Tuning;
use crate::download::save_text;
use crate::picked::picked_folder;
use crate::shell::Route;
use crate::workspace::Workspace;
use sarcoscope::agree::case::{cases_csv, Cutoffs, Summary};
use sarcoscope::agree::reference::Numbering;
use sarcoscope::agree::seg::SegmentNames;
use sarcoscope::agree::tag::TagNumbers;
use sarcoscope::report::agreement::AgreementReport;
use sarcoscope::segment::TissueClass;

/// Label numbers of the common protocols, as the numbers field takes them.
const PRESETS: [(&str, &str); 3] = [
    (
        "Alberta protocol (Slice-O-Matic): muscle 1, IMAT 2, VAT 5, SAT 7",
        "muscle=1,imat=2,vat=5,sat=7",
    ),
    (
        "Sarcoscope's exports: muscle 1, IMAT 2, VAT 3, SAT 4",
        "muscle=1,imat=2,vat=3,sat=4",
    ),
    (
        "TotalSegmentator 'total' trunk muscles (autochthon, iliopsoas): 86–89",
        "muscle=86+87+88+89",
    ),
];

/// The page's date and time, as the report says when it was made.
fn now_text() -> String {
    let now = js_sys::Date::new_0();
    let iso = String::from(now.to_iso_string());
    format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "))
}

#[component]
pub fn ReaderView(
    agreement: Agreement,
    ws: Workspace,
    study: ReaderStudyState,
    shown: RwSignal<Route>,
) -> impl IntoView {
    let s = agreement.state;
    let tuning = Tuning::new(ws.model);
    let ct = RwSignal::new((Vec::new(), Vec::new()));
    let masks = RwSignal::new((Vec::new(), Vec::new()));
    let numbers = RwSignal::new(PRESETS[0].1.to_owned());
    // The user's tissue for each unnamed segment ("" while not chosen).
    let named = RwSignal::new(Vec::<(String, String)>::new());
    let error = RwSignal::new(String::new());
    let ct_input = NodeRef::<leptos::html::Input>::new();
    let masks_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        for input in [ct_input.get(), masks_input.get()].into_iter().flatten() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    Effect::new(move |_| {
        let labels = s.unnamed.get();
        named.update(|n| {
            for label in labels {
                if !n.iter().any(|(l, _)| *l == label) {
                    n.push((label, String::new()));
                }
            }
        });
    });
    let numbering = move || -> Result<Numbering, String> {
        let numbers = TagNumbers::parse(&numbers.get_untracked())?;
        let mut segments = SegmentNames::default();
        for (label, tissue) in named.get_untracked() {
            let tissue = match tissue.as_str() {
                "" => continue,
                "ignore" => None,
                key => TissueClass::TISSUES.into_iter().find(|t| t.key() == key),
            };
            segments.by_label.insert(label.to_lowercase(), tissue);
        }
        Ok(Numbering { numbers, segments })
    };
    let compare = move |again: bool| {
        error.set(String::new());
        match numbering() {
            Err(e) => error.set(format!("Label numbers: {e}")),
            Ok(numbering) if again => agreement.run(numbering),
            Ok(numbering) => {
                let (ct, masks) = (ct.get_untracked(), masks.get_untracked());
                if ct.0.is_empty() || masks.0.is_empty() {
                    error.set("Choose the CT folder and the readers' masks folder first.".into());
                } else {
                    agreement.start(ct, masks, numbering);
                }
            }
        }
    };
    let report = move |f: &dyn Fn(&AgreementReport) -> String| {
        let cases = s.cases.get();
        let failed = s.failed.get();
        let summary = Summary::of(&cases);
        let automatic = s.automatic.get();
        let made_at = now_text();
        f(&AgreementReport {
            cases: &cases,
            failed: &failed,
            summary: &summary,
            automatic: &automatic,
            cutoffs: Cutoffs::default(),
            made_at: &made_at,
        })
    };
    let save = move |name: &str, mime: &str, text: String| {
        if save_text(name, mime, &text).is_err() {
            error.set(format!("The browser could not save {name}."));
        }
    };
    // Something to show: the run is over and it compared or refused at least one mask.
    let finished = move || {
        let anything = !s.cases.with(Vec::is_empty) || !s.failed.with(Vec::is_empty);
        !s.running.get() && anything
    };
    view! {
        <div class="view" id="view-reader" hidden=move || shown.get() != Route::Reader>
            <StudySection ws=ws study=study/>
            <section class="agreement" id="agreement">
                <h2>"Agreement with readers' masks"</h2>
                <p class="hint">
                    "Choose the CT images the readers traced and a folder of their masks: Slice-O-Matic .tag files and PNG label maps named after their CT image, DICOM SEG files (binary or fractional), NIfTI label maps of the series. Each mask is compared with the automatic mask of its slice, made here; nothing leaves this computer."
                </p>
                <div class="row">
                    <label>
                        "CT folder "
                        <input id="agree-ct" type="file" multiple node_ref=ct_input on:change=move |ev| ct.set(picked_folder(&ev))/>
                    </label>
                    <span id="agree-ct-count">{move || format!("{} files", ct.with(|c| c.0.len()))}</span>
                </div>
                <div class="row">
                    <label>
                        "Readers' masks folder "
                        <input id="agree-masks" type="file" multiple node_ref=masks_input on:change=move |ev| masks.set(picked_folder(&ev))/>
                    </label>
                    <span id="agree-masks-count">{move || format!("{} files", masks.with(|c| c.0.len()))}</span>
                </div>
                <div class="row">
                    <label>
                        "Label numbers in .tag and NIfTI files "
                        <select id="agree-preset" on:change=move |ev| numbers.set(event_target_value(&ev))>
                            {PRESETS.into_iter().map(|(name, value)| view! { <option value=value>{name}</option> }).collect_view()}
                        </select>
                    </label>
                    <input id="agree-numbers" type="text" size="34" aria-label="Label numbers of each tissue (e.g. muscle=1,imat=2,vat=5,sat=7)" prop:value=move || numbers.get() on:input=move |ev| numbers.set(event_target_value(&ev))/>
                </div>
                <button id="agree-run" class="button" disabled=move || s.running.get() on:click=move |_| compare(false)>
                    "Compare"
                </button>
                <p class="error" id="agree-error" hidden=move || error.with(String::is_empty)>{move || error.get()}</p>
                <p id="agree-status" role="status">{move || s.status.get()}</p>
                <div class="mapping" id="agree-mapping" hidden=move || named.with(Vec::is_empty)>
                    <h3>"Segments that do not say which tissue they are"</h3>
                    <p class="hint">"Their codes and labels name no body-composition tissue. Say what each is (or leave it out), then compare again."</p>
                    <table>
                        <tbody>
                            {move || {
                                named
                                    .get()
                                    .into_iter()
                                    .enumerate()
                                    .map(|(k, (label, chosen))| {
                                        let choose = move |ev| {
                                            let value = event_target_value(&ev);
                                            named.update(|n| {
                                                if let Some(entry) = n.get_mut(k) {
                                                    entry.1 = value;
                                                }
                                            });
                                        };
                                        view! {
                                            <tr>
                                                <td>{label.clone()}</td>
                                                <td>
                                                    <select id=format!("agree-map-{k}") aria-label=format!("Tissue of {label}") on:change=choose>
                                                        {["", "muscle", "imat", "vat", "sat", "ignore"]
                                                            .into_iter()
                                                            .map(|v| {
                                                                let text = match v {
                                                                    "" => "choose…",
                                                                    "ignore" => "leave out",
                                                                    key => TissueClass::TISSUES
                                                                        .into_iter()
                                                                        .find(|t| t.key() == key)
                                                                        .map_or(key, TissueClass::name),
                                                                };
                                                                view! { <option value=v selected=chosen == v>{text}</option> }
                                                            })
                                                            .collect_view()}
                                                    </select>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </tbody>
                    </table>
                    <button id="agree-again" class="button" disabled=move || s.running.get() on:click=move |_| compare(true)>
                        "Compare again"
                    </button>
                </div>
                <p class="hint" id="agree-progress" hidden=move || !s.running.get()>
                    {move || {
                        let (done, placed) = s.progress.get();
                        format!("{done} of {placed} placed cases segmented")
                    }}
                </p>
                <div class="downloads" hidden=move || !finished()>
                    <button id="agree-csv" class="button" on:click=move |_| save("agreement-cases.csv", "text/csv", cases_csv(&s.cases.get_untracked()))>
                        "Per-case figures (CSV)"
                    </button>
                    <button id="agree-json" class="button" on:click=move |_| {
                        let json = report(&|r| serde_json::to_string_pretty(&r.json()).unwrap_or_default());
                        save("agreement.json", "application/json", json);
                    }>
                        "Aggregate figures (JSON)"
                    </button>
                    <button id="agree-html" class="button" on:click=move |_| save("agreement-report.html", "text/html", report(&|r| r.html()))>
                        "Printable report (HTML)"
                    </button>
                </div>
                <div class="agreement-report" id="agree-report" hidden=move || !finished() inner_html=move || if finished() { report(&|r| r.body_html()) } else { String::new() }></div>
            </section>
            <ModelSection ws=ws agreement=agreement tuning=tuning/>
        </div>
    }
}
