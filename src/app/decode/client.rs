//! The page's side of decoding: hands each user action and each worker message to the
//! [`Ingest`] state machine, then does what it says — posts requests with their files,
//! restarts the worker after a crash — and shows what it reports.

use std::sync::Arc;

use js_sys::{Array, Promise};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::envelope::{pack, unpack, Attachments};
use crate::lazy_worker::{Handlers, LazyWorker};
use crate::loaded::{JsVoxels, Loaded};
use crate::workspace::{SavedLevel, Workspace};
use sarcoscope::ingest::messages::{
    FromDecoder, HeaderRead, RequestId, ToDecoder, READ_WHOLE_BYTES,
};
use sarcoscope::ingest::{Command, Ingest, SeriesAt, Shown, Step};
use sarcoscope::l3::L3Choice;
use sarcoscope::volume::Voxels;

#[wasm_bindgen(module = "/js/read.js")]
extern "C" {
    #[wasm_bindgen(js_name = readInParts)]
    fn read_in_parts(files: &Array, limit: f64, on_part: &js_sys::Function) -> Promise;
}

struct Inner {
    worker: LazyWorker,
    ingest: Ingest,
    /// The user's files, in the order [`Ingest`] numbers them.
    files: Vec<File>,
    /// The header request the worker was last sent the files' bytes with (read here): it
    /// keeps them for the request after (less those of the series it decoded ahead), so a
    /// volume request whose files were all read there goes without its files, which
    /// Chromium costs ~0.5 ms each to hand over; the worker asks for any it lacks.
    kept_by: Option<RequestId>,
    /// A volume request sent so, with its files, in case the worker asks for them
    /// ([`FromDecoder::NeedsFiles`]).
    withheld: Option<(RequestId, ToDecoder, Vec<File>)>,
    ws: Option<Workspace>,
}

/// A handle on the decoding worker and the ingest state (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub struct Decoder {
    inner: StoredValue<Inner, LocalStorage>,
    /// How many sets of files were loaded (a drop, a picker, the demo): tells whether
    /// what is shown is still what a view opened.
    pub loads: RwSignal<u32>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder {
            inner: StoredValue::new_local(Inner {
                worker: LazyWorker::new("./sarcoscope-worker_loader.js"),
                ingest: Ingest::new(),
                files: Vec::new(),
                kept_by: None,
                withheld: None,
                ws: None,
            }),
            loads: RwSignal::new(0),
        }
    }

    /// Sends the worker's messages and crashes to this decoder, which updates `ws`.
    pub fn connect(&self, ws: Workspace) {
        let this = *self;
        let handlers = Handlers::new(
            move |data| this.on_message(data),
            move |detail| this.on_crash(detail),
        );
        self.inner.update_value(|i| {
            i.worker.connect(handlers);
            // Nearly every visit reads files: the worker starts with the page.
            i.worker.start();
            i.ws = Some(ws);
        });
    }

    /// Starts reading a new set of files (a drop or a picker), replacing what was loaded.
    pub fn add_files(&self, files: Vec<File>, names: Vec<String>) {
        self.loads.update(|n| *n += 1);
        let step = self.inner.try_update_value(|i| {
            i.files = files;
            i.ingest.add_files(names, false)
        });
        self.apply(step, None, None);
    }

    /// Asks the worker for the demo case; its files then load like dropped ones.
    pub fn load_demo(&self) {
        self.loads.update(|n| *n += 1);
        let step = self.inner.try_update_value(|i| i.ingest.load_demo());
        self.apply(step, None, None);
    }

    /// Stops reading or decoding at the user's request.
    pub fn cancel(&self) {
        let step = self.inner.try_update_value(|i| i.ingest.cancel());
        self.apply(step, None, None);
    }

    /// Decodes every loaded file completely and reports on each, as `sarcoscope inspect`.
    pub fn check_all(&self) {
        let step = self.inner.try_update_value(|i| i.ingest.check_all());
        self.apply(step, None, None);
    }

    /// Decodes series `at` of the current studies into the viewer.
    pub fn load_series(&self, at: SeriesAt) {
        let step = self.inner.try_update_value(|i| i.ingest.load_series(at));
        self.apply(step, None, None);
    }

    fn on_message(&self, data: &JsValue) {
        let (envelope, attachments) = match unpack::<FromDecoder>(data) {
            Ok(received) => received,
            Err(e) => {
                web_sys::console::error_1(
                    &format!("decoding worker: unreadable message: {e:?}").into(),
                );
                return;
            }
        };
        let (request, message) = match (envelope.request, envelope.message) {
            (_, FromDecoder::Ready) => {
                self.inner.update_value(|i| i.worker.ready());
                return;
            }
            (Some(request), FromDecoder::NeedsFiles) => {
                self.send_withheld(request);
                return;
            }
            (Some(request), message) => (request, message),
            (None, message) => {
                web_sys::console::error_1(
                    &format!("decoding worker: an answer to no request: {message:?}").into(),
                );
                return;
            }
        };
        let voxels = attachments.hu.map(JsVoxels::of);
        let count = voxels.as_ref().map(Voxels::len);
        let step = self
            .inner
            .try_update_value(|i| i.ingest.on_reply(request, message, count));
        self.apply(step, Some(attachments.files), voxels);
    }

    /// The worker died (a decoder aborted): the state machine blames the file it was
    /// reading and goes on with the rest in a fresh worker.
    fn on_crash(&self, detail: &str) {
        web_sys::console::error_1(&format!("decoding worker stopped: {detail}").into());
        let step = self.inner.try_update_value(|i| i.ingest.on_crash(detail));
        self.apply(step, None, None);
    }

    /// Does what a step says, in order; `attached` are the files, `voxels` the voxels
    /// that came with the worker's message being handled.
    fn apply(&self, step: Option<Step>, mut attached: Option<Vec<File>>, voxels: Option<JsVoxels>) {
        let (Some(step), Some(ws)) = (step, self.inner.with_value(|i| i.ws)) else {
            return;
        };
        for command in step.commands {
            let started = self.inner.try_update_value(|i| match command {
                Command::Replace => {
                    i.worker.stop(true);
                    (i.kept_by, i.withheld) = (None, None);
                    true
                }
                Command::Restart => {
                    i.worker.stop(false);
                    (i.kept_by, i.withheld) = (None, None);
                    true
                }
                Command::TakeAttachedFiles => {
                    i.files = attached.take().unwrap_or_default();
                    true
                }
                Command::Send(request) => {
                    // Whatever is sent next, the worker keeps nothing past it.
                    let kept_by = i.kept_by.take();
                    let files: Vec<File> = request
                        .files
                        .iter()
                        .filter_map(|f| i.files.get(f.0).cloned())
                        .collect();
                    if matches!(request.message, ToDecoder::HeadersInBatches { .. }) {
                        let this = *self;
                        wasm_bindgen_futures::spawn_local(async move {
                            this.post_read(request.id, request.message, files).await;
                        });
                        return true;
                    }
                    let kept = |read: &[Option<HeaderRead>]| {
                        !read.is_empty()
                            && read
                                .iter()
                                .all(|r| r.is_some_and(|r| Some(r.request) == kept_by))
                    };
                    let files = match &request.message {
                        ToDecoder::Volume { read, .. } if kept(read) => {
                            let message = request.message.clone();
                            i.withheld = Some((request.id, message, files));
                            Vec::new()
                        }
                        _ => files,
                    };
                    let attachments = Attachments {
                        files,
                        ..Attachments::default()
                    };
                    let (value, transfer) = pack(Some(request.id), request.message, attachments);
                    i.worker.post(value, transfer)
                }
            });
            if started == Some(false) {
                no_worker(ws);
            }
        }
        let mut voxels = voxels;
        for shown in step.shown {
            show(ws, shown, &mut voxels);
        }
    }

    /// Posts header request `id`, its files' bytes first, in parts as they are read here
    /// when the set is small enough (see [`READ_WHOLE_BYTES`]): the worker reads their
    /// headers meanwhile, and then decodes the series from them without reading the files
    /// again. A larger set goes with its files.
    async fn post_read(self, id: RequestId, message: ToDecoder, files: Vec<File>) {
        let handles: Array = files.iter().collect();
        let of = files.len();
        let decode_ahead = matches!(message, ToDecoder::HeadersInBatches { decode_ahead: true });
        let on_part = Closure::<dyn FnMut(Array, Array)>::new(move |at: Array, buffers: Array| {
            let files = at.iter().filter_map(|k| k.as_f64()).map(|k| k as usize);
            let message = ToDecoder::FileBytes {
                files: files.collect(),
                of,
                decode_ahead,
            };
            self.post_late(id, |i| {
                i.kept_by = Some(id);
                let attachments = Attachments {
                    buffers: Some(buffers),
                    ..Attachments::default()
                };
                Some((message, attachments))
            });
        });
        let read = read_in_parts(&handles, READ_WHOLE_BYTES, on_part.as_ref().unchecked_ref());
        let all_sent = JsFuture::from(read).await.ok().and_then(|v| v.as_bool());
        // No part comes once the reads have ended.
        drop(on_part);
        self.post_late(id, |i| {
            let attachments = if all_sent == Some(true) {
                Attachments::default()
            } else {
                // Too many bytes to read here (or the reads could not even start): the
                // worker reads the files, and keeps none of the parts it may have had.
                i.kept_by = None;
                Attachments {
                    files,
                    ..Attachments::default()
                }
            };
            Some((message, attachments))
        });
    }

    /// Sends volume request `id` again, with the files it went without.
    fn send_withheld(&self, id: RequestId) {
        self.post_late(id, |i| {
            let (_, message, files) = i.withheld.take_if(|(w, ..)| *w == id)?;
            let attachments = Attachments {
                files,
                ..Attachments::default()
            };
            Some((message, attachments))
        });
    }

    /// Posts what `make` gives for request `id`, unless `id` was replaced meanwhile (by a
    /// new drop, say): the worker has another job now.
    fn post_late(
        &self,
        id: RequestId,
        make: impl FnOnce(&mut Inner) -> Option<(ToDecoder, Attachments)>,
    ) {
        let posted = self.inner.try_update_value(|i| {
            if !i.ingest.awaits(id) {
                return true;
            }
            let Some((message, attachments)) = make(i) else {
                return true;
            };
            let (value, transfer) = pack(Some(id), message, attachments);
            i.worker.post(value, transfer)
        });
        if let (Some(false), Some(ws)) = (posted, self.inner.with_value(|i| i.ws)) {
            no_worker(ws);
        }
    }
}

fn no_worker(ws: Workspace) {
    ws.scan.progress.set(None);
    ws.scan
        .status
        .set("This browser would not start the decoding worker, so nothing can be read.".into());
}

/// Shows what changed; a series loaded takes `voxels`, those of the answer it came in.
fn show(ws: Workspace, shown: Shown, voxels: &mut Option<JsVoxels>) {
    let scan = ws.scan;
    match shown {
        Shown::Progress(p) => scan.progress.set(p),
        Shown::Status(text) => scan.status.set(text),
        Shown::Problems(p) => scan.problems.set(p),
        Shown::Reports(r) => scan.reports.set(r),
        Shown::Studies(s) => scan.studies.set(s),
        Shown::Selected(selection) => {
            // What belonged to the series before goes with it.
            scan.loaded.set(None);
            scan.l3_choice.set(None);
            // The record of the series is read (`store::install`) before its volume is
            // segmented; no series, no record.
            scan.saved_level.set(match selection {
                Some(_) => SavedLevel::Reading,
                None => SavedLevel::Read(None),
            });
            ws.segmenter.clear();
            if let Some(selection) = &selection {
                ws.case.prefill(selection);
            }
            scan.selection.set(selection.map(|s| *s));
        }
        Shown::Loaded(series) => {
            let Some(voxels) = voxels.take() else { return };
            let loaded = Loaded::new(*series, voxels);
            let slices = loaded.volume.header.slices;
            // Open a cohort study under review on its row's level; else on a level the
            // reader set by hand for this series before (kept in the browser), else on the
            // proposed L3 slice, else mid-series.
            let review = ws
                .review_shown_untracked()
                .and_then(|r| r.choice(&loaded.level));
            let (saved, reading) = match scan.saved_level.get_untracked() {
                SavedLevel::Reading => (None, true),
                SavedLevel::Read(level) => {
                    scan.saved_level.set(SavedLevel::Read(None));
                    (level, false)
                }
            };
            let choice = review
                .or(saved)
                .filter(|l| l.slice < slices)
                .or_else(|| L3Choice::automatic(&loaded.level));
            scan.slice
                .set(choice.as_ref().map_or(slices / 2, |c| c.slice));
            scan.l3_choice.set(choice.clone());
            scan.loaded.set(Some(Arc::new(loaded)));
            // Segment the proposed L3 slice straight away (the reader checks it), unless
            // the series' record, still being read, may hold a level set by hand: then
            // the store segments once it is read.
            if let Some(choice) = choice.filter(|_| !reading) {
                ws.segmenter.request(choice.slice, false);
            }
        }
    }
}
