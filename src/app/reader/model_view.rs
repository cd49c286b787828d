//! The segmentation model section of the Reader study view: which model every view runs,
//! choosing a site's model file or going back to the shipped one, and fine-tuning the
//! model in use on the readers' masks of the last comparison.

use leptos::prelude::*;

use super::client::Agreement;
use super::tuning::Tuning;
use crate::download::{save_bytes, save_text};
use crate::segment::messages::FineTuneSettings;
use crate::workspace::Workspace;

fn figure(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.digits$}"))
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:+.1} %"))
}

#[component]
pub fn ModelSection(ws: Workspace, agreement: Agreement, tuning: Tuning) -> impl IntoView {
    let model = ws.model;
    let t = tuning.state;
    let name = RwSignal::new("site-model".to_owned());
    let folds = RwSignal::new("5".to_owned());
    let steps = RwSignal::new("200".to_owned());
    let seed = RwSignal::new("1".to_owned());
    let cpu = RwSignal::new(false);
    let error = RwSignal::new(String::new());
    let placed = move || agreement.state.progress.get().1;
    let in_use = move || match model.chosen.get() {
        Some(c) => format!(
            "{} {} — chosen in this browser, not the shipped model (weights SHA-256 {}…).",
            c.name,
            c.version,
            c.sha256.get(..12).unwrap_or_default()
        ),
        None => "The shipped model (models/sarcoscope-l3-unet.json and its card).".into(),
    };
    let start = move |_| {
        error.set(String::new());
        let number = |s: RwSignal<String>, what: &str, least: u64| {
            s.get_untracked()
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| n >= least)
                .ok_or_else(|| format!("{what} must be a whole number of at least {least}"))
        };
        let checked = (|| -> Result<FineTuneSettings, String> {
            let name = name.get_untracked().trim().to_owned();
            let plain = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !plain {
                return Err("the model's name may hold letters, digits, - and _ only".into());
            }
            Ok(FineTuneSettings {
                name,
                folds: number(folds, "Folds", 2)? as usize,
                steps: number(steps, "Steps", 1)? as usize,
                seed: number(seed, "Seed", 0)?,
                force_cpu: cpu.get_untracked(),
            })
        })();
        match checked {
            Err(e) => error.set(format!("Not started: {e}.")),
            Ok(settings) => {
                let cases = agreement.site_cases();
                if cases.len() < settings.folds {
                    error.set(format!(
                        "Not started: {} readers' masks were placed, fewer than the {} folds. Compare a folder of masks above first, or choose fewer folds.",
                        cases.len(),
                        settings.folds
                    ));
                } else {
                    let not_used = agreement.state.failed.with_untracked(Vec::len);
                    tuning.start(cases, not_used, settings);
                }
            }
        }
    };
    let download = move |card: bool| {
        let Some(tuned) = t.tuned.get_untracked() else {
            return;
        };
        let name = tuned.name();
        let saved = if card {
            save_text(&format!("{name}.json"), "application/json", &tuned.card)
        } else {
            save_bytes(
                &format!("{name}.weights"),
                "application/octet-stream",
                &tuned.weights,
            )
        };
        if saved.is_err() {
            error.set("The browser could not save the file.".into());
        }
    };
    let use_tuned = move |_| {
        if let Some(tuned) = t.tuned.get_untracked() {
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = model.choose(tuned.card, tuned.weights.to_vec()).await {
                    model.said.set(format!("The model was not chosen: {e}."));
                }
            });
        }
    };
    view! {
        <section class="model-choice" id="model">
            <h2>"Segmentation model"</h2>
            <p id="model-in-use">{in_use}</p>
            <div class="row">
                <label>
                    "Use a model file (its .json card and its .weights file) "
                    <input id="model-files" type="file" multiple accept=".json,.weights" on:change=move |ev| {
                        let files = crate::picked::picked_folder(&ev).0;
                        wasm_bindgen_futures::spawn_local(async move { model.choose_files(files).await });
                    }/>
                </label>
                <button id="model-shipped" class="button" hidden=move || model.chosen.with(Option::is_none) on:click=move |_| wasm_bindgen_futures::spawn_local(async move { model.forget().await })>
                    "Return to the shipped model"
                </button>
            </div>
            <p id="model-said" role="status">{move || model.said.get()}</p>
            <h3>"Fine-tune on the readers' masks"</h3>
            <p class="hint">
                "Trains the model in use further on the readers' masks the last comparison placed (above), in this browser — on WebGPU where present — and nothing leaves this computer. Its figures are cross-validated: each fold trains on the other folds' masks and is tested on its own, so no figure comes from a mask it was trained on; whole patients stay in one fold, and with fewer patients than folds the slices next to a tested one are left out. A tissue a reader did not trace is not taught. The model to keep is then trained on every mask."
            </p>
            <div class="row">
                <label>"Name " <input id="tune-name" type="text" size="18" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label>"Folds " <input id="tune-folds" type="number" min="2" prop:value=move || folds.get() on:input=move |ev| folds.set(event_target_value(&ev))/></label>
                <label>"Steps per training " <input id="tune-steps" type="number" min="1" prop:value=move || steps.get() on:input=move |ev| steps.set(event_target_value(&ev))/></label>
                <label>"Seed " <input id="tune-seed" type="number" min="0" prop:value=move || seed.get() on:input=move |ev| seed.set(event_target_value(&ev))/></label>
                <label><input id="tune-cpu" type="checkbox" prop:checked=move || cpu.get() on:change=move |ev| cpu.set(event_target_checked(&ev))/>" On the CPU"</label>
            </div>
            <p class="hint" id="tune-cases">{move || format!("{} readers' masks placed by the last comparison.", placed())}</p>
            <button id="tune-start" class="button" disabled=move || t.running.get() || placed() < 2 on:click=start>"Fine-tune"</button>
            <button id="tune-stop" class="button" hidden=move || !t.running.get() on:click=move |_| tuning.stop()>"Stop"</button>
            <p class="error" id="tune-error" hidden=move || error.with(String::is_empty)>{move || error.get()}</p>
            <p id="tune-status" role="status">{move || t.status.get()}</p>
            <div hidden=move || !t.running.get()>
                <progress id="tune-progress" max="1" value=move || t.progress.get().map_or(0.0, |p| p.fraction())></progress>
                <p id="tune-step">{move || t.progress.get().map(|p| p.describe())}</p>
            </div>
            {move || t.tuned.get().map(|tuned| {
                let (method, rows) = tuned.figures();
                view! {
                    <div id="tune-result">
                        <table id="tune-figures">
                            <thead>
                                <tr><th>"Tissue"</th><th>"Slices"</th><th>"Dice before"</th><th>"Dice after"</th><th>"Area error before"</th><th>"Area error after"</th></tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|f| view! {
                                    <tr>
                                        <td>{f.tissue}</td>
                                        <td class="num">{f.slices}</td>
                                        <td class="num">{figure(f.dice.0, 3)}</td>
                                        <td class="num">{figure(f.dice.1, 3)}</td>
                                        <td class="num">{percent(f.area_error.0)}</td>
                                        <td class="num">{percent(f.area_error.1)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <p class="hint" id="tune-method">{method}</p>
                        <div class="downloads">
                            <button id="tune-download-card" class="button" on:click=move |_| download(true)>"Download the model card (.json)"</button>
                            <button id="tune-download-weights" class="button" on:click=move |_| download(false)>"Download the weights (.weights)"</button>
                            <button id="tune-use" class="button" on:click=use_tuned>"Use this model in this browser"</button>
                        </div>
                    </div>
                }
            })}
        </section>
    }
}
