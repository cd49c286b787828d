//! The page: loading, the series list, the viewer, the patient and scan panel, and the
//! per-file problems list.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    DataTransfer, DragEvent, File, HtmlCanvasElement, HtmlInputElement, KeyboardEvent, MouseEvent,
    WheelEvent,
};

use super::body_panel::BodyPanel;
use super::case;
use super::controller::{self, Ui};
use super::correction::CorrectionPanel;
use super::download::save_text;
use super::render::{self, Window, PRESETS};
use super::report_panel::ReportPanel;
use super::scores_panel::{EligibilityPanel, ScoresPanel};
use super::store;
use super::tissue_panel::SegmentationPanel;
use crate::l3::L3Status;
use crate::l3::{L3Choice, L3Method};
use crate::volume::Volume;

#[wasm_bindgen(module = "/www/drop.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = filesFromDrop)]
    async fn files_from_drop(data: DataTransfer) -> Result<JsValue, JsValue>;
}

#[component]
pub fn App() -> impl IntoView {
    let ui = Ui::new();
    controller::install(ui);
    store::install(ui);
    // One report for every panel, the printout and the exports.
    let current = Memo::new(move |_| case::report(ui, ui.case));
    view! {
        <header class="top">
            <h1>"Sarcoscope"</h1>
            <p class="privacy" id="privacy-note">
                "Your images stay in this browser: nothing is uploaded, nothing leaves this computer."
            </p>
        </header>
        <main>
            <Loader ui=ui/>
            <div class="workspace">
                <SeriesList ui=ui/>
                <div class="centre">
                    <LevelPanel ui=ui/>
                    <Viewer ui=ui/>
                    <SegmentationPanel ui=ui current=current/>
                    <CorrectionPanel ui=ui/>
                    <BodyPanel case=ui.case current=current/>
                </div>
                <div class="side">
                    <FactsPanel ui=ui/>
                </div>
            </div>
            <div class="clinical">
                <ScoresPanel case=ui.case current=current/>
                <EligibilityPanel case=ui.case current=current/>
            </div>
            <ReportPanel ui=ui case=ui.case current=current/>
            <Problems ui=ui/>
            <DecodingCheck ui=ui/>
        </main>
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
fn Loader(ui: Ui) -> impl IntoView {
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
                controller::add_files(files, names);
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
                    controller::add_files(files, names);
                }
                Err(_) => ui.status.set(
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
                <button class="button demo" id="load-demo" on:click=move |_| controller::load_demo()>
                    "Load the demo case"
                </button>
                <p class="hint">
                    "No CT at hand? The demo case is a synthetic abdominal CT this page makes itself "
                    "(a phantom, not a patient), read exactly like your own files."
                </p>
            </div>
            {move || {
                ui.progress
                    .get()
                    .map(|p| {
                        view! {
                            <div class="progress">
                                <span>{format!("{} {}/{}", p.label, p.done, p.total)}</span>
                                <progress max=p.total.max(1) value=p.done></progress>
                            </div>
                        }
                    })
            }}
            <p class="status" id="status">{move || ui.status.get()}</p>
        </section>
    }
}

#[component]
fn SeriesList(ui: Ui) -> impl IntoView {
    view! {
        <section class="series-list" id="series-list">
            <h2>"Studies and series"</h2>
            {move || {
                let selected = ui.selected.get();
                ui.studies
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
                                            let is_selected = selected == Some((si, ri));
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
                                                    <button disabled=!loadable on:click=move |_| controller::load_series(si, ri)>
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

/// Image coordinates under the mouse, from CSS pixels to canvas pixels.
fn canvas_point(canvas: &HtmlCanvasElement, ev: &MouseEvent) -> (usize, usize) {
    let w = f64::from(canvas.client_width().max(1));
    let h = f64::from(canvas.client_height().max(1));
    let x = f64::from(ev.offset_x()) * f64::from(canvas.width()) / w;
    let y = f64::from(ev.offset_y()) * f64::from(canvas.height()) / h;
    (x.max(0.0) as usize, y.max(0.0) as usize)
}

#[component]
fn Viewer(ui: Ui) -> impl IntoView {
    let axial = NodeRef::<leptos::html::Canvas>::new();
    let sagittal = NodeRef::<leptos::html::Canvas>::new();
    let coronal = NodeRef::<leptos::html::Canvas>::new();
    let crosshair = RwSignal::new(None::<(usize, usize)>);
    // The pixel under the mouse; the HU shown follows it and the slice.
    let pointer = RwSignal::new(None::<(usize, usize)>);
    let drag = RwSignal::new(None::<(i32, i32, Window)>);

    Effect::new(move |_| {
        ui.volume_version.get();
        let slice = ui.slice.get();
        let window = ui.window.get();
        let cross = crosshair.get();
        let level = ui.level.get();
        let l3_choice = ui.l3_choice.get();
        let segmentation = ui.segmentation.get();
        let overlay = ui.overlay.get();
        let (Some(a), Some(s), Some(c)) = (axial.get(), sagittal.get(), coronal.get()) else {
            return;
        };
        controller::with_volume(|v| {
            let h = &v.header;
            let (column, row) = cross.unwrap_or((h.columns / 2, h.rows / 2));
            if let Some(plane) = v.axial(slice) {
                let mask = segmentation
                    .as_ref()
                    .filter(|m| overlay && m.report.slice == slice)
                    .map(|m| m.labels.as_slice());
                render::draw(&a, plane, h.columns, h.rows, window, mask);
            }
            render::draw(
                &s,
                &v.sagittal(column.min(h.columns - 1)),
                h.rows,
                h.slices,
                window,
                None,
            );
            render::draw(
                &c,
                &v.coronal(row.min(h.rows - 1)),
                h.columns,
                h.slices,
                window,
                None,
            );
            // Superior is on top, so slice k is drawn at row (slices − 1 − k).
            let row = h.slices.saturating_sub(1 + slice);
            render::draw_row_marker(&s, row, render::CURRENT_SLICE);
            render::draw_row_marker(&c, row, render::CURRENT_SLICE);
            if let Some(choice) = l3_choice {
                let row = h.slices.saturating_sub(1 + choice.slice);
                render::draw_row_ticks(&s, row, render::L3_SLICE);
                render::draw_row_ticks(&c, row, render::L3_SLICE);
            }
            if let Some(level) = &level {
                render::draw_vertebra_labels(&s, &level.vertebrae, h.slices);
                render::draw_vertebra_labels(&c, &level.vertebrae, h.slices);
            }
            set_physical_size(&a, &s, &c, v);
        });
    });

    let step = move |delta: i64| {
        let slices = controller::with_volume(|v| v.header.slices).unwrap_or(0);
        if slices > 0 {
            ui.slice
                .update(|z| *z = (*z as i64 + delta).clamp(0, slices as i64 - 1) as usize);
        }
    };
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        step(if ev.delta_y() > 0.0 { -1 } else { 1 });
    };
    let on_key = move |ev: KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() {
            // Lower-cased, so Caps Lock does not turn undo into redo.
            match (ev.key().to_lowercase().as_str(), ev.shift_key()) {
                ("z", false) => ui.correction.undo(ui),
                ("z", true) | ("y", _) => ui.correction.redo(ui),
                _ => return,
            }
            ev.prevent_default();
            return;
        }
        let delta = match ev.key().as_str() {
            "ArrowUp" | "ArrowRight" => 1,
            "ArrowDown" | "ArrowLeft" => -1,
            "PageUp" => 10,
            "PageDown" => -10,
            _ => return,
        };
        ev.prevent_default();
        if ev.shift_key() {
            controller::move_l3(delta);
        } else {
            step(delta);
        }
    };
    let painting = RwSignal::new(false);
    let on_move = move |ev: MouseEvent| {
        let Some(canvas) = axial.get() else { return };
        if painting.get_untracked() {
            let (x, y) = canvas_point(&canvas, &ev);
            ui.correction.extend(ui, x, y);
        } else if let Some((x0, y0, start)) = drag.get_untracked() {
            let dx = f64::from(ev.client_x() - x0);
            let dy = f64::from(ev.client_y() - y0);
            ui.window.set(Window {
                width: (start.width + dx * 4.0).max(1.0),
                level: start.level - dy * 2.0,
            });
        }
        pointer.set(Some(canvas_point(&canvas, &ev)));
    };
    let readout = move || {
        ui.volume_version.get();
        let slice = ui.slice.get();
        let (x, y) = pointer.get()?;
        controller::with_volume(|v| match v.hu_at(x, y, slice) {
            Some(hu) => format!("{:.0} HU at column {x}, row {y}, slice {slice}", hu.0),
            None if x < v.header.columns && y < v.header.rows => {
                format!("no data (outside the scanned field) at column {x}, row {y}")
            }
            None => String::new(),
        })
    };
    let on_down = move |ev: MouseEvent| {
        if ev.button() == 0 && ui.correction.active(ui, ui.slice.get_untracked()) {
            if let Some(canvas) = axial.get() {
                let (x, y) = canvas_point(&canvas, &ev);
                painting.set(true);
                ui.correction.begin(ui, x, y);
            }
            return;
        }
        if ev.button() == 0 {
            drag.set(Some((
                ev.client_x(),
                ev.client_y(),
                ui.window.get_untracked(),
            )));
        }
        if let Some(canvas) = axial.get() {
            crosshair.set(Some(canvas_point(&canvas, &ev)));
        }
    };
    let pick_slice = move |canvas: Option<HtmlCanvasElement>, ev: MouseEvent| {
        let Some(canvas) = canvas else { return };
        let (_, y) = canvas_point(&canvas, &ev);
        if let Some(slices) = controller::with_volume(|v| v.header.slices) {
            if y < slices {
                ui.slice.set(slices - 1 - y);
            }
        }
    };
    let slice_label = move || {
        ui.volume_version.get();
        let z = ui.slice.get();
        controller::with_volume(|v| {
            let position = v
                .header
                .slice_positions_mm
                .get(z)
                .copied()
                .unwrap_or_default();
            format!(
                "Slice {} / {} (from the most inferior) — {:.1} mm",
                z, v.header.slices, position
            )
        })
        .unwrap_or_else(|| "No series loaded".into())
    };
    view! {
        <section class="viewer">
            <div class="toolbar">
                {PRESETS
                    .iter()
                    .map(|(name, w)| {
                        let w = *w;
                        view! { <button class="preset" on:click=move |_| ui.window.set(w)>{*name}</button> }
                    })
                    .collect_view()}
                <span class="window" id="window-readout">
                    {move || {
                        let w = ui.window.get();
                        format!("W {:.0} / L {:.0}", w.width, w.level)
                    }}
                </span>
            </div>
            <div class="planes">
                <figure class="axial">
                    <canvas
                        id="axial"
                        tabindex="0"
                        node_ref=axial
                        on:wheel=on_wheel
                        on:keydown=on_key
                        on:mousemove=on_move
                        on:mousedown=on_down
                        on:mouseup=move |_| { drag.set(None); if painting.get_untracked() { painting.set(false); ui.correction.end(); } }
                        on:mouseleave=move |_| { drag.set(None); if painting.get_untracked() { painting.set(false); ui.correction.end(); } }
                    ></canvas>
                    <figcaption id="slice-label">{slice_label}</figcaption>
                    <p class="readout" id="hu-readout">{readout}</p>
                    <p class="hint">"Wheel or ↑/↓: change slice · Shift+↑/↓: move the L3 slice · drag: window/level · click: move the sagittal and coronal planes"</p>
                </figure>
                <figure class="reformat">
                    <canvas id="sagittal" node_ref=sagittal on:click=move |ev| pick_slice(sagittal.get(), ev)></canvas>
                    <figcaption>"Sagittal — yellow: slice shown; blue edge marks: L3"</figcaption>
                    <canvas id="coronal" node_ref=coronal on:click=move |ev| pick_slice(coronal.get(), ev)></canvas>
                    <figcaption>"Coronal"</figcaption>
                </figure>
            </div>
        </section>
    }
}

/// Sizes the canvases in CSS so that one millimetre is as long across as it is down.
fn set_physical_size(
    axial: &HtmlCanvasElement,
    sagittal: &HtmlCanvasElement,
    coronal: &HtmlCanvasElement,
    v: &Volume,
) {
    let h = &v.header;
    let [row_mm, col_mm] = h.geometry.pixel_spacing.unwrap_or([1.0, 1.0]);
    let slice_mm = h.geometry.slice_spacing.unwrap_or(col_mm);
    // Through the CSS object model: the page's CSP forbids inline style attributes.
    let set = |canvas: &HtmlCanvasElement, width_mm: f64, height_mm: f64| {
        let _ = web_sys::HtmlElement::style(canvas)
            .set_property("aspect-ratio", &format!("{width_mm:.3} / {height_mm:.3}"));
    };
    set(axial, h.columns as f64 * col_mm, h.rows as f64 * row_mm);
    set(sagittal, h.rows as f64 * row_mm, h.slices as f64 * slice_mm);
    set(
        coronal,
        h.columns as f64 * col_mm,
        h.slices as f64 * slice_mm,
    );
}

#[component]
fn FactsPanel(ui: Ui) -> impl IntoView {
    let case = ui.case;
    let scan = RwSignal::new(Vec::<(String, String)>::new());
    Effect::new(move |_| {
        ui.selected.get();
        case.prefill();
        let Some(inst) = controller::selected_instance() else {
            return;
        };
        let recorded = |v: Option<String>| v.unwrap_or_else(|| "not recorded".into());
        scan.set(vec![
            (
                "kVp".into(),
                recorded(inst.acquisition.kvp.map(|k| format!("{k:.0}"))),
            ),
            (
                "Slice thickness".into(),
                recorded(inst.slice_thickness.map(|t| format!("{t:.2} mm"))),
            ),
            (
                "Contrast".into(),
                inst.acquisition
                    .contrast_agent
                    .clone()
                    .unwrap_or_else(|| "none recorded".into()),
            ),
            (
                "Manufacturer".into(),
                recorded(inst.acquisition.manufacturer.clone()),
            ),
            ("Model".into(), recorded(inst.acquisition.model.clone())),
            (
                "Study date".into(),
                recorded(inst.acquisition.study_date.clone()),
            ),
        ]);
    });
    let field = move |label: &'static str,
                      id: &'static str,
                      value: RwSignal<String>,
                      hint: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input id=id prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                <small>{hint}</small>
            </label>
        }
    };
    view! {
        <aside class="facts" id="facts">
            <h2>"Patient and scan"</h2>
            <p class="hint">"Prefilled from the DICOM header when recorded; check and complete. Height is needed for SMI and is never guessed."</p>
            {field("Sex (M/F)", "sex", case.sex, "")}
            {field("Age (years)", "age", case.age, "")}
            {field("Height (cm)", "height", case.height_cm, "from PatientSize when recorded")}
            {field("Weight (kg)", "weight", case.weight_kg, "from PatientWeight when recorded")}
            <ul class="errors" id="facts-errors">
                {move || case.anthropometry().1.into_iter().map(|(k, e)| view! { <li data-field=k>{e}</li> }).collect_view()}
            </ul>
            <dl class="scan" id="scan-facts">
                {move || {
                    scan.get()
                        .into_iter()
                        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                        .collect_view()
                }}
            </dl>
        </aside>
    }
}

#[component]
fn Problems(ui: Ui) -> impl IntoView {
    view! {
        <section class="problems" id="problems">
            <h2>{move || format!("Problems ({})", ui.problems.get().len())}</h2>
            <p class="hint">"Files that could not be used. The others were read normally."</p>
            <ul>
                {move || {
                    ui.problems
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
fn DecodingCheck(ui: Ui) -> impl IntoView {
    let download = move |_| {
        let reports = ui.reports.get_untracked();
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
            <button id="check-all" on:click=move |_| controller::check_all()>"Check every file"</button>
            <button id="download-report" disabled=move || ui.reports.get().is_empty() on:click=download>
                "Download report (JSON)"
            </button>
            <table>
                <thead>
                    <tr><th>"File"</th><th>"Encoding"</th><th>"Shape"</th><th>"Stored min / max / mean"</th><th>"HU mean"</th><th>"Problem"</th></tr>
                </thead>
                <tbody>
                    {move || {
                        ui.reports
                            .get()
                            .into_iter()
                            .map(|r| {
                                let syntax = r.transfer_syntax.as_deref().map(|uid| crate::dicom::syntax::info(uid).name).unwrap_or("");
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

/// Offers `text` as a download. The file is made in the browser (a blob URL); nothing
/// is sent anywhere.
/// The L3 level: what the automatic search found and how sure it is, and the user's
/// choice (automatic or set by hand), which measurements and the report will use.
#[component]
fn LevelPanel(ui: Ui) -> impl IntoView {
    let summary = move || {
        let level = ui.level.get()?;
        let text = match (level.status, level.slice_index) {
            (L3Status::Found, Some(slice)) => format!(
                "L3 found automatically at slice {slice} (confidence {:.0}%).",
                level.confidence * 100.0
            ),
            (L3Status::Uncertain, Some(slice)) => format!(
                "L3 is uncertain: best guess slice {slice} (confidence {:.0}%). Please check the sagittal view and set the level by hand if needed.",
                level.confidence * 100.0
            ),
            (L3Status::NotInScan, _) => {
                "L3 does not seem to be in this scan. Check the coverage, or set the level by hand.".to_string()
            }
            (_, None) => "L3 could not be found automatically. Set the level by hand.".to_string(),
        };
        Some(text)
    };
    let choice = move || {
        let choice = ui.l3_choice.get()?;
        Some(match choice.method {
            L3Method::Automatic { .. } => {
                format!("Measurement slice: {} (automatic)", choice.slice)
            }
            L3Method::Manual => format!("Measurement slice: {} (set by hand)", choice.slice),
        })
    };
    let notes = move || ui.level.get().map(|l| l.evidence.notes).unwrap_or_default();
    let evidence = move || {
        let e = ui.level.get()?.evidence;
        let seen = |yes: bool| if yes { "seen" } else { "not seen" };
        let took = ui
            .level_ms
            .get()
            .map(|ms| format!(" Searched in {ms:.0} ms."))
            .unwrap_or_default();
        Some(format!(
            "Evidence: sacrum {}, last rib {}, {} vertebra(e) counted.{took}",
            seen(e.sacrum_seen),
            seen(e.last_rib_seen),
            e.vertebrae_counted
        ))
    };
    let set_here = move |_| {
        ui.l3_choice.set(Some(L3Choice {
            slice: ui.slice.get_untracked(),
            method: L3Method::Manual,
        }))
    };
    let go_to = move |_| {
        if let Some(choice) = ui.l3_choice.get_untracked() {
            ui.slice.set(choice.slice);
        }
    };
    let automatic = move |_| {
        if let Some(level) = ui.level.get_untracked() {
            let choice = L3Choice::automatic(&level);
            if let Some(c) = &choice {
                ui.slice.set(c.slice);
            }
            ui.l3_choice.set(choice);
        }
    };
    view! {
        <section class="level" id="level-panel">
            <h2>"Level (L3)"</h2>
            <p id="level-summary">{summary}</p>
            <p id="level-choice" class="choice">{choice}</p>
            <p id="level-evidence" class="hint">{evidence}</p>
            <ul class="notes">{move || notes().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            <button id="goto-l3" on:click=go_to>"Go to the L3 slice"</button>
            <button id="set-l3" on:click=set_here>"Use the current slice as L3"</button>
            <button id="auto-l3" on:click=automatic>"Back to the automatic choice"</button>
            <button id="l3-up" title="Shift+↑ on the image" on:click=move |_| controller::move_l3(1)>"L3 one slice up"</button>
            <button id="l3-down" title="Shift+↓ on the image" on:click=move |_| controller::move_l3(-1)>"L3 one slice down"</button>
            <p class="hint">"On the sagittal and coronal views: blue labels are the vertebrae found, blue edge marks the L3 slice, the yellow line the slice shown."</p>
        </section>
    }
}
