//! The Reader study view's study section: the study set up (its folder, how cases
//! start), the reader working now, every case's readings, and two readers compared with
//! the agreement statistics; the study, its report and the readers' masks (DICOM SEG)
//! exported.

use leptos::prelude::*;

use super::study::ReaderStudyState;
use crate::download::{save_bytes, save_text};
use crate::picked::picked_folder;
use crate::workspace::Workspace;
use sarcoscope::agree::case::{cases_csv, Cutoffs, Summary};
use sarcoscope::agree::study::{ReaderStudy, Start};
use sarcoscope::report::agreement::AgreementReport;

#[component]
pub fn StudySection(ws: Workspace, study: ReaderStudyState) -> impl IntoView {
    let start = RwSignal::new(Start::Automatic);
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let folder = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    // The two readers compared: the first two who read, until others are chosen.
    Effect::new(move |_| {
        let readers = study.study.with(ReaderStudy::readers);
        if first.get_untracked().is_empty() {
            if let Some(r) = readers.first() {
                first.set(r.clone());
            }
        }
        if second.get_untracked().is_empty() {
            if let Some(r) = readers.get(1) {
                second.set(r.clone());
            }
        }
    });
    let compared = move || {
        let (a, b) = (first.get(), second.get());
        (!a.is_empty() && !b.is_empty() && a != b)
            .then(|| study.study.with(|s| s.inter_reader(&a, &b)))
            .filter(|cases| !cases.is_empty())
    };
    let report = move |f: &dyn Fn(&AgreementReport) -> String| {
        let cases = compared().unwrap_or_default();
        let summary = Summary::of(&cases);
        let who = format!(
            "reader {} (in the place of the automatic mask) against reader {}",
            first.get(),
            second.get()
        );
        let made_at = String::from(js_sys::Date::new_0().to_iso_string());
        f(&AgreementReport {
            cases: &cases,
            failed: &[],
            summary: &summary,
            automatic: &who,
            cutoffs: Cutoffs::default(),
            made_at: &made_at,
        })
    };
    let save = move |name: &str, mime: &str, bytes: Vec<u8>| {
        if save_bytes(name, mime, &bytes).is_err() {
            error.set(format!("The browser could not save {name}."));
        }
    };
    let masks_zip = move || -> Result<Vec<u8>, String> {
        let now = (js_sys::Date::now() / 1000.0) as i64;
        study
            .study
            .with_untracked(|s| s.seg_zip(now))
            .map_err(|e| e.to_string())
    };
    view! {
        <section class="agreement" id="reader-study">
            <h2>"Reader study"</h2>
            <p class="hint">
                "Each reader works through the same cases: a case opens in the Patient view at the automatic L3 with the automatic mask (or a blank one, for independent tracing), the reader corrects or draws it and marks it done. The time, the pixels changed per tissue and the final mask are kept in this browser after every case; two readers' cases give their agreement below."
            </p>
            <div class="row">
                <label>
                    "Cases start from "
                    // A kept study shows how its cases start (it cannot change midway).
                    <select
                        id="study-start"
                        disabled=move || study.kept.get()
                        prop:value=move || {
                            if study.kept.get() { study.study.with(|s| s.start) } else { start.get() }.key()
                        }
                        on:change=move |ev| start.set(Start::from_key(&event_target_value(&ev)))
                    >
                        <option value="automatic">"the automatic mask (to correct)"</option>
                        <option value="blank">"a blank mask (independent tracing)"</option>
                    </select>
                </label>
            </div>
            <div class="row">
                <label>
                    "The study's folder (a subfolder per case) "
                    <input id="study-folder" type="file" multiple node_ref=folder on:change=move |ev| {
                        let (files, names) = picked_folder(&ev);
                        study.choose(files, names, start.get_untracked());
                    }/>
                </label>
            </div>
            <div class="row">
                <label>
                    "Reader "
                    <input id="study-reader" type="text" size="12" placeholder="name or code" prop:value=move || study.reader.get() on:input=move |ev| study.reader.set(event_target_value(&ev))/>
                </label>
                <button id="study-next" class="button" on:click=move |_| study.open_next(ws)>"Open the reader's next case"</button>
            </div>
            <p id="study-said" role="status">{move || study.said.get()}</p>
            <table class="metrics" id="study-progress" hidden=move || !study.kept.get()>
                <thead>
                    <tr><th>"Case"</th><th>"Reader"</th><th>"Level (slice)"</th><th>"Time (s)"</th><th>"Pixels changed: muscle / IMAT / VAT / SAT"</th><th>"SMA (cm²)"</th></tr>
                </thead>
                <tbody>
                    {move || {
                        study.study.with(|s| {
                            s.cases
                                .iter()
                                .flat_map(|case| {
                                    let records: Vec<_> = s.records.iter().filter(|r| &r.case == case).cloned().collect();
                                    if records.is_empty() {
                                        return vec![view! { <tr><td>{case.clone()}</td><td>"—"</td><td></td><td></td><td></td><td></td></tr> }.into_any()];
                                    }
                                    records
                                        .into_iter()
                                        .map(|r| {
                                            let changed = r.changed.map(|n| n.to_string()).join(" / ");
                                            view! {
                                                <tr class="reading" data-reader=r.reader.clone()>
                                                    <td>{r.case.clone()}</td>
                                                    <td>{r.reader.clone()}</td>
                                                    <td class="num">{r.placement.slice}</td>
                                                    <td class="num">{format!("{:.0}", r.seconds)}</td>
                                                    <td class="num changed">{changed}</td>
                                                    <td class="num">{format!("{:.1}", r.measured.sma_cm2)}</td>
                                                </tr>
                                            }
                                            .into_any()
                                        })
                                        .collect()
                                })
                                .collect_view()
                        })
                    }}
                </tbody>
            </table>
            <div class="row" hidden=move || study.study.with(|s| s.readers().len() < 2)>
                <label>
                    "Compare reader "
                    <input id="study-first" type="text" size="10" prop:value=move || first.get() on:input=move |ev| first.set(event_target_value(&ev))/>
                </label>
                <label>
                    " with reader "
                    <input id="study-second" type="text" size="10" prop:value=move || second.get() on:input=move |ev| second.set(event_target_value(&ev))/>
                </label>
            </div>
            <div class="downloads" hidden=move || !study.kept.get()>
                <button id="study-export" class="button" on:click=move |_| {
                    let json = study.study.with_untracked(|s| serde_json::to_string_pretty(s).unwrap_or_default());
                    save("reader-study.json", "application/json", json.into_bytes());
                }>"The study (JSON)"</button>
                <button id="study-masks" class="button" on:click=move |_| match masks_zip() {
                    Ok(zip) => save("reader-study-masks.zip", "application/zip", zip),
                    Err(e) => error.set(format!("The masks could not be packed: {e}")),
                }>"The readers' masks (DICOM SEG, ZIP)"</button>
                <button id="study-csv" class="button" hidden=move || compared().is_none() on:click=move |_| {
                    save("inter-reader-cases.csv", "text/csv", cases_csv(&compared().unwrap_or_default()).into_bytes());
                }>"Inter-reader figures (CSV)"</button>
                <button id="study-json" class="button" hidden=move || compared().is_none() on:click=move |_| {
                    let json = report(&|r| serde_json::to_string_pretty(&r.json()).unwrap_or_default());
                    save("inter-reader.json", "application/json", json.into_bytes());
                }>"Inter-reader aggregate (JSON)"</button>
                <button id="study-html" class="button" hidden=move || compared().is_none() on:click=move |_| {
                    let _ = save_text("inter-reader-report.html", "text/html", &report(&|r| r.html()));
                }>"Inter-reader report (HTML)"</button>
                <button id="study-forget" class="button" on:click=move |_| study.forget(ws)>"Forget the study"</button>
            </div>
            <p class="error" hidden=move || error.with(String::is_empty)>{move || error.get()}</p>
            <div class="agreement-report" id="study-report" hidden=move || compared().is_none() inner_html=move || if compared().is_some() { report(&|r| r.body_html()) } else { String::new() }></div>
        </section>
    }
}
