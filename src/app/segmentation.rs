//! The page's side of segmentation: sends the chosen slice to the segmentation worker,
//! keeps the newest answer, and restarts the worker if it ever dies.

use std::cell::RefCell;

use js_sys::{Int16Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::controller::{self, Ui};
use super::lazy_worker::LazyWorker;
use super::protocol::{FromSegmenter, SegmentationReport, ToSegmenter};

/// A finished segmentation, as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentationView {
    pub report: SegmentationReport,
    pub columns: usize,
    pub rows: usize,
    /// One TissueClass label per pixel of the slice, with the reader's corrections.
    pub labels: Vec<u8>,
    /// The network's output, before any correction.
    pub model_labels: Vec<u8>,
}

impl SegmentationView {
    /// Pixels whose class the reader changed.
    pub fn edited_pixels(&self) -> usize {
        self.labels
            .iter()
            .zip(&self.model_labels)
            .filter(|(a, b)| a != b)
            .count()
    }
}

struct State {
    worker: LazyWorker,
    next_request: u32,
    /// The request whose answer is wanted, with its slice and grid.
    current: Option<(u32, usize, usize, usize)>,
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            worker: LazyWorker::new("./sarcoscope-segmenter_loader.js", on_message, on_crash),
            next_request: 0,
            current: None,
        })
    };
}

fn ui() -> Option<Ui> {
    controller::ui()
}

/// Segments volume slice `slice`; a newer request makes older answers be ignored.
pub fn request(slice: usize, force_cpu: bool) {
    let Some(ui) = ui() else { return };
    let Some((hu, columns, rows, spacing)) = controller::with_volume(|v| {
        let h = &v.header;
        Some((
            // Copied once, straight into the message's buffer.
            Int16Array::from(v.axial(slice)?),
            h.columns,
            h.rows,
            h.geometry.pixel_spacing,
        ))
    })
    .flatten() else {
        return;
    };
    let Some(pixel_spacing) = spacing else {
        ui.segmentation_error.set(Some(
            "This series has no pixel spacing, so areas cannot be measured.".into(),
        ));
        return;
    };
    let request = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.next_request += 1;
        s.current = Some((s.next_request, slice, columns, rows));
        s.next_request
    });
    ui.segmentation_error.set(None);
    ui.segmenting.set(Some(format!(
        "Segmenting slice {slice}{}…",
        if force_cpu { " on the CPU" } else { "" }
    )));
    let message = ToSegmenter::Segment {
        request,
        slice,
        columns,
        rows,
        pixel_spacing,
        force_cpu,
    };
    let Ok(json) = serde_json::to_string(&message) else {
        return;
    };
    let object = Object::new();
    let _ = Reflect::set(&object, &"json".into(), &json.into());
    let _ = Reflect::set(&object, &"hu".into(), &hu);
    if !STATE.with(|s| s.borrow_mut().worker.post(object.into())) {
        ui.segmenting.set(None);
        ui.segmentation_error
            .set(Some("The segmentation worker could not be started.".into()));
    }
}

/// Forgets any segmentation (a new volume was loaded).
pub fn clear(ui: Ui) {
    STATE.with(|s| s.borrow_mut().current = None);
    ui.segmentation.set(None);
    ui.segmenting.set(None);
    ui.segmentation_error.set(None);
}

/// The worker died (out of memory, a device fault): report it and start afresh next
/// time; the loaded volume and everything else on the page stay.
fn on_crash(detail: &str) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.worker.stop(true);
        s.current = None;
    });
    if let Some(ui) = ui() {
        ui.segmenting.set(None);
        ui.segmentation_error.set(Some(format!(
            "The segmentation stopped unexpectedly ({detail}). Nothing else was lost; try again, or choose the CPU."
        )));
    }
}

fn on_message(data: &JsValue) {
    let Some(ui) = ui() else { return };
    let Some(message) = Reflect::get(data, &"json".into())
        .ok()
        .and_then(|v| v.as_string())
        .and_then(|json| serde_json::from_str::<FromSegmenter>(&json).ok())
    else {
        return;
    };
    match message {
        FromSegmenter::Ready => STATE.with(|s| s.borrow_mut().worker.ready()),
        FromSegmenter::Done(report) => {
            let Some((wanted, _, columns, rows)) = STATE.with(|s| s.borrow().current) else {
                return;
            };
            if wanted != report.request {
                return;
            }
            let labels = Reflect::get(data, &"labels".into())
                .ok()
                .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                .map(|a| a.to_vec())
                .unwrap_or_default();
            ui.segmenting.set(None);
            if labels.len() != columns * rows {
                ui.segmentation_error
                    .set(Some("The mask did not arrive whole; segment again.".into()));
                return;
            }
            ui.correction.reset();
            ui.case.reviewed.set(false);
            ui.segmentation.set(Some(SegmentationView {
                report: *report,
                columns,
                rows,
                model_labels: labels.clone(),
                labels,
            }));
        }
        FromSegmenter::Failed { request, message } => {
            if STATE.with(|s| s.borrow().current.map(|c| c.0)) == Some(request) {
                ui.segmenting.set(None);
                ui.segmentation_error
                    .set(Some(format!("The slice could not be segmented: {message}")));
            }
        }
    }
}
