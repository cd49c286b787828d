//! The page's side of segmentation: sends the chosen slice to the segmentation worker,
//! keeps the newest answer, and restarts the worker if it ever dies.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::messages::{FromSegmenter, ToSegmenter};
use crate::envelope::{pack, unpack, Attachments};
use crate::lazy_worker::{Handlers, LazyWorker};
use crate::model_choice::ModelChoice;
use crate::workspace::{SegmentationView, Workspace};
use sarcoscope::ingest::messages::RequestId;
use sarcoscope::segment::TissueMask;

/// The request whose answer is wanted, with its slice's grid.
#[derive(Clone, Copy)]
struct Wanted {
    id: RequestId,
    columns: usize,
    rows: usize,
}

struct Inner {
    worker: LazyWorker,
    last_id: u32,
    wanted: Option<Wanted>,
    ws: Option<Workspace>,
}

/// A handle on the segmentation worker (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub struct Segmenter {
    inner: StoredValue<Inner, LocalStorage>,
}

impl Segmenter {
    pub fn new(model: ModelChoice) -> Segmenter {
        Segmenter {
            inner: StoredValue::new_local(Inner {
                worker: LazyWorker::with_preamble(
                    "./sarcoscope-segmenter_loader.js",
                    Rc::new(model),
                ),
                last_id: 0,
                wanted: None,
                ws: None,
            }),
        }
    }

    /// Sends the worker's answers and crashes to this client, which updates `ws`.
    pub fn connect(&self, ws: Workspace) {
        let this = *self;
        let handlers = Handlers::new(
            move |data| this.on_message(data),
            move |detail| this.on_crash(detail),
        );
        self.inner.update_value(|i| {
            i.worker.connect(handlers);
            i.ws = Some(ws);
        });
    }

    fn ws(&self) -> Option<Workspace> {
        self.inner.with_value(|i| i.ws)
    }

    /// Segments volume slice `slice`; a newer request makes older answers be ignored.
    pub fn request(&self, slice: usize, force_cpu: bool) {
        let Some(ws) = self.ws() else { return };
        let seg = ws.segmentation;
        let Some((hu, columns, rows, spacing)) = ws
            .scan
            .with_volume_untracked(|v| {
                let h = &v.header;
                // Copied once, from the page's voxels into the message's buffer.
                let len = v.slice_len();
                let hu = (slice < h.slices).then(|| v.hu.copy(slice * len, len))??;
                Some((hu, h.columns, h.rows, h.geometry.pixel_spacing))
            })
            .flatten()
        else {
            return;
        };
        let Some(pixel_spacing) = spacing else {
            seg.error.set(Some(
                "This series has no pixel spacing, so areas cannot be measured.".into(),
            ));
            return;
        };
        seg.error.set(None);
        seg.running.set(Some(format!(
            "Segmenting slice {slice}{}…",
            if force_cpu { " on the CPU" } else { "" }
        )));
        let message = ToSegmenter::Segment {
            slice,
            columns,
            rows,
            pixel_spacing,
            force_cpu,
        };
        let attachments = Attachments {
            hu: Some(hu),
            ..Attachments::default()
        };
        let started = self.inner.try_update_value(|i| {
            i.last_id = i.last_id.wrapping_add(1);
            let id = RequestId(i.last_id);
            i.wanted = Some(Wanted { id, columns, rows });
            let (value, transfer) = pack(Some(id), message, attachments);
            i.worker.post(value, transfer)
        });
        if started != Some(true) {
            seg.running.set(None);
            seg.error
                .set(Some("The segmentation worker could not be started.".into()));
        }
    }

    /// Stops a segmentation at the user's request; the mask on screen stays.
    pub fn cancel(&self) {
        self.inner.update_value(|i| {
            i.worker.stop(true);
            i.wanted = None;
        });
        if let Some(ws) = self.ws() {
            ws.segmentation.running.set(None);
        }
    }

    /// Forgets any segmentation (another series was chosen).
    pub fn clear(&self) {
        self.inner.update_value(|i| i.wanted = None);
        if let Some(ws) = self.ws() {
            let seg = ws.segmentation;
            seg.result.set(None);
            seg.running.set(None);
            seg.error.set(None);
        }
    }

    /// The worker died (out of memory, a device fault): report it and start afresh next
    /// time; the loaded volume and everything else on the page stay.
    fn on_crash(&self, detail: &str) {
        self.inner.update_value(|i| {
            i.worker.stop(true);
            i.wanted = None;
        });
        if let Some(ws) = self.ws() {
            ws.segmentation.running.set(None);
            ws.segmentation.error.set(Some(format!(
                "The segmentation stopped unexpectedly ({detail}). Nothing else was lost; try again, or choose the CPU."
            )));
        }
    }

    fn on_message(&self, data: &JsValue) {
        let Some(ws) = self.ws() else { return };
        let seg = ws.segmentation;
        let (envelope, attachments) = match unpack::<FromSegmenter>(data) {
            Ok(received) => received,
            Err(e) => {
                web_sys::console::error_1(
                    &format!("segmentation worker: unreadable message: {e:?}").into(),
                );
                return;
            }
        };
        match &envelope.message {
            FromSegmenter::Ready => {
                self.inner.update_value(|i| i.worker.ready());
                return;
            }
            FromSegmenter::ModelRefused {
                message,
                generation,
            } => {
                ws.model.refused(*generation, message);
                return;
            }
            _ => {}
        }
        let Some(wanted) = self
            .inner
            .with_value(|i| i.wanted)
            .filter(|w| Some(w.id) == envelope.request)
        else {
            return;
        };
        seg.running.set(None);
        match envelope.message {
            FromSegmenter::Done(report) => {
                let labels = attachments.labels.map(|a| a.to_vec()).unwrap_or_default();
                let Some(mask) = TissueMask::from_labels(wanted.columns, wanted.rows, labels)
                else {
                    seg.error
                        .set(Some("The mask did not arrive whole; segment again.".into()));
                    return;
                };
                // A reader-study case of independent tracing starts from nothing: its
                // first automatic mask is never shown.
                let mask = if ws.take_blank_start() {
                    TissueMask::empty(mask.columns, mask.rows)
                } else {
                    mask
                };
                ws.correction.reset();
                ws.case.reviewed.set(false);
                seg.result.set(Some(SegmentationView {
                    report: *report,
                    model_mask: mask.clone(),
                    mask,
                }));
            }
            FromSegmenter::Failed { message } => {
                seg.error
                    .set(Some(format!("The slice could not be segmented: {message}")));
            }
            FromSegmenter::Refused { detail } => {
                seg.error.set(Some(format!(
                    "Internal error: the segmentation worker could not read the page's request ({detail}). Reload the page."
                )));
            }
            // Answers to the model choice and to fine-tuning, which this view never asks.
            FromSegmenter::Ready
            | FromSegmenter::ModelRefused { .. }
            | FromSegmenter::Training(_)
            | FromSegmenter::FineTuned { .. } => {}
        }
    }
}
