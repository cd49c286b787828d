//! The decoding worker: reads files with `FileReaderSync` (synchronous, allowed in
//! workers; a series' files several at a time, see [`Batches`]), parses headers, decodes
//! series into HU volumes, and reports each step. The Cohort view runs several.

use js_sys::{Array, ArrayBuffer, Int16Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use crate::envelope::{pack, unpack, Attachments};
use sarcoscope::agree::reference::Numbering;
use sarcoscope::agree::session::{prepare, read_masks, CtFolder, Files};
use sarcoscope::batch::StudySlice;
use sarcoscope::dicom::series::Series;
use sarcoscope::dicom::{self, DicomError, Instance};
use sarcoscope::ingest::messages::{FromDecoder, RequestId, ToDecoder};
use sarcoscope::ingest::LocalFile;
use sarcoscope::inspect::{self, FileReport};
use sarcoscope::l3;
use sarcoscope::phantom::{Phantom, PhantomParams};
use sarcoscope::volume;

pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle(&reply_scope, &event.data());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    Reply::new(&scope, None).send(FromDecoder::Ready);
}

/// Answers to one request: every one carries its id.
struct Reply<'a> {
    scope: &'a DedicatedWorkerGlobalScope,
    request: Option<RequestId>,
}

impl<'a> Reply<'a> {
    fn new(scope: &'a DedicatedWorkerGlobalScope, request: Option<RequestId>) -> Reply<'a> {
        Reply { scope, request }
    }

    fn send(&self, message: FromDecoder) {
        self.send_with(message, Attachments::default());
    }

    fn send_with(&self, message: FromDecoder, attachments: Attachments) {
        let (value, transfer) = pack(self.request, message, attachments);
        let _ = self.scope.post_message_with_transfer(&value, &transfer);
    }
}

fn handle(scope: &DedicatedWorkerGlobalScope, data: &JsValue) {
    let (envelope, attachments) = match unpack::<ToDecoder>(data) {
        Ok(received) => received,
        Err(e) => {
            web_sys::console::error_1(
                &format!("decoding worker: unreadable request: {e:?}").into(),
            );
            Reply::new(scope, e.request).send(FromDecoder::Refused { detail: e.detail });
            return;
        }
    };
    let reply = Reply::new(scope, envelope.request);
    let files = &attachments.files;
    match envelope.message {
        ToDecoder::Headers => read_headers(&reply, files, false),
        ToDecoder::HeadersInBatches => read_headers(&reply, files, true),
        ToDecoder::Volume {
            series,
            instances,
            skip,
        } => decode_volume(&reply, files, &series, &instances, &skip),
        ToDecoder::Slice { series, instances } => cut_slice(&reply, files, &series, &instances),
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

/// How many headers a cohort's worker answers with at once.
const HEADERS_PER_ANSWER: usize = 256;

fn read_headers(reply: &Reply, files: &[File], in_batches: bool) {
    let prefix = dicom::HEADER_PREFIX_BYTES as f64;
    let mut batches = Batches::new(files, (0..files.len()).collect(), Some(prefix));
    let mut answer = Vec::new();
    for (attached, file) in files.iter().enumerate() {
        if !in_batches {
            reply.send(FromDecoder::Reading { attached });
        }
        let result = batches
            .read(attached)
            .and_then(|first| read_header(file, &first))
            .map(Box::new);
        if !in_batches {
            reply.send(FromDecoder::Header { attached, result });
            continue;
        }
        answer.push(result);
        if answer.len() == HEADERS_PER_ANSWER || attached + 1 == files.len() {
            let first = attached + 1 - answer.len();
            let results = std::mem::take(&mut answer);
            reply.send(FromDecoder::HeaderBatch { first, results });
        }
    }
    reply.send(FromDecoder::HeadersDone);
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

fn decode_volume(
    reply: &Reply,
    files: &[File],
    series: &Series,
    instances: &[Instance],
    skip: &[LocalFile],
) {
    let mut batches = Batches::new(files, volume::file_order(series), None);
    let loaded = volume::load(
        series,
        instances,
        |i| {
            if skip.contains(&LocalFile(i)) {
                return Err(DicomError::DecoderFault {
                    detail: "it stopped the decoding worker".into(),
                });
            }
            reply.send(FromDecoder::Reading { attached: i });
            batches.read(i)
        },
        |done, total| reply.send(FromDecoder::Progress { done, total }),
    );
    match loaded {
        Ok((vol, failures)) => {
            let started = js_sys::Date::now();
            let level = Box::new(l3::locate(&vol));
            let level_ms = js_sys::Date::now() - started;
            let hu = Int16Array::from(vol.hu.as_slice());
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
                    hu: Some(hu),
                    ..Attachments::default()
                },
            );
        }
        Err(error) => reply.send(FromDecoder::VolumeFailed { error }),
    }
}

/// A cohort's study: its volume decoded and searched for L3 here, only the slice it is
/// measured on sent back.
fn cut_slice(reply: &Reply, files: &[File], series: &Series, instances: &[Instance]) {
    let mut batches = Batches::new(files, volume::file_order(series), None);
    match volume::load(series, instances, |i| batches.read(i), |_, _| {}) {
        Ok((vol, failures)) => {
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
        Err(error) => reply.send(FromDecoder::VolumeFailed { error }),
    }
}

/// Files read in batches of about this many bytes, each batch as one read of one Blob made
/// of its files: the browser's cost per read (a round trip to the process that holds the
/// files) is paid per batch rather than per file.
const READ_BATCH_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

/// Files read in order, a batch ahead: whole, or only their first bytes (headers).
struct Batches<'a> {
    files: &'a [File],
    order: Vec<usize>,
    /// The most bytes read of each file (from its start); `None`: all of it.
    limit: Option<f64>,
    /// The last batch read.
    batch: Option<Batch>,
}

/// Bytes of several files read at once, and where each file lies in them.
struct Batch {
    buffer: ArrayBuffer,
    /// (file, offset, length).
    places: Vec<(usize, f64, f64)>,
}

impl<'a> Batches<'a> {
    fn new(files: &'a [File], order: Vec<usize>, limit: Option<f64>) -> Batches<'a> {
        Batches {
            files,
            order,
            limit,
            batch: None,
        }
    }

    /// What is read of `file`: all of it, or its first `limit` bytes.
    fn part(&self, file: &File) -> Option<Blob> {
        match self.limit {
            Some(limit) if file.size() > limit => file.slice_with_f64_and_f64(0.0, limit).ok(),
            _ => Some(Blob::clone(file)),
        }
    }

    /// File `i`'s bytes (or first bytes), from the batch read last, or from a new batch
    /// that starts with it; a batch that cannot be read whole is read file by file, so
    /// that each file says its own error.
    fn read(&mut self, i: usize) -> Result<Vec<u8>, DicomError> {
        let part = self
            .files
            .get(i)
            .and_then(|file| self.part(file))
            .ok_or_else(|| {
                DicomError::Unreadable(
                    "internal error: the file was not passed to the worker".into(),
                )
            })?;
        if let Some(bytes) = self.held(i) {
            return Ok(bytes);
        }
        let start = self
            .order
            .iter()
            .position(|&f| f == i)
            .unwrap_or(self.order.len());
        let (parts, mut places, mut size) = (Array::new(), Vec::new(), 0.0);
        for &f in &self.order[start..] {
            let Some(next) = self.files.get(f).and_then(|file| self.part(file)) else {
                break;
            };
            if !places.is_empty() && size + next.size() > READ_BATCH_BYTES {
                break;
            }
            places.push((f, size, next.size()));
            size += next.size();
            parts.push(&next);
        }
        if places.len() > 1 {
            self.batch = Blob::new_with_blob_sequence(&parts)
                .ok()
                .and_then(|blob| read_buffer(&blob).ok())
                .map(|buffer| Batch { buffer, places });
            if let Some(bytes) = self.held(i) {
                return Ok(bytes);
            }
        }
        read_file(&part)
    }

    /// File `i`'s bytes when the last batch holds them.
    fn held(&self, i: usize) -> Option<Vec<u8>> {
        let batch = self.batch.as_ref()?;
        let &(_, at, len) = batch.places.iter().find(|(f, _, _)| *f == i)?;
        let bytes =
            Uint8Array::new_with_byte_offset_and_length(&batch.buffer, at as u32, len as u32);
        Some(bytes.to_vec())
    }
}

/// A file's header from its first bytes (`first`, read by [`Batches`] with the
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
    read_buffer(file).map(|buffer| Uint8Array::new(&buffer).to_vec())
}

fn read_buffer(blob: &Blob) -> Result<ArrayBuffer, DicomError> {
    let reader = FileReaderSync::new()
        .map_err(|_| DicomError::Unreadable("the browser could not read the file".into()))?;
    reader.read_as_array_buffer(blob).map_err(|_| {
        DicomError::Unreadable(
            "the browser could not read the file (was it moved or deleted?)".into(),
        )
    })
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
