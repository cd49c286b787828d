//! The page's side of an agreement run: the decoding worker places every reader's mask on
//! its CT slice ([`sarcoscope::agree::session`], the same code as `sarcoscope agree`), a
//! segmentation worker of this view's own makes the automatic mask of each slice, one at
//! a time, and each case is compared here as its mask arrives.

use std::collections::VecDeque;

use js_sys::Int16Array;
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::File;

use crate::envelope::{pack, unpack, Attachments};
use crate::lazy_worker::{Handlers, LazyWorker};
use crate::model_choice::ModelChoice;
use crate::segment::messages::{FromSegmenter, SiteCaseHeader, ToSegmenter};
use sarcoscope::agree::case::{CaseAgreement, Cutoffs, LevelDistance};
use sarcoscope::agree::reference::Numbering;
use sarcoscope::agree::session::{CtSlice, Failed};
use sarcoscope::ingest::messages::{FromDecoder, RequestId, ToDecoder};
use sarcoscope::segment::TissueMask;

/// What the agreement section shows (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub struct AgreementState {
    pub cases: RwSignal<Vec<CaseAgreement>>,
    pub failed: RwSignal<Vec<Failed>>,
    pub status: RwSignal<String>,
    pub running: RwSignal<bool>,
    /// Labels of DICOM SEG segments that said no tissue: the mapping asks for them.
    pub unnamed: RwSignal<Vec<String>>,
    /// Who made the automatic masks: the model, its weights' SHA-256, the path that ran.
    pub automatic: RwSignal<String>,
    /// Cases placed and still to segment, of all placed so far.
    pub progress: RwSignal<(usize, usize)>,
}

/// A reader's mask on its CT slice: waiting for its automatic mask, and kept for
/// fine-tuning.
#[derive(Clone)]
struct Pending {
    case: String,
    slice: CtSlice,
    reference: TissueMask,
    level: Option<LevelDistance>,
}

struct Inner {
    decoder: LazyWorker,
    segmenter: LazyWorker,
    /// The run's request id; answers to an older run are ignored.
    request: u32,
    queue: VecDeque<Pending>,
    segmenting: Option<Pending>,
    /// The decoder has placed every mask.
    placed: bool,
    /// Every mask placed by the run, for fine-tuning on them.
    kept: Vec<Pending>,
    /// The folders' files (CT first), kept to run again with the segments named.
    files: Vec<File>,
    names: Vec<String>,
    ct_files: usize,
}

#[derive(Clone, Copy)]
pub struct Agreement {
    pub state: AgreementState,
    inner: StoredValue<Inner, LocalStorage>,
}

impl Agreement {
    pub fn new(model: ModelChoice) -> Agreement {
        let this = Agreement {
            state: AgreementState {
                cases: RwSignal::new(Vec::new()),
                failed: RwSignal::new(Vec::new()),
                status: RwSignal::new(String::new()),
                running: RwSignal::new(false),
                unnamed: RwSignal::new(Vec::new()),
                automatic: RwSignal::new(String::new()),
                progress: RwSignal::new((0, 0)),
            },
            inner: StoredValue::new_local(Inner {
                decoder: LazyWorker::new("./sarcoscope-worker_loader.js"),
                segmenter: LazyWorker::with_preamble(
                    "./sarcoscope-segmenter_loader.js",
                    std::rc::Rc::new(model),
                ),
                request: 0,
                queue: VecDeque::new(),
                segmenting: None,
                placed: false,
                kept: Vec::new(),
                files: Vec::new(),
                names: Vec::new(),
                ct_files: 0,
            }),
        };
        this.inner.update_value(|i| {
            i.decoder.connect(Handlers::new(
                move |data| this.on_decoder(data),
                move |detail| this.crashed("reading the folders", detail),
            ));
            i.segmenter.connect(Handlers::new(
                move |data| this.on_segmenter(data),
                move |detail| this.crashed("the segmentation", detail),
            ));
        });
        this
    }

    /// Compares the readers' masks of `masks` with automatic masks of `ct`'s slices.
    pub fn start(
        &self,
        ct: (Vec<File>, Vec<String>),
        masks: (Vec<File>, Vec<String>),
        numbering: Numbering,
    ) {
        self.inner.update_value(|i| {
            i.ct_files = ct.0.len();
            i.files = ct.0.into_iter().chain(masks.0).collect();
            i.names = ct.1.into_iter().chain(masks.1).collect();
        });
        self.run(numbering);
    }

    /// Runs again on the same folders, with the segments or numbers named anew.
    pub fn run(&self, numbering: Numbering) {
        let s = self.state;
        s.cases.set(Vec::new());
        s.failed.set(Vec::new());
        s.unnamed.set(Vec::new());
        s.progress.set((0, 0));
        s.running.set(true);
        s.status
            .set("Reading the folders and placing each reader's mask on its CT slice…".into());
        let posted = self.inner.try_update_value(|i| {
            i.request += 1;
            i.queue.clear();
            i.segmenting = None;
            i.placed = false;
            i.kept.clear();
            let message = ToDecoder::Agreement {
                names: i.names.clone(),
                ct_files: i.ct_files,
                numbering,
            };
            let attachments = Attachments {
                files: i.files.clone(),
                ..Attachments::default()
            };
            let (value, transfer) = pack(Some(RequestId(i.request)), message, attachments);
            i.decoder.post(value, transfer)
        });
        if posted != Some(true) {
            s.running.set(false);
            s.status
                .set("The browser could not start the worker that reads the folders.".into());
        }
    }

    /// The readers' masks the last run placed, as fine-tuning takes them: each case's
    /// header, HU and labels. They are named `case 1`, `case 2`… in the order they were
    /// placed (the order of the comparison's table), so that a model card names no file.
    pub fn site_cases(&self) -> Vec<(SiteCaseHeader, Vec<i16>, Vec<u8>)> {
        self.inner.with_value(|i| {
            i.kept
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let header = SiteCaseHeader {
                        name: format!("case {}", k + 1),
                        series: p.slice.series.clone(),
                        z_mm: p.slice.position.map(|at| at[2]),
                        columns: p.slice.columns,
                        rows: p.slice.rows,
                        pixel_spacing: p.slice.pixel_spacing.map(|m| m.0),
                    };
                    (header, p.slice.hu.clone(), p.reference.labels().to_vec())
                })
                .collect()
        })
    }

    /// The message of a worker, if it belongs to the run now going (a "ready" is handed
    /// to `ready` and goes no further).
    fn answer<M: serde::de::DeserializeOwned>(
        &self,
        data: &JsValue,
        is_ready: fn(&M) -> bool,
        ready: fn(&mut Inner),
    ) -> Option<(M, Attachments)> {
        let (envelope, attachments) = unpack::<M>(data).ok()?;
        if is_ready(&envelope.message) {
            self.inner.update_value(ready);
            return None;
        }
        let current = self
            .inner
            .with_value(|i| envelope.request == Some(RequestId(i.request)));
        current.then_some((envelope.message, attachments))
    }

    fn on_decoder(&self, data: &JsValue) {
        let Some((message, attachments)) = self.answer(
            data,
            |m| matches!(m, FromDecoder::Ready),
            |i| i.decoder.ready(),
        ) else {
            return;
        };
        let s = self.state;
        match message {
            FromDecoder::AgreementCase { case, slice, level } => {
                let mut slice = *slice;
                slice.hu = attachments.hu.map(|a| a.to_vec()).unwrap_or_default();
                let labels = attachments.labels.map(|a| a.to_vec()).unwrap_or_default();
                let reference = TissueMask::from_labels(slice.columns, slice.rows, labels);
                match reference.filter(|_| slice.hu.len() == slice.columns * slice.rows) {
                    Some(reference) => {
                        self.inner.update_value(|i| {
                            let pending = Pending {
                                case,
                                slice,
                                reference,
                                level,
                            };
                            i.kept.push(pending.clone());
                            i.queue.push_back(pending);
                        });
                        s.progress.update(|(_, placed)| *placed += 1);
                        self.next();
                    }
                    None => s.failed.update(|f| {
                        f.push(Failed::new(
                            case,
                            "the slice or the mask did not arrive whole",
                        ))
                    }),
                }
            }
            FromDecoder::AgreementFailed { failed } => {
                s.unnamed.update(|u| {
                    for label in &failed.unnamed_segments {
                        if !u.contains(label) {
                            u.push(label.clone());
                        }
                    }
                });
                s.failed.update(|f| f.push(failed));
            }
            FromDecoder::AgreementPlaced { masks } => {
                if masks == 0 {
                    s.status.set("No readers' masks were found in the masks folder: it should hold Slice-O-Matic .tag files, PNG label maps, NIfTI label maps or DICOM SEG files.".into());
                }
                self.inner.update_value(|i| i.placed = true);
                self.finish_if_done();
            }
            FromDecoder::Refused { detail } => {
                self.stop(&format!("Internal error: the worker could not read the page's request ({detail}). Reload the page."));
            }
            _ => {}
        }
    }

    /// Sends the next placed case to the segmentation worker, if it is free.
    fn next(&self) {
        let s = self.state;
        let posted = self.inner.try_update_value(|i| {
            if i.segmenting.is_some() {
                return None;
            }
            let pending = i.queue.pop_front()?;
            let message = ToSegmenter::Segment {
                slice: 0,
                columns: pending.slice.columns,
                rows: pending.slice.rows,
                pixel_spacing: pending.slice.pixel_spacing.map(|m| m.0),
                force_cpu: false,
            };
            let attachments = Attachments {
                hu: Some(Int16Array::from(pending.slice.hu.as_slice())),
                ..Attachments::default()
            };
            let (value, transfer) = pack(Some(RequestId(i.request)), message, attachments);
            let case = pending.case.clone();
            i.segmenting = Some(pending);
            Some((i.segmenter.post(value, transfer), case))
        });
        if let Some(Some((posted, case))) = posted {
            if posted {
                let (done, placed) = s.progress.get_untracked();
                s.status.set(format!(
                    "Segmenting {case} ({} of {placed} placed so far)…",
                    done + 1
                ));
            } else {
                self.stop("The browser could not start the segmentation worker.");
            }
        }
    }

    fn on_segmenter(&self, data: &JsValue) {
        let Some((message, attachments)) = self.answer(
            data,
            |m| matches!(m, FromSegmenter::Ready),
            |i| i.segmenter.ready(),
        ) else {
            return;
        };
        let Some(Some(pending)) = self.inner.try_update_value(|i| i.segmenting.take()) else {
            return;
        };
        let s = self.state;
        match message {
            FromSegmenter::Done(report) => {
                let labels = attachments.labels.map(|a| a.to_vec()).unwrap_or_default();
                let slice = &pending.slice;
                match TissueMask::from_labels(slice.columns, slice.rows, labels) {
                    Some(auto) => {
                        let sha = report
                            .model_sha256
                            .get(..12)
                            .unwrap_or(&report.model_sha256);
                        s.automatic.set(format!(
                            "{} (weights SHA-256 {sha}…) on {}",
                            report.model,
                            report.path()
                        ));
                        let case = CaseAgreement::of(
                            &pending.case,
                            &auto,
                            &pending.reference,
                            &slice.axial(),
                            &slice.body,
                            Cutoffs::default(),
                            pending.level,
                        );
                        s.cases.update(|c| c.push(case));
                    }
                    None => s.failed.update(|f| {
                        f.push(Failed::new(
                            &pending.case,
                            "the automatic mask did not arrive whole",
                        ))
                    }),
                }
            }
            FromSegmenter::Failed { message } | FromSegmenter::Refused { detail: message } => {
                s.failed.update(|f| {
                    f.push(Failed::new(
                        &pending.case,
                        format!("the automatic mask could not be made: {message}"),
                    ))
                });
            }
            FromSegmenter::Ready
            | FromSegmenter::ModelRefused { .. }
            | FromSegmenter::Training(_)
            | FromSegmenter::FineTuned { .. } => {}
        }
        s.progress.update(|(done, _)| *done += 1);
        self.next();
        self.finish_if_done();
    }

    fn finish_if_done(&self) {
        let done = self
            .inner
            .with_value(|i| i.placed && i.queue.is_empty() && i.segmenting.is_none());
        if !done || !self.state.running.get_untracked() {
            return;
        }
        let s = self.state;
        s.running.set(false);
        let (cases, failed) = (
            s.cases.with_untracked(Vec::len),
            s.failed.with_untracked(Vec::len),
        );
        let unnamed = s.unnamed.with_untracked(Vec::len);
        s.status.set(if unnamed > 0 {
            format!("{cases} cases compared, {failed} not. Some DICOM SEG segments do not say which tissue they are: name them below and compare again.")
        } else {
            format!("{cases} cases compared, {failed} not.")
        });
    }

    fn stop(&self, why: &str) {
        self.inner.update_value(|i| {
            i.request += 1;
            i.queue.clear();
            i.segmenting = None;
        });
        self.state.running.set(false);
        self.state.status.set(why.to_owned());
    }

    /// A worker died: the run stops, saying so; what was compared stays shown.
    fn crashed(&self, what: &str, detail: &str) {
        self.inner.update_value(|i| {
            i.decoder.stop(true);
            i.segmenter.stop(true);
        });
        self.stop(&format!("The run stopped: {what} failed in the browser ({detail}). The cases compared so far are shown; check the files named under 'Not compared' and run again."));
    }
}
