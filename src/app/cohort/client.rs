//! The page's side of a cohort run: hands each worker answer to the [`Run`] state
//! machine and posts what it asks next — headers and volumes to decoding workers (one
//! per core, up to [`MAX_DECODERS`], each study in one of them), slices to a
//! segmentation worker, all its own, so the Patient view's are untouched. The volumes
//! held and asked for at once stay within the run's budget
//! ([`sarcoscope::batch::run::VOLUME_BUDGET_BYTES`]). After every study the run's progress
//! is kept in this browser (IndexedDB), so that a reload, or a crash of the tab, goes on
//! where it stopped when the same folder is chosen again.

use std::collections::VecDeque;

use js_sys::Int16Array;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;
use web_sys::File;

use super::join::Clinical;
use super::{folder, masks};
use crate::envelope::{pack, unpack, Attachments};
use crate::lazy_worker::{Handlers, LazyWorker};
use crate::model_choice::ModelChoice;
use crate::segment::messages::{FromSegmenter, ToSegmenter};
use crate::store;
use crate::workspace::Workspace;
use sarcoscope::batch::codes::CaseCodes;
use sarcoscope::batch::masks::MaskFiles;
use sarcoscope::batch::reopen::Reopened;
use sarcoscope::batch::row::Row;
use sarcoscope::batch::run::{Next, Run, Saved, Turn};
use sarcoscope::batch::{Settings, StudyError, StudySlice};
use sarcoscope::body::{MyosteatosisCutoffs, SmiCutoffs};
use sarcoscope::ingest::messages::{FromDecoder, RequestId, ToDecoder};
use sarcoscope::ingest::FileIndex;
use sarcoscope::report::CaseReport;
use sarcoscope::segment::TissueMask;

/// What the Cohort view shows (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub struct CohortState {
    pub rows: RwSignal<Vec<Row>>,
    /// Studies with a row, of all; `None` while no run has started.
    pub progress: RwSignal<Option<(usize, usize)>>,
    pub running: RwSignal<bool>,
    pub status: RwSignal<String>,
    /// A run kept in this browser from before (a reload): its progress, until the same
    /// folder is chosen again or it is forgotten.
    pub kept: RwSignal<Option<Saved>>,
    /// How many rows the browser's database holds now (set once a save is written).
    pub stored: RwSignal<usize>,
    /// Files of this run left out of their studies (name, why) — damaged DICOM, archives
    /// left packed: named, not hidden (files that are not DICOM, and DICOMDIR indexes, are
    /// expected and not listed).
    pub left_out: RwSignal<Vec<(String, String)>>,
    /// The codes of the studies that can be opened in the Patient view (a CT series, and
    /// the folder chosen in this page's life).
    pub reopenable: RwSignal<Vec<String>>,
    /// The case-code prefix typed for the next run (a kept run's own once it is known).
    pub prefix: RwSignal<String>,
    /// Why masks could not be kept on this browser's disk, if they could not (the rows
    /// are not affected); empty while they are.
    pub masks_said: RwSignal<String>,
    /// The name of the folder chosen with the browser's picker and kept with the run,
    /// which a click reads again after a reload.
    pub kept_folder: RwSignal<Option<String>>,
    /// The clinical table joined to the rows, kept with the run.
    pub clinical: RwSignal<Option<Clinical>>,
}

/// The cut-offs the view measures with (the cirrhosis defaults).
pub const DEFAULT_SETTINGS: Settings = Settings {
    smi_cutoffs: SmiCutoffs::Carey2017,
    myosteatosis_cutoffs: MyosteatosisCutoffs::Ebadi2022,
};

/// The record's key in the browser's database.
const KEPT: &str = "cohort-run";
/// The clinical table's.
const CLINICAL: &str = "cohort-clinical";

/// The most decoding workers a run starts, however many cores the browser reports: each
/// holds the study it decodes in its own memory (which WebAssembly never hands back).
pub const MAX_DECODERS: usize = 4;

/// Headers a decoding worker reads at the least before another shares the reading:
/// starting a worker (compiling its WebAssembly) costs more than reading a few hundred.
const HEADERS_PER_WORKER: usize = 1000;

/// A decoding worker and the studies posted to it, in the order it answers them.
struct Decoder {
    worker: LazyWorker,
    turns: VecDeque<Turn>,
    /// While it reads headers: the place among the run's files of the first file it
    /// was given (its answers count from there).
    headers_from: Option<usize>,
}

impl Decoder {
    /// Stops the worker; the studies it had are returned (their answers will not come).
    fn stop(&mut self) -> VecDeque<Turn> {
        self.worker.stop(true);
        std::mem::take(&mut self.turns)
    }
}

struct Inner {
    /// Each reads the headers of its share of the files, then decodes studies.
    decoders: Vec<Decoder>,
    segmenter: LazyWorker,
    run: Option<Run>,
    files: Vec<File>,
    /// Every request names the run it belongs to: an answer to a cancelled run is
    /// ignored.
    generation: u32,
    /// The size of the slice sent to be segmented, to read its mask back.
    slice: Option<(usize, usize)>,
    /// The kept run's folder handle (the browser's picker), if it was chosen so.
    folder: Option<JsValue>,
}

#[derive(Clone, Copy)]
pub struct Cohort {
    pub state: CohortState,
    inner: StoredValue<Inner, LocalStorage>,
}

impl Cohort {
    pub fn new(model: ModelChoice) -> Cohort {
        let this = Cohort {
            state: CohortState {
                rows: RwSignal::new(Vec::new()),
                progress: RwSignal::new(None),
                running: RwSignal::new(false),
                status: RwSignal::new(String::new()),
                kept: RwSignal::new(None),
                stored: RwSignal::new(0),
                left_out: RwSignal::new(Vec::new()),
                reopenable: RwSignal::new(Vec::new()),
                prefix: RwSignal::new(CaseCodes::default().prefix().to_owned()),
                masks_said: RwSignal::new(String::new()),
                kept_folder: RwSignal::new(None),
                clinical: RwSignal::new(None),
            },
            inner: StoredValue::new_local(Inner {
                decoders: (0..decoder_count())
                    .map(|_| Decoder {
                        worker: LazyWorker::new("./sarcoscope-worker_loader.js"),
                        turns: VecDeque::new(),
                        headers_from: None,
                    })
                    .collect(),
                segmenter: LazyWorker::with_preamble(
                    "./sarcoscope-segmenter_loader.js",
                    std::rc::Rc::new(model),
                ),
                run: None,
                files: Vec::new(),
                generation: 0,
                slice: None,
                folder: None,
            }),
        };
        let segmenter = Handlers::new(
            move |data| this.on_segmenter(data),
            move |detail| this.crashed(Worker::Segmenter, detail),
        );
        this.inner.update_value(|i| {
            for (k, decoder) in i.decoders.iter_mut().enumerate() {
                decoder.worker.connect(Handlers::new(
                    move |data| this.on_decoder(k, data),
                    move |detail| this.crashed(Worker::Decoder(k), detail),
                ));
            }
            i.segmenter.connect(segmenter);
        });
        let s = this.state;
        spawn_local(async move {
            let kept = store::load_json(CLINICAL).await;
            if let Some(clinical) = kept.and_then(|json| serde_json::from_str(&json).ok()) {
                s.clinical.set(Some(clinical));
            }
        });
        spawn_local(async move {
            if let Some(handle) = folder::kept().await {
                s.kept_folder.set(Some(folder::name(&handle)));
                this.inner.update_value(|i| i.folder = Some(handle));
            }
        });
        spawn_local(async move {
            let Some(saved) = store::load_json(KEPT)
                .await
                .and_then(|json| serde_json::from_str::<Saved>(&json).ok())
            else {
                return;
            };
            // Shown at once: what was measured before the reload is not lost.
            let rows = saved.rows(DEFAULT_SETTINGS).unwrap_or_default();
            s.status.set(format!(
                "A run is kept in this browser with {} studies measured: choose the same folder to go on (another folder starts afresh and replaces it).",
                rows.len()
            ));
            s.stored.set(rows.len());
            s.rows.set(rows);
            s.prefix.set(saved.codes.prefix().to_owned());
            s.kept.set(Some(saved));
        });
        this
    }

    /// Deletes the kept run from this browser.
    pub fn forget(&self) {
        let s = self.state;
        self.inner.update_value(|i| i.run = None);
        s.kept.set(None);
        s.rows.set(Vec::new());
        s.reopenable.set(Vec::new());
        s.progress.set(None);
        s.status.set("The kept run is forgotten.".into());
        s.masks_said.set(String::new());
        s.kept_folder.set(None);
        self.inner.update_value(|i| i.folder = None);
        self.keep_clinical(None);
        spawn_local(async move {
            let _ = store::forget_json(KEPT).await;
            let _ = masks::forget().await;
            folder::forget().await;
        });
    }

    /// Measures every study among `files` (named by their path in the chosen folder),
    /// coded with the typed prefix unless the kept run of this folder goes on with its
    /// own; `handle` is the folder's when it was chosen with the browser's picker.
    pub fn start(&self, files: Vec<File>, names: Vec<String>, handle: Option<JsValue>) {
        let s = self.state;
        let codes = match CaseCodes::new(&s.prefix.get_untracked()) {
            Ok(codes) => codes,
            Err(e) => return s.status.set(format!("Not started: {e}.")),
        };
        let settings = DEFAULT_SETTINGS;
        s.rows.set(Vec::new());
        s.left_out.set(Vec::new());
        s.reopenable.set(Vec::new());
        s.running.set(true);
        s.progress.set(Some((0, 0)));
        s.status
            .set(format!("Reading the headers of {} files…", files.len()));
        let kept = s.kept.get_untracked();
        let (run, next) = Run::new(names, settings, codes.clone(), kept.as_ref());
        if run.restored() > 0 {
            let prefix = run.codes().prefix();
            let kept_codes = if run.codes() == &codes {
                String::new()
            } else {
                format!(" It keeps its case codes ({prefix}0001, …).")
            };
            s.status.set(format!(
                "Going on from the run kept in this browser: {} studies already have their row.{kept_codes} Reading the headers…",
                run.restored()
            ));
        }
        s.prefix.set(run.codes().prefix().to_owned());
        s.masks_said.set(String::new());
        match handle {
            Some(handle) => {
                s.kept_folder.set(Some(folder::name(&handle)));
                self.inner.update_value(|i| i.folder = Some(handle.clone()));
                spawn_local(async move {
                    if let Err(e) = folder::keep(handle).await {
                        s.masks_said.set(format!("The folder could not be kept for after a reload ({e}): choose it again then."));
                    }
                });
            }
            // Another folder than the kept run's: its handle goes.
            None if run.restored() == 0 => {
                s.kept_folder.set(None);
                self.inner.update_value(|i| i.folder = None);
                spawn_local(folder::forget());
            }
            None => {}
        }
        if run.restored() == 0 {
            // A new run: the last run's masks and clinical table go with it.
            self.keep_clinical(None);
            spawn_local(async move {
                if let Err(e) = masks::forget().await {
                    s.masks_said.set(format!(
                        "The last run's masks could not be deleted from this browser's disk ({e})."
                    ));
                }
            });
        }
        self.inner.update_value(|i| {
            i.generation = i.generation.wrapping_add(1);
            i.decoders.iter_mut().for_each(|d| drop(d.stop()));
            i.segmenter.stop(true);
            i.run = Some(run);
            i.files = files;
        });
        self.apply(next);
    }

    /// Measures the folder the user picks with the browser's picker (its handle is kept).
    pub fn pick(&self) {
        let this = *self;
        spawn_local(async move {
            match folder::pick().await {
                Ok(Some(chosen)) => this.start(chosen.files, chosen.names, Some(chosen.handle)),
                Ok(None) => {}
                Err(e) => this
                    .state
                    .status
                    .set(format!("The folder could not be read: {e}.")),
            }
        });
    }

    /// Reads the kept run's folder again (after a reload) and goes on with the run.
    pub fn reopen_folder(&self) {
        let this = *self;
        let Some(handle) = self.inner.with_value(|i| i.folder.clone()) else {
            return;
        };
        spawn_local(async move {
            match folder::read(handle).await {
                Ok(chosen) => this.start(chosen.files, chosen.names, Some(chosen.handle)),
                Err(e) => this.state.status.set(format!(
                    "The kept folder could not be read again ({e}): choose it with one of the buttons above."
                )),
            }
        });
    }

    /// Stops the run; the rows so far stay and can be downloaded, and their studies
    /// opened (answers to the stopped run's requests are ignored: a new generation).
    pub fn cancel(&self) {
        self.inner.update_value(|i| {
            i.generation = i.generation.wrapping_add(1);
            i.decoders.iter_mut().for_each(|d| drop(d.stop()));
            i.segmenter.stop(true);
        });
        self.state.running.set(false);
        self.state
            .status
            .set("Stopped. The rows above are kept; download them or start again.".into());
    }

    /// Opens study `code` in the Patient view (`ws`), on its row's level: the reader's
    /// corrections there can be saved back to its row. `false` when this page has not the
    /// study's files (the folder was not chosen since the page was loaded).
    pub fn open(&self, code: &str, ws: Workspace) -> bool {
        let found = self.inner.with_value(|i| {
            let run = i.run.as_ref()?;
            let (reopened, files) = run.reopen(code)?;
            let names = files
                .iter()
                .map(|&f| run.name(f).unwrap_or_default().to_owned())
                .collect();
            let files = files
                .iter()
                .filter_map(|f| i.files.get(f.0).cloned())
                .collect();
            Some((reopened, files, names))
        });
        let Some((reopened, files, names)) = found else {
            return false;
        };
        ws.review.set(Some(reopened));
        ws.decoder.add_files(files, names);
        true
    }

    /// The reader's measurement of a reopened study becomes its row, and the corrected
    /// mask its mask, kept at once; `false` when the run that had the study is gone
    /// (forgotten, or another folder).
    pub fn revise(&self, reopened: &Reopened, report: &CaseReport, mask: MaskFiles) -> bool {
        let revised = self
            .inner
            .try_update_value(|i| i.run.as_mut().is_some_and(|r| r.revise(reopened, report)))
            .unwrap_or(false);
        if revised {
            self.keep();
            self.show();
            self.keep_masks(reopened.code.clone(), Ok(mask));
        }
        revised
    }

    /// Joins `clinical` to the rows (none: no join), kept in this browser with the run.
    pub fn keep_clinical(&self, clinical: Option<Clinical>) {
        let json = clinical
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok());
        self.state.clinical.set(clinical);
        spawn_local(async move {
            let _ = match json {
                Some(json) => store::save_json(CLINICAL, &json).await,
                None => store::forget_json(CLINICAL).await,
            };
        });
    }

    /// Writes a study's mask files to this browser's disk, for the masks' ZIP.
    fn keep_masks(&self, code: String, made: Result<MaskFiles, StudyError>) {
        let said = self.state.masks_said;
        spawn_local(async move {
            let kept = match made {
                Ok(files) => masks::keep(&code, &files).await,
                Err(e) => Err(e.reason()),
            };
            if let Err(why) = kept {
                said.set(format!("The mask of {code} could not be kept for the masks' ZIP: {why}. Its row is not affected."));
            }
        });
    }

    /// Saves the run's progress in this browser (after every study, and every revision).
    fn keep(&self) {
        let s = self.state;
        let Some(saved) = self.inner.with_value(|i| i.run.as_ref().map(Run::saved)) else {
            return;
        };
        let count = saved.rows.len();
        s.kept.set(Some(saved.clone()));
        if let Ok(json) = serde_json::to_string(&saved) {
            spawn_local(async move {
                if store::save_json(KEPT, &json).await.is_ok() {
                    s.stored.set(count);
                }
            });
        }
    }

    fn now() -> f64 {
        js_sys::Date::now()
    }

    /// Posts what the run asks next, and shows where it stands.
    fn apply(&self, next: Next) {
        let s = self.state;
        let posted = self.inner.try_update_value(|i| {
            let id = Some(RequestId(i.generation));
            match next {
                Next::Headers => {
                    // Each worker reads an equal share, in the files' order.
                    let total = i.files.len();
                    let workers = total
                        .div_ceil(HEADERS_PER_WORKER)
                        .clamp(1, i.decoders.len().max(1));
                    let mut posted = Some(!i.decoders.is_empty());
                    // A run stopped while reading headers left its shares behind.
                    i.decoders.iter_mut().for_each(|d| d.headers_from = None);
                    for (k, decoder) in i.decoders.iter_mut().enumerate().take(workers) {
                        let share = total * k / workers..total * (k + 1) / workers;
                        decoder.headers_from = Some(share.start);
                        let attachments = Attachments {
                            files: i.files.get(share).unwrap_or_default().to_vec(),
                            ..Attachments::default()
                        };
                        let message = ToDecoder::HeadersInBatches {
                            decode_ahead: false,
                        };
                        let (value, transfer) = pack(id, message, attachments);
                        if !decoder.worker.post(value, transfer) {
                            posted = Some(false);
                        }
                    }
                    posted
                }
                volume @ Next::Volume { .. } => Some(post_volume(i, volume)),
                Next::Segment {
                    slice,
                    columns,
                    rows,
                    pixel_spacing,
                    hu,
                } => {
                    i.slice = Some((columns, rows));
                    let message = ToSegmenter::Segment {
                        slice,
                        columns,
                        rows,
                        pixel_spacing,
                        force_cpu: false,
                    };
                    let attachments = Attachments {
                        hu: Some(Int16Array::from(hu.as_slice())),
                        ..Attachments::default()
                    };
                    let (value, transfer) = pack(id, message, attachments);
                    Some(i.segmenter.post(value, transfer))
                }
                Next::Pending => Some(true),
                Next::Done => None,
            }
        });
        self.show();
        match posted.flatten() {
            Some(true) => self.read_ahead(),
            Some(false) => {
                s.running.set(false);
                s.status
                    .set("This browser would not start a worker, so the run cannot go on.".into());
            }
            None => {
                s.running.set(false);
                let (done, total) = s.progress.get_untracked().unwrap_or_default();
                s.status.set(format!(
                    "Done: {done} of {total} studies have a row. Download the cohort table below."
                ));
            }
        }
    }

    /// Gives every idle decoding worker the next study the run can read ahead.
    fn read_ahead(&self) {
        let now = Cohort::now();
        let posted = self.inner.try_update_value(|i| {
            while i.decoders.iter().any(|d| d.turns.is_empty()) {
                let workers = i.decoders.len();
                let volume = i.run.as_mut()?.read_ahead(workers, now)?;
                if !post_volume(i, volume) {
                    return Some(false);
                }
            }
            Some(true)
        });
        if posted.flatten() == Some(false) {
            self.state.running.set(false);
            self.state
                .status
                .set("This browser would not start a worker, so the run cannot go on.".into());
        }
    }

    fn show(&self) {
        let s = self.state;
        // Kept after every study that got its row.
        let grown = self.inner.with_value(|i| {
            i.run
                .as_ref()
                .is_some_and(|run| run.rows().len() != s.rows.with_untracked(Vec::len))
        });
        if grown {
            self.keep();
        }
        self.inner.with_value(|i| {
            if let Some(run) = &i.run {
                // Also when every row was restored: the folder is at hand again.
                let codes = run.reopenable();
                if s.reopenable.with_untracked(|r| *r != codes) {
                    s.reopenable.set(codes);
                }
                s.rows.set(run.rows().to_vec());
                s.progress.set(Some(run.progress()));
                let (done, total) = run.progress();
                if total > 0 && done < total {
                    let pace = run.pace(Cohort::now()).map_or(String::new(), |p| {
                        let left = if p.seconds_left < 90.0 {
                            format!("{:.0} s", p.seconds_left)
                        } else {
                            format!("{:.0} min", p.seconds_left / 60.0)
                        };
                        format!(" {:.1} studies a minute, about {left} left.", p.per_minute)
                    });
                    s.status
                        .set(format!("Measuring study {} of {total}…{pace}", done + 1));
                }
            }
        });
    }

    /// Whether an answer belongs to the run under way.
    fn current(&self, request: Option<RequestId>) -> bool {
        self.inner
            .with_value(|i| i.run.is_some() && request == Some(RequestId(i.generation)))
    }

    /// A worker's message, when it answers the run under way; its `Ready` is handed to
    /// `ready` (the worker it came from) instead.
    fn answer<M: serde::de::DeserializeOwned>(
        &self,
        data: &JsValue,
        is_ready: fn(&M) -> bool,
        ready: impl FnOnce(&mut Inner),
    ) -> Option<(M, Attachments)> {
        let (envelope, attachments) = unpack::<M>(data).ok()?;
        if is_ready(&envelope.message) {
            self.inner.update_value(ready);
            return None;
        }
        self.current(envelope.request)
            .then_some((envelope.message, attachments))
    }

    /// Decoding worker `k`'s message.
    fn on_decoder(&self, k: usize, data: &JsValue) {
        let Some((message, attachments)) = self.answer(
            data,
            |m| matches!(m, FromDecoder::Ready),
            |i| {
                if let Some(d) = i.decoders.get_mut(k) {
                    d.worker.ready();
                }
            },
        ) else {
            return;
        };
        let now = Cohort::now();
        let left_out = self.state.left_out;
        let next = self.inner.try_update_value(|i| {
            let run = i.run.as_mut()?;
            match message {
                FromDecoder::HeaderBatch { first, results } => {
                    let from = i.decoders.get(k)?.headers_from? + first;
                    for (n, result) in results.into_iter().enumerate() {
                        let file = FileIndex(from + n);
                        if let (Err(e), Some(name)) = (&result, run.name(file)) {
                            if e.is_worth_naming() {
                                let entry = (name.to_owned(), e.to_string());
                                left_out.update(|d| d.push(entry));
                            }
                        }
                        run.on_header(file, result.map(|h| *h));
                    }
                    None
                }
                FromDecoder::HeadersDone { .. } => {
                    i.decoders.get_mut(k)?.headers_from = None;
                    let all = i.decoders.iter().all(|d| d.headers_from.is_none());
                    all.then(|| run.on_headers_done(now))
                }
                FromDecoder::Slice {
                    header,
                    found,
                    failed_files,
                } => {
                    let turn = i.decoders.get_mut(k)?.turns.pop_front()?;
                    let hu = attachments.hu.map(|a| a.to_vec()).unwrap_or_default();
                    let slice = StudySlice {
                        header: *header,
                        found: found.map(|f| *f),
                        hu,
                        failed_files,
                    };
                    Some(run.on_slice(turn, slice, now))
                }
                FromDecoder::VolumeFailed { error } => {
                    let turn = i.decoders.get_mut(k)?.turns.pop_front()?;
                    Some(run.on_decoder_failure(turn, StudyError::Volume(error), now))
                }
                FromDecoder::Refused { detail } => {
                    let turn = i.decoders.get_mut(k)?.turns.pop_front()?;
                    let why = format!("the decoder refused it: {detail}");
                    Some(run.on_decoder_failure(turn, StudyError::Segmentation(why), now))
                }
                _ => None,
            }
        });
        if let Some(next) = next.flatten() {
            self.apply(next);
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
        let now = Cohort::now();
        let next = self.inner.try_update_value(|i| {
            let run = i.run.as_mut()?;
            let (columns, rows) = i.slice.take()?;
            Some(match message {
                FromSegmenter::Done(report) => {
                    let labels = attachments.labels.map(|a| a.to_vec()).unwrap_or_default();
                    match TissueMask::from_labels(columns, rows, labels) {
                        Some(mask) => run.on_mask(&mask, report.facts(false, 0), now),
                        None => run.on_failure(
                            StudyError::Segmentation("the mask did not arrive whole".into()),
                            now,
                        ),
                    }
                }
                FromSegmenter::Failed { message } | FromSegmenter::Refused { detail: message } => {
                    run.on_failure(StudyError::Segmentation(message), now)
                }
                FromSegmenter::Ready
                | FromSegmenter::ModelRefused { .. }
                | FromSegmenter::Training(_)
                | FromSegmenter::FineTuned { .. } => return None,
            })
        });
        let made = self
            .inner
            .try_update_value(|i| i.run.as_mut().and_then(Run::take_masks))
            .flatten();
        if let Some((code, made)) = made {
            self.keep_masks(code, made);
        }
        if let Some(next) = next.flatten() {
            self.apply(next);
        }
    }

    /// A worker died on its study: that study's row says so (a decoder's studies read
    /// ahead say so in their turn), a fresh worker takes the next; the others go on.
    fn crashed(&self, worker: Worker, detail: &str) {
        let now = Cohort::now();
        let which = match worker {
            Worker::Decoder(_) => "the decoder",
            Worker::Segmenter => "the segmentation",
        };
        let next = self.inner.try_update_value(|i| {
            let run = i.run.as_mut()?;
            let error = || StudyError::Stopped(format!("{which} stopped: {detail}"));
            let k = match worker {
                Worker::Decoder(k) => k,
                Worker::Segmenter => {
                    i.segmenter.stop(false);
                    i.slice = None;
                    return Some(Some(vec![run.on_failure(error(), now)]));
                }
            };
            if run.progress().1 == 0 {
                // Still reading headers: nothing can be grouped without them.
                i.decoders.iter_mut().for_each(|d| drop(d.stop()));
                i.run = None;
                return Some(None);
            }
            let lost = i.decoders.get_mut(k).map(Decoder::stop).unwrap_or_default();
            let nexts = lost
                .into_iter()
                .map(|turn| run.on_decoder_failure(turn, error(), now))
                .filter(|next| *next != Next::Pending)
                .collect();
            Some(Some(nexts))
        });
        match next.flatten() {
            Some(Some(nexts)) => {
                for next in nexts {
                    self.apply(next);
                }
                // The fresh worker takes a study too.
                self.read_ahead();
            }
            Some(None) => {
                self.state.running.set(false);
                self.state.status.set(format!(
                    "{which} stopped while reading the headers ({detail}); try a smaller folder."
                ));
            }
            None => {}
        }
    }
}

#[derive(Clone, Copy)]
enum Worker {
    /// The decoding worker of that place in [`Inner::decoders`].
    Decoder(usize),
    Segmenter,
}

/// One decoding worker per core the browser reports (at least one, at most
/// [`MAX_DECODERS`]): the segmentation worker and the page share the cores with them.
fn decoder_count() -> usize {
    let cores = js_sys::Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|cores| cores.as_f64())
        .unwrap_or(1.0);
    (cores as usize).clamp(1, MAX_DECODERS)
}

/// Posts a study's volume request (`Next::Volume`) with its files to the decoding worker
/// with the fewest studies; whether it could be posted.
fn post_volume(i: &mut Inner, volume: Next) -> bool {
    let Next::Volume {
        turn,
        series,
        instances,
        files,
    } = volume
    else {
        return true;
    };
    let attached = files
        .iter()
        .filter_map(|f| i.files.get(f.0).cloned())
        .collect();
    let message = ToDecoder::Slice { series, instances };
    let attachments = Attachments {
        files: attached,
        ..Attachments::default()
    };
    let (value, transfer) = pack(Some(RequestId(i.generation)), message, attachments);
    let Some(decoder) = i.decoders.iter_mut().min_by_key(|d| d.turns.len()) else {
        return false;
    };
    decoder.turns.push_back(turn);
    decoder.worker.post(value, transfer)
}
