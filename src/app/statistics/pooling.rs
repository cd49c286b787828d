//! The development centre's view: validation reports from several centres read back
//! and pooled (`survival::pooling`), each figure with its forest plot. Reports are
//! small and pooling is quick, so this runs on the page; a file that is not a report is
//! named with the reason and the others are still pooled.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::download::save_text;
use crate::figures::figure;
use crate::picked::{picked_files, text_of};
use sarcoscope::survival::aggregate::{ValidationReport, SCHEMA};
use sarcoscope::survival::plot::forest_svg;
use sarcoscope::survival::pooling::{synthesise, Pooled};

/// A report's text read as a report, or why not.
fn read_report(name: &str, text: &str) -> Result<ValidationReport, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| format!("{name}: not a JSON file, or it is cut short"))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA) => serde_json::from_value(value)
            .map_err(|e| format!("{name}: a validation report with a part missing or damaged ({e})")),
        Some(other) => Err(format!(
            "{name}: a report of format '{other}', which this version cannot read (it reads {SCHEMA})"
        )),
        None => Err(format!("{name}: not a Sarcoscope validation report")),
    }
}

#[component]
pub fn PoolingSection() -> impl IntoView {
    let reports = RwSignal::new(Vec::<ValidationReport>::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let on_files = move |ev: leptos::ev::Event| {
        let files = picked_files(&ev);
        spawn_local(async move {
            for file in files {
                match text_of(&file)
                    .await
                    .and_then(|t| read_report(&file.name(), &t))
                {
                    Ok(report) => reports.update(|r| r.push(report)),
                    Err(problem) => problems.update(|p| p.push(problem)),
                }
            }
        });
    };
    let synthesis = Memo::new(move |_| reports.with(|r| (!r.is_empty()).then(|| synthesise(r))));
    let download = move |_| {
        if let Some(Ok(s)) = synthesis.get_untracked() {
            let _ = save_text(
                "pooled-validation.json",
                "application/json",
                &serde_json::to_string_pretty(&s).unwrap_or_default(),
            );
        }
    };
    let pooled = move |title: String,
                       result: Result<Pooled, String>,
                       reference: f64,
                       id: &'static str| match result {
        Ok(p) => {
            let prediction = p
                .prediction
                .map(|(lo, hi)| {
                    format!(
                        "; 95% prediction interval for a new centre {}–{}",
                        figure(lo, 3),
                        figure(hi, 3)
                    )
                })
                .unwrap_or_else(|| "; a prediction interval needs three centres".into());
            let line = format!(
                "{title}: {} (95% CI {}–{}){prediction}; τ² = {} on the pooling scale, {} centres.",
                figure(p.estimate, 3),
                figure(p.lower, 3),
                figure(p.upper, 3),
                figure(p.tau2, 4),
                p.k
            );
            view! {
                <div class="forest" id=id>
                    <p class="pooled">{line}</p>
                    <div class="forest-plot" inner_html=forest_svg(&p, &title, reference)></div>
                </div>
            }
            .into_any()
        }
        Err(why) => view! { <p class="warning" id=id>{format!("{title}: not pooled — {why}")}</p> }
            .into_any(),
    };
    view! {
        <section class="stats-pooling" id="stats-pooling">
            <h2>"Pool centres' validation reports"</h2>
            <p>
                "For the development centre: load the aggregate reports the validating centres sent back (JSON, several at once). "
                "Each figure is pooled by random-effects meta-analysis: C on the logit scale, O:E on the log scale, the calibration slope as it is."
            </p>
            <label class="button">
                "Choose reports…"
                <input id="stats-reports" type="file" multiple accept=".json,application/json" on:change=on_files/>
            </label>
            <button class="action" id="stats-clear-reports" on:click=move |_| { reports.set(Vec::new()); problems.set(Vec::new()); }>"Clear"</button>
            <ul class="errors" id="stats-report-problems">{move || problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            {move || synthesis.get().map(|s| match s {
                Err(e) => view! { <p class="error" id="stats-pooling-error">{e.to_string()}</p> }.into_any(),
                Ok(s) => {
                    let oe_title = format!("O:E (Kaplan–Meier) at {}", s.oe_time.map(|t| figure(t, 2)).unwrap_or_default());
                    view! {
                        <div id="stats-synthesis">
                            <p>{format!("{} — {} report(s): {}", s.model, s.centres.len(), s.centres.join(", "))}</p>
                            <table class="metrics" id="stats-pooling-centres">
                                <thead><tr><th>"Centre"</th><th>"Patients"</th><th>"Events"</th><th>"Harrell's C (se)"</th></tr></thead>
                                <tbody>
                                    {reports.get().into_iter().zip(s.centres.clone()).map(|(r, label)| view! {
                                        <tr><td>{label}</td><td class="num">{r.figures.n}</td><td class="num">{r.figures.events}</td>
                                        <td class="num">{format!("{} ({})", figure(r.figures.harrell_c, 4), figure(r.figures.harrell_c_se, 4))}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {pooled("Harrell's C".into(), s.c.clone(), 0.5, "stats-pooled-c")}
                            {pooled(oe_title, s.oe.clone(), 1.0, "stats-pooled-oe")}
                            {pooled("Calibration slope".into(), s.slope.clone(), 1.0, "stats-pooled-slope")}
                            <p class="cite">
                                "Random effects with τ² by REML, the pooled interval by Hartung–Knapp–Sidik–Jonkman (t, k − 1 df), the prediction interval by t with k − 2 df (Riley et al., BMJ 2011), "
                                "as metamisc::valmeta (Debray et al., BMJ 2017); checked against metafor::rma(method = \"REML\", test = \"knha\")."
                            </p>
                            <button class="action" id="stats-download-synthesis" on:click=download>"Download the pooled figures (JSON)"</button>
                        </div>
                    }
                    .into_any()
                }
            })}
        </section>
    }
}
