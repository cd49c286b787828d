//! The Cohort view's clinical join: a clinical table (CSV) chosen here is joined to the
//! cohort's rows by case code in this browser (`sarcoscope::batch::clinical`, as
//! `sarcoscope join` does), the joined table downloaded or handed to the Statistics view.
//! It follows the rows: a study reviewed after the join is in the joined table at once.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::client::{Cohort, DEFAULT_SETTINGS};
use crate::download::{save_text, text_file};
use crate::picked::{picked_files, text_of};
use crate::shell::{go, Route};
use crate::statistics::Statistics;
use sarcoscope::batch::clinical::{join, BODY, KEY, PATIENT_KEY};
use sarcoscope::clinical::table::{OPTIONAL, REQUIRED};
use sarcoscope::clinical::Units;

const JOINED_NAME: &str = "cohort-joined.csv";

/// The clinical table chosen for the cohort, kept in this browser with the run (it goes
/// when the run is forgotten or another folder starts afresh).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clinical {
    pub name: String,
    pub text: String,
    pub units: Units,
}

#[component]
pub fn ClinicalJoin(cohort: Cohort, stats: Statistics) -> impl IntoView {
    let rows = cohort.state.rows;
    let clinical = cohort.state.clinical;
    let read_error = RwSignal::new(None::<String>);
    let kept = cohort.state.kept;
    // The units chosen before a table is: they wait for it.
    let pending_units = RwSignal::new(Units::Si);
    let units = move || {
        clinical
            .with(|c| c.as_ref().map(|c| c.units))
            .unwrap_or_else(|| pending_units.get())
    };
    let joined = Memo::new(move |_| {
        let keys = kept.with(|k| k.as_ref().map(|k| k.keys.clone()).unwrap_or_default());
        clinical.with(|c| {
            c.as_ref().map(|c| {
                rows.with(|rows| join(DEFAULT_SETTINGS, rows, &c.text, c.units, &keys))
                    .map_err(|e| e.to_string())
            })
        })
    });
    let on_pick = move |ev: leptos::ev::Event| {
        let Some(file) = picked_files(&ev).into_iter().next() else {
            return;
        };
        spawn_local(async move {
            match text_of(&file).await {
                Ok(text) => {
                    read_error.set(None);
                    cohort.keep_clinical(Some(Clinical {
                        name: file.name(),
                        text,
                        units: units(),
                    }));
                }
                Err(e) => read_error.set(Some(e)),
            }
        });
    };
    let on_units = move |ev: leptos::ev::Event| {
        let units = event_target_value(&ev).parse().unwrap_or(Units::Si);
        if let Some(c) = clinical.get_untracked() {
            cohort.keep_clinical(Some(Clinical { units, ..c }));
        } else {
            pending_units.set(units);
        }
    };
    let table = move || {
        joined.with(|j| {
            j.as_ref()
                .and_then(|j| j.as_ref().ok())
                .map(|j| j.csv.clone())
        })
    };
    let download = move |_| {
        if let Some(csv) = table() {
            let _ = save_text(JOINED_NAME, "text/csv", &csv);
        }
    };
    let to_statistics = move |_| {
        if let Some(file) = table().and_then(|csv| text_file(JOINED_NAME, "text/csv", &csv).ok()) {
            stats.open(file);
            go(Route::Statistics);
        }
    };
    let columns = REQUIRED
        .iter()
        .chain(&OPTIONAL)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let summary = move || {
        joined.with(|j| match j.as_ref()? {
            Err(e) => Some(format!("The clinical table could not be joined: {e}")),
            Ok(j) => {
                let total = rows.with(Vec::len);
                let name =
                    clinical.with(|c| c.as_ref().map(|c| c.name.clone()).unwrap_or_default());
                let mut text = format!(
                    "{name}: {} of {total} studies joined with their clinical row.",
                    j.matched
                );
                if !j.without_clinical.is_empty() {
                    text.push_str(&format!(
                        " Without a clinical row: {}.",
                        j.without_clinical.join(", ")
                    ));
                }
                if !j.not_in_cohort.is_empty() {
                    text.push_str(&format!(
                        " Cases not in this cohort: {}.",
                        j.not_in_cohort.join(", ")
                    ));
                }
                Some(text)
            }
        })
    };
    // Lines not used, then lines used with a note.
    let problems = move || {
        joined.with(|j| match j {
            Some(Ok(j)) => j
                .problems
                .iter()
                .map(|(line, why)| format!("Line {line} not used: {why}"))
                .chain(
                    j.disagreements
                        .iter()
                        .map(|(line, what)| format!("Line {line}: {what}")),
                )
                .collect(),
            _ => Vec::new(),
        })
    };
    view! {
        <section class="cohort-join" id="cohort-join" hidden=move || rows.with(Vec::is_empty)>
            <h3>"Join a clinical table"</h3>
            <p class="hint">
                "A CSV (commas or semicolons, decimal point or comma) with a "<code>{KEY}</code>" column holding the case codes above "
                "(or a "<code>{PATIENT_KEY}</code>" column, linked to the case codes by the key table this browser keeps: every study of the patient gets the row; "
                "the ID is never copied into the joined table), and any of: "
                <code>{BODY.join(", ")}</code>", the laboratory columns of "<code>"sarcoscope scores"</code>" ("<code>{columns}</code>"). "
                "Every other column — the outcomes, such as follow-up time and status — comes along into the joined table, so leave names and other identifiers out. It is read in this browser only. "
                "A height fills SMI and the calls; laboratory values fill the scores (MELD, MELD-Na, MELD 3.0, Child–Pugh, ALBI, APRI, FIB-4, MELD-Sarcopenia: formulas and sources in the Patient view's Scores). "
                "A study with a clinical row is remade from its row's areas (to 0.01 cm²); one without keeps its row. The same join: "<code>"sarcoscope join"</code>"."
            </p>
            <label class="field">
                <span>"Laboratory units"</span>
                <select id="cohort-clinical-units" on:change=on_units>
                    <option value="si" selected=move || units() == Units::Si>"SI: bilirubin, creatinine µmol/L; albumin g/L"</option>
                    <option value="conventional" selected=move || units() == Units::Conventional>"Conventional: mg/dL; albumin g/dL"</option>
                </select>
            </label>
            <label class="button">
                "Choose the clinical table…"
                <input id="cohort-clinical" type="file" accept=".csv,.txt,text/csv" on:change=on_pick/>
            </label>
            <p id="cohort-joined" aria-live="polite">{move || read_error.get().or_else(summary)}</p>
            <ul class="warnings" id="cohort-join-problems">
                {move || problems().into_iter().map(|text| view! { <li>{text}</li> }).collect_view()}
            </ul>
            <div hidden=move || table().is_none()>
                <button class="action" id="cohort-joined-download" on:click=download>"Download the joined table (CSV)"</button>
                <button class="action" id="cohort-joined-statistics" on:click=to_statistics>"Open it in the Statistics view"</button>
            </div>
        </section>
    }
}
