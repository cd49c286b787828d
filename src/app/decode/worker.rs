//! The decoding worker: reads files (a series' files several at a time, streamed into
//! its memory, see [`read_in_order`]) or takes the bytes the page read (a small set, in
//! parts as the page reads it, each file read from disk once, see [`Kept`]), parses
//! headers, decodes series into HU volumes, and reports each step. The Cohort view runs
//! several.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ops::Range;
use std::rc::Rc;

use js_sys::{Array, Int16Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use crate::envelope::{pack, unpack, Attachments};
use crate::loaded::JsVoxels;
use sarcoscope::agree::reference::Numbering;
use sarcoscope::agree::session::{prepare, read_masks, CtFolder, Files};
use sarcoscope::batch::StudySlice;
use sarcoscope::dicom::series::Series;
use sarcoscope::dicom::{self, DicomError, Instance, ParsedFile};
use sarcoscope::ingest::messages::{
    FromDecoder, HeaderRead, RequestId, ToDecoder, READ_WHOLE_BYTES,
};
use sarcoscope::ingest::{Catalogue, FileIndex, LocalFile};
use sarcoscope::inspect::{self, FileReport};
use sarcoscope::l3::{self, Examined, Examiner};
use sarcoscope::phantom::{Grid, Phantom, PhantomParams};
use sarcoscope::units::Millimetres;
use sarcoscope::volume::{self, Early, FileData, Loader, Voxels};

pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let queue = Rc::new(Queue::default());
    let (reply_scope, to_queue) = (scope.clone(), Rc::clone(&queue));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        to_queue.push(&reply_scope, event.data());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    Reply::new(&scope, None).send(FromDecoder::Ready);
    warm_up(scope, queue);
}

/// How many times [`warm_up`] decodes its series.
const WARM_UP_ROUNDS: usize = 4;

/// Decodes a small synthetic series — its headers, its volume, the L3 search — a few times
/// when the worker starts, while the page waits for the user. V8 runs WebAssembly first as
/// compiled in one quick pass, and optimises a function only once it has run a while:
/// measured in Chromium on a first load of the 112-slice real series, its headers took
/// 40–65 ms and its decoding 127–167 ms, against 4 ms and 41 ms once the code had run
/// before. Each round is the request the page makes for a small set (its headers, with
/// the files' bytes, the series decoded ahead) through the queue, answered to no one: V8
/// also compiles each function only when it is first called, and the request handler
/// alone took 14 ms to compile in the middle of a first load when the warm-up called the
/// decoding functions directly. A round at a time, none once a request has come.
fn warm_up(scope: DedicatedWorkerGlobalScope, queue: Rc<Queue>) {
    wasm_bindgen_futures::spawn_local(async move {
        // Made once: the handler copies the bytes out and leaves the request as it was.
        let Some(requests) = warm_up_files().map(|files| warm_up_requests(&files)) else {
            return;
        };
        for _ in 0..WARM_UP_ROUNDS {
            next_task(&scope).await;
            while queue.busy.get() {
                next_task(&scope).await;
            }
            if queue.requests.get() > 0 {
                return;
            }
            for request in &requests {
                queue.push(&scope, request.clone());
            }
        }
    });
}

/// The id of the warm-up's requests (the page numbers its own from 1).
const WARM_UP_REQUEST: RequestId = RequestId(0);

/// The property that marks a warm-up request, whose answers are made but not posted.
const WARM_UP_MARK: &str = "warmUp";

/// A phantom (not a patient) of 24 slices of 128², as DICOM files like a scanner's.
fn warm_up_files() -> Option<Vec<Vec<u8>>> {
    let params = PhantomParams {
        grid: Grid {
            columns: 128,
            rows: 128,
            slices: 24,
            pixel_spacing: Millimetres(3.0),
            slice_spacing: Millimetres(10.0),
        },
        ..PhantomParams::default()
    };
    Phantom::generate(&params).dicom_files().ok()
}

/// The requests the page makes for a small set of `files`: their bytes, then their
/// headers, their series decoded ahead (see [`Kept`]).
fn warm_up_requests(files: &[Vec<u8>]) -> [JsValue; 2] {
    let buffers: Array = files
        .iter()
        .map(|bytes| Uint8Array::from(bytes.as_slice()).buffer())
        .collect();
    let attachments = Attachments {
        buffers: Some(buffers),
        ..Attachments::default()
    };
    let of = files.len();
    let bytes = ToDecoder::FileBytes {
        files: (0..of).collect(),
        of,
        decode_ahead: true,
    };
    let headers = ToDecoder::HeadersInBatches { decode_ahead: true };
    [(bytes, attachments), (headers, Attachments::default())].map(|(message, attachments)| {
        let (value, _) = pack(Some(WARM_UP_REQUEST), message, attachments);
        let _ = js_sys::Reflect::set(&value, &WARM_UP_MARK.into(), &JsValue::TRUE);
        value
    })
}

fn is_warm_up(data: &JsValue) -> bool {
    js_sys::Reflect::get(data, &WARM_UP_MARK.into()).is_ok_and(|v| v.is_truthy())
}

/// Resolves in a task of its own, after the messages waiting to be handled.
async fn next_task(scope: &DedicatedWorkerGlobalScope) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope.set_timeout_with_callback(&resolve);
    });
    let _ = JsFuture::from(promise).await;
}

/// Answers to one request: every one carries its id.
struct Reply<'a> {
    scope: &'a DedicatedWorkerGlobalScope,
    request: Option<RequestId>,
    /// Made but not posted: the answers to the warm-up's requests.
    silent: bool,
}

impl<'a> Reply<'a> {
    fn new(scope: &'a DedicatedWorkerGlobalScope, request: Option<RequestId>) -> Reply<'a> {
        Reply {
            scope,
            request,
            silent: false,
        }
    }

    fn send(&self, message: FromDecoder) {
        self.send_with(message, Attachments::default());
    }

    fn send_with(&self, message: FromDecoder, attachments: Attachments) {
        let (value, transfer) = pack(self.request, message, attachments);
        if !self.silent {
            let _ = self.scope.post_message_with_transfer(&value, &transfer);
        }
    }
}

/// Requests in the order they came: each is handled to its end (it waits for files being
/// read) before the next starts, as the page reads the answers in order.
#[derive(Default)]
struct Queue {
    waiting: RefCell<VecDeque<JsValue>>,
    busy: Cell<bool>,
    kept: RefCell<Option<Kept>>,
    /// How many requests came from the page (the warm-up's aside).
    requests: Cell<usize>,
}

impl Queue {
    fn push(self: &Rc<Self>, scope: &DedicatedWorkerGlobalScope, data: JsValue) {
        if !is_warm_up(&data) {
            self.requests.set(self.requests.get() + 1);
        }
        self.waiting.borrow_mut().push_back(data);
        if self.busy.replace(true) {
            return;
        }
        let (queue, scope) = (Rc::clone(self), scope.clone());
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let next = queue.waiting.borrow_mut().pop_front();
                let Some(data) = next else { break };
                handle(&scope, &data, &queue.kept).await;
            }
            queue.busy.set(false);
        });
    }
}

async fn handle(scope: &DedicatedWorkerGlobalScope, data: &JsValue, kept: &RefCell<Option<Kept>>) {
    let (envelope, mut attachments) = match unpack::<ToDecoder>(data) {
        Ok(received) => received,
        Err(e) => {
            web_sys::console::error_1(
                &format!("decoding worker: unreadable request: {e:?}").into(),
            );
            Reply::new(scope, e.request).send(FromDecoder::Refused { detail: e.detail });
            return;
        }
    };
    let reply = Reply {
        silent: is_warm_up(data),
        ..Reply::new(scope, envelope.request)
    };
    let files = &attachments.files;
    let buffers = attachments.buffers.take();
    // What a header request kept is for the requests that carry it on: its parts, its
    // end, and the volume request that comes next, if it does.
    let last_kept = kept.take().filter(|k| {
        k.request == reply.request || matches!(envelope.message, ToDecoder::Volume { .. })
    });
    match envelope.message {
        ToDecoder::Headers => {
            read_headers(&reply, files, false).await;
            reply.send(FromDecoder::HeadersDone { ahead: None });
        }
        ToDecoder::FileBytes {
            files: at,
            of,
            decode_ahead,
        } => {
            let mut part = last_kept.unwrap_or_else(|| Kept::new(reply.request, of));
            if let Some(buffers) = &buffers {
                part.arrive(&at, buffers, decode_ahead);
            }
            if part.answer_due.due() {
                part.answer(&reply);
            }
            *kept.borrow_mut() = Some(part);
        }
        ToDecoder::HeadersInBatches { decode_ahead } => match last_kept {
            // The files' bytes came before, in parts: their headers are read.
            Some(mut read) if files.is_empty() => {
                read.finish(&reply);
                // The series the page will open, decoded from the files at hand at once.
                let ahead = Some(&mut read).filter(|_| decode_ahead).and_then(|read| {
                    let headers = read.headers();
                    let opened = Catalogue::build(&headers).opened(&headers)?;
                    let parsed = read.take(&opened.files);
                    Some((opened, parsed))
                });
                let files = ahead
                    .as_ref()
                    .map(|(o, _)| o.files.iter().map(|f| f.0).collect());
                reply.send(FromDecoder::HeadersDone { ahead: files });
                let early = read.early.take();
                if let Some((opened, parsed)) = ahead {
                    let request = VolumeRequest {
                        series: &opened.series,
                        instances: &opened.instances,
                        skip: &[],
                        one_by_one: false,
                    };
                    let in_set: Vec<usize> = opened.files.iter().map(|f| f.0).collect();
                    let early = early.map(|early| (early.slices, in_set));
                    decode_volume(&reply, &[], request, parsed, early).await;
                }
                *kept.borrow_mut() = Some(read);
            }
            _ => {
                read_headers(&reply, files, true).await;
                reply.send(FromDecoder::HeadersDone { ahead: None });
            }
        },
        ToDecoder::Volume {
            series,
            instances,
            skip,
            one_by_one,
            read,
        } => {
            let kept = last_kept.map(|k| k.of(&read)).unwrap_or_default();
            // Sent without its files on the strength of what this worker kept; kept bytes
            // missing (a worker started since, say), the page sends the files.
            let missing = (0..read.len())
                .any(|f| kept.get(f).is_none_or(Option::is_none) && !skip.contains(&LocalFile(f)));
            if files.is_empty() && missing {
                return reply.send(FromDecoder::NeedsFiles);
            }
            let request = VolumeRequest {
                series: &series,
                instances: &instances,
                skip: &skip,
                one_by_one,
            };
            decode_volume(&reply, files, request, kept, None).await
        }
        ToDecoder::Slice { series, instances } => {
            cut_slice(&reply, files, &series, &instances).await
        }
        ToDecoder::Inspect { names } => inspect_files(&reply, files, &names),
        ToDecoder::Demo => make_demo(&reply),
        ToDecoder::Agreement {
            names,
            ct_files,
            numbering,
        } => place_masks(&reply, files, &names, ct_files, &numbering),
    }
}

/// One folder's share of the attached files, read on demand, as the agreement run reads
/// a folder.
struct Attached<'a> {
    files: &'a [File],
    names: &'a [String],
}

impl Files for Attached<'_> {
    fn count(&self) -> usize {
        self.files.len()
    }

    fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("", String::as_str)
    }

    fn read(&self, index: usize) -> Result<Vec<u8>, String> {
        let file = self.files.get(index).ok_or("no such file")?;
        read_file(file).map_err(|e| e.to_string())
    }

    fn read_prefix(&self, index: usize, bytes: usize) -> Result<Vec<u8>, String> {
        let file = self.files.get(index).ok_or("no such file")?;
        let prefix = file
            .slice_with_f64_and_f64(0.0, bytes as f64)
            .map_err(|_| "the browser could not read the file".to_owned())?;
        read_file(&prefix).map_err(|e| e.to_string())
    }
}

/// Places each reader's mask on its CT slice and sends it, with the slice, to the page,
/// which runs the network on it; a mask that does not fit is answered with its reason.
fn place_masks(
    reply: &Reply,
    files: &[File],
    names: &[String],
    ct_files: usize,
    numbering: &Numbering,
) {
    let split = ct_files.min(files.len()).min(names.len());
    let ct = Attached {
        files: &files[..split],
        names: &names[..split],
    };
    let masks = Attached {
        files: &files[split..],
        names: names.get(split..).unwrap_or(&[]),
    };
    let read = read_masks(&masks, numbering);
    let mut folder = CtFolder::new(&ct);
    prepare(&mut folder, &read, |prepared| match prepared {
        Ok(p) => {
            let attachments = Attachments {
                hu: Some(Int16Array::from(p.slice.hu.as_slice())),
                labels: Some(Uint8Array::from(p.reference.labels())),
                ..Attachments::default()
            };
            let message = FromDecoder::AgreementCase {
                case: p.case,
                slice: Box::new(p.slice),
                level: p.level,
            };
            reply.send_with(message, attachments);
        }
        Err(failed) => reply.send(FromDecoder::AgreementFailed { failed }),
    });
    reply.send(FromDecoder::AgreementPlaced { masks: read.len() });
}

/// The most headers in one answer to `HeadersInBatches`.
const HEADERS_PER_ANSWER: usize = 256;

/// How often, at most, progress is told (in ms) when not one file at a time: a message
/// costs the page more than a file costs the worker.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// Whether progress is due: the first time, and then every [`PROGRESS_EVERY_MS`].
struct Throttle(f64);

impl Throttle {
    fn new() -> Throttle {
        Throttle(f64::NEG_INFINITY)
    }

    fn due(&mut self) -> bool {
        let now = js_sys::Date::now();
        let due = now - self.0 >= PROGRESS_EVERY_MS;
        if due {
            self.0 = now;
        }
        due
    }
}

/// The files of a header request whose bytes the page sent ahead of it, in parts as it
/// read them (a small set, see [`sarcoscope::ingest::messages::READ_WHOLE_BYTES`]), each
/// header read as the file comes (see [`arrived`]), so that headers are read while the
/// page reads the rest. Then kept for the volume request that follows the header request,
/// so that a series is read from disk once; the series decoded ahead (see `decode_ahead`)
/// takes its files out first. A header request that came with files reads only their first
/// bytes and keeps nothing.
struct Kept {
    request: Option<RequestId>,
    /// By the file's place among the request's files.
    files: Vec<Slot>,
    /// How many files, from the first, have had their headers answered.
    answered: usize,
    /// When headers are next answered before the set's end: each answer costs the page's
    /// thread, which reads the rest of the set meanwhile.
    answer_due: Throttle,
    /// The files decoded as they came, for the series decoded ahead, into the volume the
    /// set most likely makes: each file one slice of the size of the first header read.
    early: Option<EarlyDecoding>,
}

/// The set's files decoded as they come (see [`Early`]): while the page reads, the worker
/// would otherwise wait. Each slice is also looked at for the L3 search then.
struct EarlyDecoding {
    slices: Early<JsVoxels, Examined>,
    examiner: Examiner,
    /// The bytes of a file kept in the browser's buffer, copied here to be decoded.
    scratch: Vec<u8>,
}

impl EarlyDecoding {
    fn add(&mut self, file: usize, header: &Instance, kept: &KeptFile) {
        if !self.slices.fits(file, header) {
            return;
        }
        let data = match kept {
            KeptFile::Parsed(parsed) => FileData::Parsed(parsed),
            KeptFile::Buffer(buffer) => FileData::Bytes(copied(buffer, &mut self.scratch)),
        };
        let examiner = &self.examiner;
        self.slices
            .add(file, header, data, |hu| examiner.examine(hu));
    }
}

/// The bytes of `buffer` (kept in the browser) through `scratch`, one buffer of this
/// module's memory reused file after file.
fn copied<'a>(buffer: &js_sys::ArrayBuffer, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let bytes = Uint8Array::new(buffer);
    scratch.resize(bytes.length() as usize, 0);
    bytes.copy_to(scratch);
    scratch
}

enum Slot {
    /// Its bytes have not come yet.
    Awaited,
    /// Its header read, and the file until a volume takes it.
    Read {
        header: Box<Instance>,
        file: Option<KeptFile>,
    },
    Failed(DicomError),
}

impl Slot {
    fn answer(&self) -> Result<Box<Instance>, DicomError> {
        match self {
            Slot::Read { header, .. } => Ok(header.clone()),
            Slot::Failed(error) => Err(error.clone()),
            Slot::Awaited => Err(not_passed()),
        }
    }

    fn take(&mut self) -> Option<KeptFile> {
        match self {
            Slot::Read { file, .. } => file.take(),
            Slot::Awaited | Slot::Failed(_) => None,
        }
    }
}

impl Kept {
    fn new(request: Option<RequestId>, of: usize) -> Kept {
        Kept {
            request,
            files: (0..of).map(|_| Slot::Awaited).collect(),
            answered: 0,
            answer_due: Throttle::new(),
            early: None,
        }
    }

    /// Reads the headers of the files whose bytes came (`buffers[k]` are file `at[k]`'s)
    /// and, when a series will be decoded ahead (`decode_ahead`), decodes their images.
    fn arrive(&mut self, at: &[usize], buffers: &Array, decode_ahead: bool) {
        for (&file, buffer) in at.iter().zip(buffers.iter()) {
            if let Some(slot) = self.files.get_mut(file) {
                *slot = arrived(buffer);
            }
        }
        if decode_ahead && self.early.is_none() {
            self.early = self.likely_volume();
        }
        let Some(early) = &mut self.early else { return };
        for &file in at {
            if let Some(Slot::Read {
                header,
                file: Some(kept),
            }) = self.files.get(file)
            {
                early.add(file, header, kept);
            }
        }
    }

    /// Decoding into the volume of every file as one slice of the first header's size, if
    /// a header was read and that volume is no larger than the set the page reads whole
    /// (a wrong guess costs at most that much, for a moment). Its memory is not written
    /// ahead: the browser gives fresh memory lazily, and filling it before decoding took
    /// the worker 148 ms for a 300-slice 512² volume, while decoding into it as files came
    /// took no longer than into written memory.
    fn likely_volume(&self) -> Option<EarlyDecoding> {
        let header = self.files.iter().find_map(|slot| match slot {
            Slot::Read { header, .. } => Some(header),
            Slot::Awaited | Slot::Failed(_) => None,
        })?;
        let (rows, columns, files) = (header.rows, header.columns, self.files.len());
        let len = (rows as usize)
            .checked_mul(columns as usize)?
            .checked_mul(files)?;
        let bytes = len.checked_mul(std::mem::size_of::<i16>())? as f64;
        let voxels = (bytes <= READ_WHOLE_BYTES).then(|| JsVoxels::zeroed(len))??;
        Some(EarlyDecoding {
            slices: Early::new(voxels, files, rows, columns)?,
            examiner: Examiner::like(header, files),
            scratch: Vec::new(),
        })
    }

    /// Answers the headers read since the last answer, up to the first file whose bytes
    /// have not come: the page takes headers in order.
    fn answer(&mut self, reply: &Reply) {
        let waiting = self.files.get(self.answered..).unwrap_or_default();
        let end = self.answered
            + waiting
                .iter()
                .take_while(|s| !matches!(s, Slot::Awaited))
                .count();
        while self.answered < end {
            let first = self.answered;
            self.answered = end.min(first + HEADERS_PER_ANSWER);
            let results = self.files[first..self.answered]
                .iter()
                .map(Slot::answer)
                .collect();
            reply.send(FromDecoder::HeaderBatch { first, results });
        }
    }

    /// Every part has come: answers the rest, a file whose bytes never came as not passed.
    fn finish(&mut self, reply: &Reply) {
        for slot in &mut self.files {
            if matches!(slot, Slot::Awaited) {
                *slot = Slot::Failed(not_passed());
            }
        }
        self.answer(reply);
    }

    /// The files' headers (`None`: not readable DICOM), for choosing the series to decode
    /// ahead.
    fn headers(&self) -> Vec<Option<Instance>> {
        let header = |slot: &Slot| match slot {
            Slot::Read { header, .. } => Some(Instance::clone(header)),
            Slot::Awaited | Slot::Failed(_) => None,
        };
        self.files.iter().map(header).collect()
    }

    /// The `files` (by their place among the header request's files), taken out.
    fn take(&mut self, files: &[FileIndex]) -> Vec<Option<KeptFile>> {
        files
            .iter()
            .map(|f| self.files.get_mut(f.0)?.take())
            .collect()
    }

    /// The kept files of the volume request's attached files, by their place there:
    /// `read[k]` says where attached file k's header was read.
    fn of(mut self, read: &[Option<HeaderRead>]) -> Vec<Option<KeptFile>> {
        read.iter()
            .map(|at| {
                let at = at.as_ref().filter(|at| Some(at.request) == self.request)?;
                self.files.get_mut(at.attached)?.take()
            })
            .collect()
    }
}

/// A file of a set the page read, as kept: parsed, or its bytes still in the browser's
/// buffer the page sent them in.
enum KeptFile {
    Parsed(Box<ParsedFile>),
    Buffer(js_sys::ArrayBuffer),
}

/// A file's bytes as the page sent them (`null` where it could not read the file). A
/// small file is copied into this module's memory and parsed whole at once, its images
/// later decoded from the parse. A larger one has its header read from its first bytes
/// and its bytes left where they are until its series is decoded (see [`decode_volume`]):
/// copying the 158 MB of a 300-slice 512² series into this module's memory as they came
/// took ~200 ms of the worker's time in Chromium (the memory grew for them), and left the
/// worker holding that much memory for good.
fn arrived(buffer: JsValue) -> Slot {
    let Ok(buffer) = buffer.dyn_into::<js_sys::ArrayBuffer>() else {
        return Slot::Failed(moved());
    };
    let prefix = dicom::HEADER_PREFIX_BYTES as u32;
    if buffer.byte_length() > prefix {
        let first = Uint8Array::new_with_byte_offset_and_length(&buffer, 0, prefix).to_vec();
        if let Some(header) = dicom::read_instance_from_prefix(&first) {
            return Slot::Read {
                header: Box::new(header),
                file: Some(KeptFile::Buffer(buffer)),
            };
        }
    }
    match dicom::read_parsed(&Uint8Array::new(&buffer).to_vec()) {
        Ok((header, parsed)) => Slot::Read {
            header: Box::new(header),
            file: Some(KeptFile::Parsed(Box::new(parsed))),
        },
        Err(error) => Slot::Failed(error),
    }
}

/// Reads the headers of the attached files from their first bytes, and answers with them.
async fn read_headers(reply: &Reply<'_>, files: &[File], in_batches: bool) {
    let count = files.len();
    let (mut batch, mut throttle) = (Vec::new(), Throttle::new());
    let order: Vec<usize> = (0..count).collect();
    let prefix = dicom::HEADER_PREFIX_BYTES as f64;
    read_in_order(files, &order, Some(prefix), |attached, first| {
        if !in_batches {
            reply.send(FromDecoder::Reading { attached });
        }
        let result = first.and_then(|first| match files.get(attached) {
            Some(file) => read_header(file, first.bytes()),
            None => Err(not_passed()),
        });
        let result = result.map(Box::new);
        if !in_batches {
            reply.send(FromDecoder::Header { attached, result });
            return;
        }
        batch.push(result);
        if batch.len() == HEADERS_PER_ANSWER || attached + 1 == count || throttle.due() {
            let first = attached + 1 - batch.len();
            let results = std::mem::take(&mut batch);
            reply.send(FromDecoder::HeaderBatch { first, results });
        }
    })
    .await;
}

fn inspect_files(reply: &Reply, files: &[File], names: &[String]) {
    for (attached, file) in files.iter().enumerate() {
        reply.send(FromDecoder::Reading { attached });
        let name = names.get(attached).cloned().unwrap_or_else(|| file.name());
        let report = match read_file(file) {
            Ok(bytes) => inspect::inspect_bytes(&name, &bytes).0,
            Err(e) => FileReport {
                file: name,
                error: Some(e.to_string()),
                ..Default::default()
            },
        };
        reply.send(FromDecoder::Report {
            attached,
            report: Box::new(report),
        });
    }
    reply.send(FromDecoder::InspectDone);
}

/// What `ToDecoder::Volume` asks for, its files aside.
struct VolumeRequest<'a> {
    series: &'a Series,
    instances: &'a [Instance],
    skip: &'a [LocalFile],
    one_by_one: bool,
}

/// Decodes a series from `kept[k]`, attached file k kept from the header request, where
/// there is one, and from the attached files otherwise; its files decoded as they came
/// (`early`, with the place of each of the series' files in the set) are put in order
/// rather than decoded again.
async fn decode_volume(
    reply: &Reply<'_>,
    files: &[File],
    request: VolumeRequest<'_>,
    mut kept: Vec<Option<KeptFile>>,
    early: Option<(Early<JsVoxels, Examined>, Vec<usize>)>,
) {
    let VolumeRequest {
        series,
        instances,
        skip,
        one_by_one,
    } = request;
    let placed = early.map(|(early, in_set)| early.place(series, instances, &in_set));
    let (loader, decoded, examined) = match placed {
        Some(Ok(placed)) => (Ok(placed.loader), placed.decoded, placed.seen),
        // The voxels go straight into the buffer the page will keep (see `loaded`).
        unplaced => {
            let voxels = unplaced.and_then(Result::err).flatten();
            let make = |len| {
                voxels
                    .filter(|v| v.len() == len)
                    .or_else(|| JsVoxels::zeroed(len))
            };
            (
                Loader::new_in(series, instances, make),
                Vec::new(),
                Vec::new(),
            )
        }
    };
    let mut loader = match loader {
        Ok(loader) => loader,
        Err(error) => return reply.send(FromDecoder::VolumeFailed { error }),
    };
    let all = volume::file_order(series);
    let order: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&f| !skip.contains(&LocalFile(f)) && !decoded.get(f).is_some_and(|&d| d))
        .collect();
    for &LocalFile(file) in skip {
        let detail = "it stopped the decoding worker".into();
        loader.add(file, Err(DicomError::DecoderFault { detail }));
    }
    // The L3 search looks at each slice as it is decoded, while it is in this module's
    // memory (the volume is not: reading it back would copy every slice).
    let mut search = l3::Search::new(loader.header());
    for (slice, examined) in examined.into_iter().enumerate() {
        if let Some(examined) = examined {
            search.add_examined(slice, examined);
        }
    }
    let mut level_ms = 0.0;
    let (total, mut done, mut throttle) = (all.len(), all.len() - order.len(), Throttle::new());
    let mut add = |file: usize, data: Result<FileData, DicomError>| {
        if one_by_one {
            reply.send(FromDecoder::Reading { attached: file });
        }
        let watch = |slice, hu: &[i16]| {
            let started = now(reply.scope);
            search.add(slice, hu);
            level_ms += now(reply.scope) - started;
        };
        loader.add_file(file, data, watch);
        done += 1;
        if one_by_one || done == total || throttle.due() {
            reply.send(FromDecoder::Progress { done, total });
        }
    };
    let (mut unread, mut scratch) = (Vec::new(), Vec::new());
    for &file in &order {
        match kept.get_mut(file).and_then(Option::take) {
            Some(KeptFile::Parsed(parsed)) => add(file, Ok(FileData::Parsed(&parsed))),
            Some(KeptFile::Buffer(buffer)) => {
                add(file, Ok(FileData::Bytes(copied(&buffer, &mut scratch))))
            }
            None => unread.push(file),
        }
    }
    drop(kept);
    read_in_order(files, &unread, None, |file, piece| {
        let bytes = piece.as_ref().map(Piece::bytes).map_err(Clone::clone);
        add(file, bytes.map(FileData::Bytes))
    })
    .await;
    let (vol, failures) = loader.finish();
    let started = now(reply.scope);
    let level = Box::new(search.finish(&vol));
    level_ms += now(reply.scope) - started;
    let failures = failures
        .into_iter()
        .map(|f| (LocalFile(f.file), f.error))
        .collect();
    reply.send_with(
        FromDecoder::Volume {
            header: Box::new(vol.header),
            failures,
            level,
            level_ms,
        },
        Attachments {
            hu: Some(vol.hu.into_array()),
            ..Attachments::default()
        },
    );
}

/// The worker's clock, in ms (sub-millisecond where the browser allows).
fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope
        .performance()
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// A cohort's study: its volume decoded and searched for L3 here, only the slice it is
/// measured on sent back.
async fn cut_slice(reply: &Reply<'_>, files: &[File], series: &Series, instances: &[Instance]) {
    let mut loader = match Loader::new(series, instances) {
        Ok(loader) => loader,
        Err(error) => return reply.send(FromDecoder::VolumeFailed { error }),
    };
    let order = volume::file_order(series);
    read_in_order(files, &order, None, |file, piece| {
        loader.add(file, piece.as_ref().map(Piece::bytes).map_err(Clone::clone))
    })
    .await;
    let (vol, failures) = loader.finish();
    let slice = StudySlice::of(vol, failures.len());
    reply.send_with(
        FromDecoder::Slice {
            header: Box::new(slice.header),
            found: slice.found.map(Box::new),
            failed_files: slice.failed_files,
        },
        Attachments {
            hu: Some(Int16Array::from(slice.hu.as_slice())),
            ..Attachments::default()
        },
    );
}

/// Files read in batches of about this many bytes, each batch as one read of one Blob made
/// of its files: the browser's cost per read (a round trip to the process that holds the
/// files) is paid per batch rather than per file.
const READ_BATCH_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

/// The browser's buffer that a batch streams through on its way into this module's memory.
const READ_CHUNK_BYTES: u32 = 1024 * 1024;

/// One file's bytes (or its first bytes) as read: a range of the buffer of the batch it
/// was read with, shared with the batch's other files, so that handing each on copies
/// nothing.
struct Piece {
    batch: Rc<Vec<u8>>,
    range: Range<usize>,
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        self.batch.get(self.range.clone()).unwrap_or_default()
    }
}

/// Hands each file of `order` to `each`, in that order, whole or only its first `limit`
/// bytes (headers). Files are read in batches (see [`READ_BATCH_BYTES`]); a batch that
/// cannot be read whole is read file by file, so that each file says its own error.
async fn read_in_order(
    files: &[File],
    order: &[usize],
    limit: Option<f64>,
    mut each: impl FnMut(usize, Result<Piece, DicomError>),
) {
    let mut chunk = js_sys::ArrayBuffer::new(READ_CHUNK_BYTES);
    for batch in plan_batches(files, order, limit) {
        let parts: Array = batch.iter().map(|(_, part)| JsValue::from(part)).collect();
        let whole = match Blob::new_with_blob_sequence(&parts) {
            Ok(blob) => read_blob(&blob, &mut chunk).await,
            Err(_) => None,
        };
        let size: f64 = batch.iter().map(|(_, part)| part.size()).sum();
        match whole {
            Some(bytes) if bytes.len() as f64 == size => {
                let (bytes, mut at) = (Rc::new(bytes), 0);
                for (file, part) in &batch {
                    let end = at + part.size() as usize;
                    let batch = Rc::clone(&bytes);
                    each(
                        *file,
                        Ok(Piece {
                            batch,
                            range: at..end,
                        }),
                    );
                    at = end;
                }
            }
            _ => {
                for (file, part) in &batch {
                    let bytes = read_blob(part, &mut chunk).await.ok_or_else(moved);
                    each(
                        *file,
                        bytes.map(|b| Piece {
                            range: 0..b.len(),
                            batch: Rc::new(b),
                        }),
                    );
                }
            }
        }
    }
}

/// The bytes of `blob`, streamed into this module's memory through `chunk`, one buffer
/// lent to the browser again and again (a "BYOB" reader). `Blob.arrayBuffer()` instead
/// makes a new buffer per read, which the garbage collector frees late: measured in
/// Chromium with 16 reads of 32 MB, the tab peaked 356 MB higher than when streaming
/// (and `transfer(0)` on each buffer kept all of them), and streaming was twice as fast.
/// Where a Blob's stream has no such reader, `arrayBuffer()` is the fallback.
async fn read_blob(blob: &Blob, chunk: &mut js_sys::ArrayBuffer) -> Option<Vec<u8>> {
    let Ok(reader) = web_sys::ReadableStreamByobReader::new(&blob.stream()) else {
        let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
        return Some(Uint8Array::new(&buffer).to_vec());
    };
    let mut bytes = Vec::with_capacity(blob.size() as usize);
    loop {
        let lent = Uint8Array::new(chunk);
        let result = JsFuture::from(reader.read_with_array_buffer_view(&lent))
            .await
            .ok()?;
        let value = js_sys::Reflect::get(&result, &"value".into()).ok()?;
        // The buffer comes back (as a new object) with the bytes read; lent again next time.
        if let Ok(value) = value.dyn_into::<Uint8Array>() {
            let at = bytes.len();
            bytes.resize(at + value.length() as usize, 0);
            value.copy_to(bytes.get_mut(at..)?);
            *chunk = value.buffer();
        }
        let done = js_sys::Reflect::get(&result, &"done".into()).ok()?;
        if done.as_bool() != Some(false) {
            return Some(bytes);
        }
    }
}

/// A file (or its first bytes) to read, by its index among the attached files.
type Part = (usize, Blob);

/// `order`'s files cut into batches of about [`READ_BATCH_BYTES`] (a larger file alone).
/// A file not attached is read as an empty part, and fails as a file too short.
fn plan_batches(files: &[File], order: &[usize], limit: Option<f64>) -> Vec<Vec<Part>> {
    let (mut batches, mut batch, mut size) = (Vec::new(), Vec::<Part>::new(), 0.0);
    for &f in order {
        let part = files.get(f).and_then(|file| match limit {
            Some(limit) if file.size() > limit => file.slice_with_f64_and_f64(0.0, limit).ok(),
            _ => Some(Blob::clone(file)),
        });
        let part = part.or_else(|| Blob::new().ok());
        let Some(part) = part else { continue };
        if !batch.is_empty() && size + part.size() > READ_BATCH_BYTES {
            batches.push(std::mem::take(&mut batch));
            size = 0.0;
        }
        size += part.size();
        batch.push((f, part));
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

fn moved() -> DicomError {
    DicomError::Unreadable("the browser could not read the file (was it moved or deleted?)".into())
}

fn not_passed() -> DicomError {
    DicomError::Unreadable("internal error: the file was not passed to the worker".into())
}

/// A file's header from its first bytes (`first`, read by [`read_in_order`] with the
/// [`dicom::HEADER_PREFIX_BYTES`] limit): a large file's images are read when its series
/// is decoded; a small file, and a header that does not fit, is read whole (which also
/// catches files cut short).
fn read_header(file: &File, first: &[u8]) -> Result<Instance, DicomError> {
    if file.size() > first.len() as f64 {
        if let Some(instance) = dicom::read_instance_from_prefix(first) {
            return Ok(instance);
        }
        return read_file(file).and_then(|bytes| dicom::read_instance(&bytes));
    }
    dicom::read_instance(first)
}

fn read_file(file: &Blob) -> Result<Vec<u8>, DicomError> {
    let reader = FileReaderSync::new()
        .map_err(|_| DicomError::Unreadable("the browser could not read the file".into()))?;
    let buffer = reader.read_as_array_buffer(file).map_err(|_| moved())?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The demo case: the default phantom (an average adult, see `phantom`) written as a
/// DICOM series, handed to the page as files so it takes the same path as real ones.
fn make_demo(reply: &Reply) {
    let phantom = Phantom::generate(&PhantomParams::default());
    let made = phantom
        .dicom_files()
        .map_err(|e| e.to_string())
        .and_then(|files| {
            let mut made = Vec::with_capacity(files.len());
            let mut names = Vec::with_capacity(files.len());
            for (k, bytes) in files.iter().enumerate() {
                let name = format!("sarcoscope-demo/slice{k:04}.dcm");
                let parts = Array::of1(&Uint8Array::from(bytes.as_slice()));
                let file = File::new_with_u8_array_sequence(&parts, &name)
                    .map_err(|_| "the browser could not make the demo files".to_string())?;
                made.push(file);
                names.push(name);
            }
            Ok((made, names))
        });
    match made {
        Ok((files, names)) => reply.send_with(
            FromDecoder::DemoFiles { names },
            Attachments {
                files,
                ..Attachments::default()
            },
        ),
        Err(message) => reply.send(FromDecoder::DemoFailed { message }),
    }
}
