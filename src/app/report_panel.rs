//! The patient report: a printable page (the browser's "Save as PDF") with the key image
//! and its overlay, the numbers with their cut-off source, the scores, eligibility and
//! the QC flags; and the exports (CSV, mask as PNG and DICOM SEG). De-identified unless
//! the user ticks the box.

use leptos::html::Canvas;
use leptos::prelude::*;

use super::body_panel::{fixed, Cite};
use super::download::{save_bytes, save_text};
use super::render::{self, PRESETS};
use super::workspace::Workspace;
use sarcoscope::report::{seg, CaseReport, Severity};

fn file_stem(r: &CaseReport) -> String {
    let code: String = r
        .case
        .case_code
        .as_deref()
        .unwrap_or("case")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("sarcoscope-{code}")
}

/// The mask as DICOM SEG; the source is referenced only when identifiers are included.
pub fn mask_seg(ws: Workspace, identified: bool) -> Result<Vec<u8>, String> {
    let loaded = ws
        .scan
        .loaded
        .get_untracked()
        .ok_or("load a series first")?;
    ws.segmentation.result.with_untracked(|s| {
        let s = s.as_ref().ok_or("segment the slice first")?;
        let ctx = seg::SegContext::of_series_slice(
            &loaded.files,
            &loaded.volume.header.geometry,
            s.report.slice,
            identified,
            s.report.model.clone(),
            s.edited_pixels() > 0,
            (js_sys::Date::now() / 1000.0) as i64,
        )
        .map_err(|e| e.to_string())?;
        seg::write(&s.mask, &ctx).map_err(|e| e.to_string())
    })
}

pub fn mask_png(ws: Workspace) -> Option<Vec<u8>> {
    ws.segmentation.result.with_untracked(|s| {
        s.as_ref()
            .map(|s| sarcoscope::png::grey8(s.mask.columns, s.mask.rows, s.mask.labels()))
    })
}

fn body_rows(r: &CaseReport) -> impl IntoView {
    let c = r.case.composition.clone();
    let i = c.as_ref().and_then(|c| c.indices);
    let line = |name: &'static str, value: String| view! { <tr><td>{name}</td><td class="num">{value}</td></tr> };
    view! {
        {line("SMA (cm²)", fixed(c.as_ref().map(|c| c.sma_cm2), 1))}
        {line("SMI (cm²/m²)", fixed(i.map(|i| i.smi), 1))}
        {line("Muscle attenuation (HU)", fixed(c.as_ref().and_then(|c| c.muscle_hu), 1))}
        {line("Low-attenuation muscle (%)", fixed(c.as_ref().and_then(|c| c.low_attenuation_muscle_pct), 1))}
        {line("IMAT (cm²)", fixed(c.as_ref().map(|c| c.imat_cm2), 1))}
        {line("VAT (cm²)", fixed(c.as_ref().map(|c| c.vat_cm2), 1))}
        {line("SAT (cm²)", fixed(c.as_ref().map(|c| c.sat_cm2), 1))}
        {line("VAT / SAT", fixed(c.as_ref().and_then(|c| c.vat_sat_ratio), 2))}
    }
}

#[component]
pub fn ReportPanel(ws: Workspace, current: Memo<CaseReport>) -> impl IntoView {
    let case = ws.case;
    let image = NodeRef::<Canvas>::new();
    // The key image: the measured slice in the soft-tissue window with its mask.
    Effect::new(move |_| {
        let Some(canvas) = image.get() else { return };
        let Some(slice) = ws.scan.l3_choice.get().map(|c| c.slice) else {
            return;
        };
        ws.segmentation.result.with(|seg| {
            ws.scan.with_volume(|v| {
                if let Some(plane) = v.axial_copy(slice) {
                    let mask = seg
                        .as_ref()
                        .filter(|m| m.report.slice == slice)
                        .map(|m| m.mask.labels());
                    render::draw(
                        &canvas,
                        &plane,
                        v.header.columns,
                        v.header.rows,
                        PRESETS[0].1,
                        mask,
                    );
                }
            })
        });
    });
    // When the sheet was printed (any way: the button or the browser's menu), on it.
    let printed = RwSignal::new(String::new());
    let stamp = move || {
        printed.set(String::from(
            js_sys::Date::new_0().to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED),
        ))
    };
    stamp();
    let _ = window_event_listener(leptos::ev::beforeprint, move |_| stamp());
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let csv = move |_| {
        let r = current.get_untracked();
        let now = String::from(js_sys::Date::new_0().to_iso_string());
        let _ = save_text(&format!("{}.csv", file_stem(&r)), "text/csv", &r.csv(&now));
    };
    let png = move |_| {
        let r = current.get_untracked();
        if let Some(bytes) = mask_png(ws) {
            let _ = save_bytes(&format!("{}-mask.png", file_stem(&r)), "image/png", &bytes);
        }
    };
    let export_error = RwSignal::new(None::<String>);
    let dicom_seg = move |_| {
        let r = current.get_untracked();
        match mask_seg(ws, case.include_identifiers.get_untracked()) {
            Ok(bytes) => {
                export_error.set(None);
                let _ = save_bytes(
                    &format!("{}-seg.dcm", file_stem(&r)),
                    "application/dicom",
                    &bytes,
                );
            }
            Err(e) => export_error.set(Some(format!("The DICOM SEG could not be made: {e}."))),
        }
    };
    // No mask, or one of another slice than the measurement slice.
    let no_mask = move || current.get().case.segmentation.is_none();
    let summary = move || {
        let r = current.get();
        let scan = &r.case.scan;
        let facts = vec![
            (
                "Level",
                scan.level
                    .as_ref()
                    .map_or("not chosen".into(), |l| l.describe()),
            ),
            ("Slice position", fixed(scan.z_mm, 1) + " mm"),
            ("kVp", fixed(scan.kvp, 0)),
            ("Slice thickness", fixed(scan.slice_thickness_mm, 2) + " mm"),
            (
                "Contrast",
                scan.contrast_agent
                    .clone()
                    .unwrap_or_else(|| "none recorded".into()),
            ),
            (
                "Pixel spacing",
                scan.pixel_spacing_mm
                    .map_or("—".into(), |[a, b]| format!("{a:.3} × {b:.3} mm")),
            ),
            (
                "Segmentation",
                r.case
                    .segmentation
                    .as_ref()
                    .map_or("not run".into(), |s| format!("{} on {}", s.model, s.path)),
            ),
            ("Sex", r.case.body.sex.map_or("—".into(), |s| s.to_string())),
            ("Age", r.age_shown()),
            (
                "Height",
                r.case
                    .body
                    .height
                    .map_or("—".into(), |h| format!("{:.0} cm", h.metres * 100.0)),
            ),
            ("Weight", fixed(r.case.body.weight_kg, 1) + " kg"),
        ];
        let identity = match (&r.case.identifiers, &r.case.case_code) {
            (Some(id), code) => format!(
                "Identified (opted in): case {}, study {}, series {}, date {}",
                code.as_deref().unwrap_or("—"),
                id.study_uid,
                id.series_uid,
                id.study_date.as_deref().unwrap_or("—")
            ),
            (None, Some(code)) => format!("De-identified. Case code: {code}"),
            (None, None) => "De-identified".into(),
        };
        let s = &r.case.scores;
        let scores = vec![
            ("MELD", s.meld.map(|m| m.score.to_string())),
            ("MELD-Na", s.meld_na.map(|m| m.to_string())),
            (
                "MELD 3.0",
                s.meld3.map(|m| {
                    format!(
                        "{} (90-day survival {:.1} %)",
                        m.score,
                        100.0 * m.survival_90_day
                    )
                }),
            ),
            (
                "Child–Pugh",
                s.child_pugh
                    .map(|c| format!("{} ({})", c.points, c.class.letter())),
            ),
            (
                "ALBI",
                s.albi
                    .map(|a| format!("{:.2} (grade {})", a.score, a.grade)),
            ),
            ("APRI", s.apri.map(|v| format!("{v:.2}"))),
            ("FIB-4", s.fib4.map(|v| format!("{v:.2}"))),
            (
                "MELD-Sarcopenia",
                s.meld_sarcopenia.map(|v| {
                    let call = s
                        .sarcopenic_for_meld
                        .map_or("", sarcoscope::clinical::meld::martin_call_words);
                    format!("{v:.2} ({call})")
                }),
            ),
        ];
        let calls = [
            ("Sarcopenia", r.sarcopenia.clone()),
            ("Myosteatosis", r.myosteatosis.clone()),
        ];
        view! {
            <p id="report-identity">{identity}</p>
            <dl class="scan">{facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
            <h3>"Body composition"</h3>
            <table class="metrics">{body_rows(&r)}</table>
            {calls.into_iter().map(|(name, call)| match call {
                Some(c) => view! {
                    <p class="report-call" data-call=c.label()>
                        <strong>{format!("{name}: {}", c.label())}</strong>
                        {format!(" — {} (threshold {})", c.cutoffs, fixed(c.threshold, 2))}
                    </p>
                    <Cite source=c.source/>
                }.into_any(),
                None => view! { <p>{format!("{name}: not assessed (no mask)")}</p> }.into_any(),
            }).collect_view()}
            <h3>"Prognosis scores"</h3>
            <table class="metrics" id="report-scores">
                {scores.into_iter().map(|(k, v)| view! { <tr><td>{k}</td><td class="num">{v.unwrap_or_else(|| "—".into())}</td></tr> }).collect_view()}
            </table>
            <p>{format!("Study eligibility, laboratory route: {}; no exclusion criterion applies: {}", r.case.eligibility.laboratory_route.label(), r.case.eligibility.no_exclusion.label())}</p>
            <h3>"Quality control"</h3>
            <ul class="qc" id="report-qc">
                {r.qc.iter().map(|f| {
                    let class = match f.severity { Severity::Info => "qc-info", Severity::Caution => "qc-caution", Severity::Warning => "qc-warning" };
                    view! {
                        <li class=class data-key=f.key>
                            {f.text.clone()}
                            {f.source.map(|s| view! { <Cite source=s/> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="hint">{format!("{} — research software, not a medical device: every number is to be checked by the reader. Scores and cut-offs cite their sources; unverified ones are marked.", r.tool)}</p>
        }
    };
    view! {
        <section class="report-tools" id="report-tools">
            <h2>"Report and exports"</h2>
            <label class="field wide">
                <span>"Case code (pseudonym)"</span>
                <input id="case-code" prop:value=move || case.case_code.get() on:input=move |ev| case.case_code.set(event_target_value(&ev))/>
            </label>
            <label class="toggle">
                <input type="checkbox" id="include-identifiers"
                    prop:checked=move || case.include_identifiers.get()
                    on:change=move |ev| case.include_identifiers.set(event_target_checked(&ev))/>
                "Include study/series identifiers and the study date (off: de-identified)"
            </label>
            <div class="buttons">
                <button id="print-report" on:click=print>"Print / save as PDF"</button>
                <button id="download-csv" on:click=csv>"Download results (CSV)"</button>
                <button id="download-mask-png" disabled=no_mask on:click=png>"Download mask (PNG)"</button>
                <button id="download-seg" disabled=no_mask on:click=dicom_seg>"Download mask (DICOM SEG)"</button>
            </div>
            <p class="error" id="export-error">{move || export_error.get()}</p>
            <p class="hint">"The mask PNG holds one class per pixel: 0 background, 1 muscle, 2 IMAT, 3 VAT, 4 SAT. The DICOM SEG has one binary frame per tissue; it references the source image only when identifiers are included."</p>
        </section>
        <article class="report" id="report">
            <h2>"Sarcoscope — L3 body composition and prognosis"</h2>
            <p class="hint" id="report-produced">{move || format!("Produced {}", printed.get())}</p>
            <canvas id="report-image" node_ref=image></canvas>
            {summary}
        </article>
    }
}
