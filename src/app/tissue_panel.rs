//! The segmentation panel: run it, see which path ran and how long it took, read the
//! areas and attenuation, and know where the HU windows come from.

use leptos::prelude::*;

use super::segment::messages::Backend;
use super::workspace::Workspace;
use sarcoscope::report::CaseReport;
use sarcoscope::segment::{HuWindows, TissueClass};

#[component]
pub fn SegmentationPanel(ws: Workspace, current: Memo<CaseReport>) -> impl IntoView {
    let seg = ws.segmentation;
    let scan = ws.scan;
    let run = move |force_cpu: bool| {
        let edited = seg
            .result
            .with_untracked(|s| s.as_ref().map_or(0, |s| s.edited_pixels()));
        if edited > 0 {
            let question = format!(
                "Segmenting again replaces the mask and your {edited} corrected pixels. Continue?"
            );
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message(&question).ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
        }
        if let Some(choice) = scan.l3_choice.get_untracked() {
            scan.slice.set(choice.slice);
            ws.segmenter.request(choice.slice, force_cpu);
        }
    };
    let idle = move || scan.l3_choice.get().is_some() && seg.running.get().is_none();
    let stale = move || {
        let slice = seg.result.with(|s| s.as_ref().map(|s| s.report.slice))?;
        let choice = scan.l3_choice.get()?;
        (slice != choice.slice).then(|| {
            format!(
                "This mask is of slice {slice}; the measurement slice is now {}. Segment again to measure it.",
                choice.slice
            )
        })
    };
    let path = move || {
        let seg = seg.result.with(|s| s.as_ref().map(|s| s.report.clone()))?;
        let ran = match (&seg.backend, &seg.why_cpu) {
            (Backend::WebGpu, _) => seg.path(),
            (Backend::Cpu, Some(why)) => format!("the CPU — {why}"),
            (Backend::Cpu, None) => "the CPU".to_owned(),
        };
        let load = if seg.load_ms >= 1.0 {
            format!(" (model loaded in {:.0} ms)", seg.load_ms)
        } else {
            String::new()
        };
        let chosen = if seg.chosen_model {
            " (chosen in this browser, not the shipped model)"
        } else {
            ""
        };
        Some(format!(
            "Slice {} segmented on {ran} in {:.0} ms{load}. Model {}{chosen}, weights SHA-256 {}….",
            seg.slice,
            seg.segment_ms,
            seg.model,
            seg.model_sha256.get(..12).unwrap_or_default()
        ))
    };
    let left_out = move || {
        seg.result
            .with(|s| s.as_ref().and_then(|s| s.report.left_out.describe()))
    };
    let backend_attr = move || {
        seg.result
            .with(|s| s.as_ref().map(|s| s.report.backend))
            .map_or("", |backend| match backend {
                Backend::WebGpu => "webgpu",
                Backend::Cpu => "cpu",
            })
    };
    // From the mask on screen (corrections included), not the worker's first answer.
    let rows = move || {
        let tissues = current.get().case.composition?.tissues;
        Some(
            tissues
                .into_iter()
                .map(|m| {
                    // A class, not a style attribute: the CSP allows no inline styles.
                    let swatch = format!("swatch swatch-{}", m.tissue.key());
                    let mean = m.mean_hu.map_or("—".to_owned(), |v| format!("{v:.1}"));
                    let sd = m.sd_hu.map_or("—".to_owned(), |v| format!("{v:.1}"));
                    let range = HuWindows::ALBERTA.of(m.tissue).map_or(String::new(), |r| {
                        format!("{:.0} to {:.0}", r.low.0, r.high.0)
                    });
                    view! {
                        <tr id=format!("tissue-{}", m.tissue.key()) data-area=format!("{:.4}", m.area_cm2)>
                            <td><span class=swatch></span>{m.tissue.name()}</td>
                            <td class="num">{format!("{:.1}", m.area_cm2)}</td>
                            <td class="num">{mean}</td>
                            <td class="num">{sd}</td>
                            <td class="num">{range}</td>
                        </tr>
                    }
                })
                .collect_view(),
        )
    };
    view! {
        <section class="segmentation" id="segmentation-panel" data-backend=backend_attr>
            <h2>"Muscle and fat"</h2>
            <button id="segment" disabled=move || !idle() on:click=move |_| run(false)>
                "Segment the measurement slice"
            </button>
            <button id="segment-cpu" disabled=move || !idle() on:click=move |_| run(true)>
                "Segment on the CPU"
            </button>
            <label class="toggle">
                <input
                    type="checkbox"
                    id="overlay"
                    prop:checked=move || seg.overlay.get()
                    on:change=move |ev| seg.overlay.set(event_target_checked(&ev))
                />
                "Show the mask on the image"
            </label>
            <p id="segmentation-busy" class="busy">{move || seg.running.get()}</p>
            <button id="cancel-segmentation" hidden=move || seg.running.with(Option::is_none) on:click=move |_| ws.segmenter.cancel()>
                "Cancel"
            </button>
            <p id="segmentation-error" class="error">{move || seg.error.get()}</p>
            <p id="segmentation-stale" class="warning">{stale}</p>
            <table id="tissue-table" class="tissues">
                <thead>
                    <tr><th>"Tissue"</th><th>"Area (cm²)"</th><th>"Mean HU"</th><th>"SD HU"</th><th>"HU window"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <p id="segmentation-left-out" class="warning">{left_out}</p>
            <p id="segmentation-path" class="hint">{path}</p>
            <p class="hint">
                {format!("{}. ", HuWindows::CITATION)}
                "Areas use the slice's own pixel spacing. The model is a baseline trained on synthetic phantoms and one real CT whose labels another model made, not a reader (see models/"
                {sarcoscope::segment::DEFAULT_MODEL}
                ".json): check the mask before using any number."
            </p>
            <p class="hint">{format!("Classes: {}.", TissueClass::TISSUES.map(|t| t.name()).join(", "))}</p>
        </section>
    }
}
