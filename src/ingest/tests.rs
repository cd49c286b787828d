//! The state machine driven by a stand-in for the decoding worker that runs the real
//! decoding code on in-memory files and can be told to die on a chosen file, as a
//! WebAssembly decoder that aborts does.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use super::*;
use crate::dicom::series::Series;
use crate::dicom::{self, DicomError};
use crate::inspect;
use crate::l3;
use crate::phantom::{Grid, Phantom, PhantomParams};
use crate::units::{Millimetres, SliceIndex};
use crate::volume;

/// Ten slices of a small phantom, as DICOM files; `notes.txt` (not DICOM) comes first,
/// so that the files' indices differ from the readable headers'.
fn files() -> (Vec<String>, Vec<Vec<u8>>) {
    let params = PhantomParams {
        grid: Grid {
            columns: 48,
            rows: 48,
            slices: 10,
            pixel_spacing: Millimetres(7.2),
            slice_spacing: Millimetres(20.0),
        },
        ..PhantomParams::default()
    };
    let slices = Phantom::generate(&params)
        .dicom_files()
        .expect("phantom files");
    let mut names = vec!["notes.txt".to_string()];
    let mut bytes = vec![b"not an image".to_vec()];
    for (k, b) in slices.into_iter().enumerate() {
        names.push(format!("ct/slice{k:02}.dcm"));
        bytes.push(b);
    }
    (names, bytes)
}

/// When the stand-in worker dies.
#[derive(Clone, Copy, PartialEq)]
enum Crash {
    Never,
    /// While reading headers, on this file.
    Headers(FileIndex),
    /// After every header was sent, before saying so.
    AfterHeaders,
    /// While decoding the volume, on this file.
    Volume(FileIndex),
    /// While checking every file, on this file.
    Check(FileIndex),
}

type Answer = (FromDecoder, Option<Vec<i16>>);

/// How many headers the stand-in answers at once (`HeadersInBatches`): fewer than the
/// files, so that a crash can come between batches.
const BATCH: usize = 4;

/// What the stand-in worker holds between requests, as the real one keeps the files a
/// header request read whole: here, which file each (request, attached file) was. A
/// worker that dies loses it.
#[derive(Default)]
struct Memory {
    kept: HashMap<HeaderRead, FileIndex>,
    /// The files a volume took from `kept` rather than reading them again.
    reused: Vec<FileIndex>,
}

/// Runs `request` as the decoding worker does, and says whether it died on the way.
fn work(
    request: &Request,
    bytes: &[Vec<u8>],
    crash: Crash,
    memory: &mut Memory,
) -> (Vec<Answer>, bool) {
    let out = RefCell::new(Vec::new());
    let send = |answer: FromDecoder| out.borrow_mut().push((answer, None));
    let file = |k: usize| request.files[k];
    match &request.message {
        message @ (ToDecoder::Headers | ToDecoder::HeadersInBatches { .. }) => {
            let one_by_one = *message == ToDecoder::Headers;
            // The page sends small sets' bytes with this request; the worker keeps them.
            let keep = !one_by_one;
            let (mut batch, mut headers) = (Vec::new(), Vec::new());
            for k in 0..request.files.len() {
                if keep {
                    let at = HeaderRead {
                        request: request.id,
                        attached: k,
                    };
                    memory.kept.insert(at, file(k));
                }
                if one_by_one {
                    send(FromDecoder::Reading { attached: k });
                }
                if crash == Crash::Headers(file(k)) {
                    return (out.into_inner(), true);
                }
                let result = dicom::read_instance(&bytes[file(k).0]).map(Box::new);
                headers.push(result.as_ref().ok().map(|h| (**h).clone()));
                if one_by_one {
                    send(FromDecoder::Header {
                        attached: k,
                        result,
                    });
                    continue;
                }
                batch.push(result);
                if batch.len() == BATCH || k + 1 == request.files.len() {
                    send(FromDecoder::HeaderBatch {
                        first: k + 1 - batch.len(),
                        results: std::mem::take(&mut batch),
                    });
                }
            }
            if crash == Crash::AfterHeaders {
                return (out.into_inner(), true);
            }
            let decode_ahead =
                matches!(message, ToDecoder::HeadersInBatches { decode_ahead: true });
            let ahead = decode_ahead
                .then(|| Catalogue::build(&headers).opened(&headers))
                .flatten();
            send(FromDecoder::HeadersDone {
                ahead: ahead
                    .as_ref()
                    .map(|a| a.files.iter().map(|f| f.0).collect()),
            });
            if let Some(ahead) = ahead {
                // Decoded from the bytes kept, which it uses up.
                for &attached in &ahead.files {
                    let at = HeaderRead {
                        request: request.id,
                        attached: attached.0,
                    };
                    memory.reused.extend(memory.kept.remove(&at));
                }
                let of_series = |k: usize| file(ahead.files[k].0);
                let plain = VolumeRequest {
                    skip: &[],
                    one_by_one: false,
                };
                let died = decode(
                    &ahead.series,
                    &ahead.instances,
                    plain,
                    of_series,
                    bytes,
                    crash,
                    &out,
                );
                return (out.into_inner(), died);
            }
        }
        ToDecoder::Volume {
            series,
            instances,
            skip,
            one_by_one,
            read,
        } => {
            // Each file the volume names as kept must be the file it was kept as.
            for (k, at) in read.iter().enumerate() {
                if let Some(kept) = at.as_ref().and_then(|at| memory.kept.remove(at)) {
                    assert_eq!(kept, file(k), "attached file {k} is not the one kept");
                    memory.reused.push(kept);
                }
            }
            let asked = VolumeRequest {
                skip,
                one_by_one: *one_by_one,
            };
            let died = decode(series, instances, asked, file, bytes, crash, &out);
            return (out.into_inner(), died);
        }
        ToDecoder::Inspect { names } => {
            for k in 0..request.files.len() {
                send(FromDecoder::Reading { attached: k });
                if crash == Crash::Check(file(k)) {
                    return (out.into_inner(), true);
                }
                let (report, _) = inspect::inspect_bytes(&names[k], &bytes[file(k).0]);
                send(FromDecoder::Report {
                    attached: k,
                    report: Box::new(report),
                });
            }
            send(FromDecoder::InspectDone);
        }
        ToDecoder::Demo
        | ToDecoder::Slice { .. }
        | ToDecoder::Agreement { .. }
        | ToDecoder::FileBytes { .. } => {
            unreachable!("not used here")
        }
    }
    (out.into_inner(), false)
}

/// How a volume is to be decoded, its series aside.
struct VolumeRequest<'a> {
    skip: &'a [LocalFile],
    one_by_one: bool,
}

/// Decodes `series` as the worker does, `file(k)` being the user's file behind the
/// series' local file k, answering into `out`; says whether it died on the way.
fn decode(
    series: &Series,
    instances: &[Instance],
    request: VolumeRequest,
    file: impl Fn(usize) -> FileIndex,
    bytes: &[Vec<u8>],
    crash: Crash,
    out: &RefCell<Vec<Answer>>,
) -> bool {
    let send = |answer: FromDecoder| out.borrow_mut().push((answer, None));
    let VolumeRequest { skip, one_by_one } = request;
    let died = RefCell::new(false);
    let loaded = volume::load(
        series,
        instances,
        |k| {
            if *died.borrow() || skip.contains(&LocalFile(k)) {
                return Err(DicomError::DecoderFault {
                    detail: "test".into(),
                });
            }
            if one_by_one {
                send(FromDecoder::Reading { attached: k });
            }
            if crash == Crash::Volume(file(k)) {
                *died.borrow_mut() = true;
                return Err(DicomError::DecoderFault {
                    detail: "test".into(),
                });
            }
            Ok(bytes[file(k).0].clone())
        },
        |done, total| {
            if one_by_one && !*died.borrow() {
                send(FromDecoder::Progress { done, total });
            }
        },
    );
    if died.into_inner() {
        return true;
    }
    match loaded {
        Ok((vol, failures)) => {
            let level = Box::new(l3::locate(&vol));
            let failures = failures
                .into_iter()
                .map(|f| (LocalFile(f.file), f.error))
                .collect();
            out.borrow_mut().push((
                FromDecoder::Volume {
                    header: Box::new(vol.header),
                    failures,
                    level,
                    level_ms: 1.0,
                },
                Some(vol.hu),
            ));
        }
        Err(error) => send(FromDecoder::VolumeFailed { error }),
    }
    false
}

/// Everything the page was told, and the commands, in order.
#[derive(Default)]
struct Log {
    shown: Vec<Shown>,
    commands: Vec<Command>,
    /// The files volumes took from what the worker kept of its header reads.
    reused: Vec<FileIndex>,
}

impl Log {
    fn problems(&self) -> Vec<Problem> {
        self.shown
            .iter()
            .rev()
            .find_map(|s| match s {
                Shown::Problems(p) => Some(p.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn reports(&self) -> Vec<FileReport> {
        self.shown
            .iter()
            .rev()
            .find_map(|s| match s {
                Shown::Reports(r) => Some(r.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn loaded(&self) -> Option<&LoadedSeries> {
        self.shown.iter().rev().find_map(|s| match s {
            Shown::Loaded(l) => Some(&**l),
            _ => None,
        })
    }

    fn status(&self) -> String {
        self.shown
            .iter()
            .rev()
            .find_map(|s| match s {
                Shown::Status(t) => Some(t.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn sent(&self) -> impl Iterator<Item = &ToDecoder> {
        self.commands.iter().filter_map(|c| match c {
            Command::Send(request) => Some(&request.message),
            _ => None,
        })
    }

    fn restarts(&self) -> usize {
        self.commands
            .iter()
            .filter(|c| **c == Command::Restart)
            .count()
    }
}

/// Plays `step` against the stand-in worker until nothing more is sent.
fn drive(ingest: &mut Ingest, step: Step, bytes: &[Vec<u8>], crash: Crash, log: &mut Log) {
    let mut queue = VecDeque::new();
    let take = |step: Step, queue: &mut VecDeque<Request>, log: &mut Log| {
        for command in &step.commands {
            match command {
                Command::Replace => queue.clear(),
                Command::Send(request) => queue.push_back(request.clone()),
                Command::Restart | Command::TakeAttachedFiles => {}
            }
        }
        log.commands.extend(step.commands);
        log.shown.extend(step.shown);
    };
    take(step, &mut queue, log);
    let mut memory = Memory::default();
    while let Some(request) = queue.pop_front() {
        let (answers, died) = work(&request, bytes, crash, &mut memory);
        log.reused.append(&mut memory.reused);
        if died {
            memory = Memory::default();
        }
        for (answer, voxels) in answers {
            let step = ingest.on_reply(request.id, answer, voxels.map(|v| v.len()));
            take(step, &mut queue, log);
        }
        if died {
            let step = ingest.on_crash("unreachable executed");
            take(step, &mut queue, log);
        }
    }
}

fn load(crash: Crash) -> (Ingest, Log) {
    let (names, bytes) = files();
    let mut ingest = Ingest::new();
    let mut log = Log::default();
    let step = ingest.add_files(names, false);
    drive(&mut ingest, step, &bytes, crash, &mut log);
    (ingest, log)
}

#[test]
fn a_drop_reads_headers_then_loads_the_ct_series() {
    let (ingest, log) = load(Crash::Never);
    let loaded = log.loaded().expect("the CT series loads");
    assert_eq!(loaded.header.slices, 10);
    assert!(loaded.header.missing_slices.is_empty());
    // The series' own files are the user's files 1..=10 (notes.txt is file 0).
    assert_eq!(
        loaded.files.files,
        (1..=10).map(FileIndex).collect::<Vec<_>>()
    );
    let problems = log.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].file, "notes.txt");
    assert_eq!(log.status(), "10 slice(s) loaded.");
    assert!(!ingest.is_busy());
    let selected = log.shown.iter().find_map(|s| match s {
        Shown::Selected(Some(sel)) => Some(sel.clone()),
        _ => None,
    });
    let selected = selected.expect("a series is selected");
    assert!(!selected.demo);
    assert!(selected.first.is_some_and(|i| !i.series_uid.is_empty()));
}

#[test]
fn without_a_crash_one_request_reads_the_files_once_and_loads_the_series() {
    let (_, log) = load(Crash::Never);
    assert_eq!(log.restarts(), 0);
    let sent: Vec<_> = log.sent().collect();
    // The worker decoded the series the page opens as soon as it had the headers.
    assert_eq!(sent, [&ToDecoder::HeadersInBatches { decode_ahead: true }]);
    // Each file was read once: the volume took the bytes the header request kept.
    assert_eq!(log.reused, (1..=10).map(FileIndex).collect::<Vec<_>>());
    assert_eq!(log.loaded().map(|l| l.header.slices), Some(10));
}

#[test]
fn a_series_decoded_ahead_is_awaited_only_if_it_is_the_one_opened() {
    let (names, bytes) = files();
    for (ahead, asks) in [(1..=10, false), (1..=9, true), (0..=9, true)] {
        let mut ingest = Ingest::new();
        let step = ingest.add_files(names.clone(), false);
        let Some(Command::Send(request)) = step.commands.last().cloned() else {
            panic!("headers are requested: {:?}", step.commands);
        };
        let results = bytes
            .iter()
            .map(|b| dicom::read_instance(b).map(Box::new))
            .collect();
        let batch = FromDecoder::HeaderBatch { first: 0, results };
        ingest.on_reply(request.id, batch, None);
        let done = FromDecoder::HeadersDone {
            ahead: Some(ahead.clone().collect()),
        };
        let step = ingest.on_reply(request.id, done, None);
        let asked = step.commands.iter().any(|c| {
            matches!(
                c,
                Command::Send(Request {
                    message: ToDecoder::Volume { .. },
                    ..
                })
            )
        });
        assert_eq!(asked, asks, "files {ahead:?}");
        // The header request's answers are the volume's, or are ignored.
        assert_eq!(ingest.awaits(request.id), !asks, "files {ahead:?}");
    }
}

#[test]
fn a_crash_after_every_header_was_read_blames_no_file() {
    let (_, log) = load(Crash::AfterHeaders);
    assert_eq!(log.restarts(), 1);
    let problems = log.problems();
    assert_eq!(problems.len(), 1, "only notes.txt: {problems:?}");
    let loaded = log.loaded().expect("the series loads");
    assert_eq!(loaded.header.slices, 10);
}

#[test]
fn a_decoder_that_dies_on_file_3_while_decoding_loses_only_that_file() {
    let (_, log) = load(Crash::Volume(FileIndex(3)));
    // Once unpinned (no message per file), once pinned on file 3 one file at a time.
    assert_eq!(log.restarts(), 2);
    let loaded = log.loaded().expect("the rest of the series loads");
    // File 3 is the phantom's slice 2 (most inferior first).
    assert_eq!(loaded.header.missing_slices, vec![SliceIndex(2)]);
    let problems = log.problems();
    let about_3: Vec<_> = problems
        .iter()
        .filter(|p| p.file == "ct/slice02.dcm")
        .collect();
    assert_eq!(about_3.len(), 1, "listed once: {problems:?}");
    assert!(about_3[0].message.contains("slices are left empty"));
    // The request sent after the crash skips it.
    let resent = log.commands.iter().rev().find_map(|c| match c {
        Command::Send(Request {
            message: ToDecoder::Volume { skip, .. },
            ..
        }) => Some(skip.clone()),
        _ => None,
    });
    assert_eq!(resent, Some(vec![LocalFile(2)]));
}

#[test]
fn a_decoder_that_dies_on_a_header_skips_that_file_and_reads_on() {
    let (_, log) = load(Crash::Headers(FileIndex(5)));
    assert_eq!(log.restarts(), 2);
    // The files before the crash's batch were not read again; after the file was
    // found, the rest was read in batches again.
    let headers: Vec<_> = log
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(r) if !matches!(r.message, ToDecoder::Volume { .. }) => {
                Some((r.message.clone(), r.files.first().copied()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        headers,
        vec![
            (
                ToDecoder::HeadersInBatches { decode_ahead: true },
                Some(FileIndex(0))
            ),
            (ToDecoder::Headers, Some(FileIndex(4))),
            // Not from the first file: the worker cannot tell what the page will open.
            (
                ToDecoder::HeadersInBatches {
                    decode_ahead: false
                },
                Some(FileIndex(6))
            ),
        ]
    );
    let problems = log.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.file == "ct/slice04.dcm" && p.message.contains("it was skipped")),
        "{problems:?}"
    );
    let loaded = log.loaded().expect("the other nine slices load");
    assert_eq!(loaded.header.slices, 9);
    // The workers that read files 1–4 died; the last one still holds files 6–10.
    assert_eq!(log.reused, (6..=10).map(FileIndex).collect::<Vec<_>>());
}

#[test]
fn a_crash_while_checking_is_reported_for_that_file_and_the_check_goes_on() {
    let (mut ingest, mut log) = load(Crash::Never);
    let (_, bytes) = files();
    let step = ingest.check_all();
    drive(
        &mut ingest,
        step,
        &bytes,
        Crash::Check(FileIndex(4)),
        &mut log,
    );
    let reports = log.reports();
    assert_eq!(reports.len(), 11, "every file has a report");
    assert_eq!(reports[4].file, "ct/slice03.dcm");
    assert_eq!(reports[4].error.as_deref(), Some(CRASHED));
    assert_eq!(
        log.status(),
        "Checked 11 file(s): 9 image(s) decoded, 0 without an image, 2 could not be used."
    );
}

#[test]
fn an_answer_to_a_replaced_request_is_ignored() {
    let (names, _) = files();
    let mut ingest = Ingest::new();
    let first = ingest.add_files(names.clone(), false);
    let Some(Command::Send(old)) = first.commands.last().cloned() else {
        panic!("headers are requested: {:?}", first.commands);
    };
    // A second drop while the first is still being read replaces the worker.
    let second = ingest.add_files(names, false);
    assert_eq!(second.commands.first(), Some(&Command::Replace));
    let late = ingest.on_reply(old.id, FromDecoder::HeadersDone { ahead: None }, None);
    assert_eq!(late, Step::default());
    let late = ingest.on_reply(
        old.id,
        FromDecoder::Header {
            attached: 0,
            result: Err(DicomError::NotDicom),
        },
        None,
    );
    assert_eq!(late, Step::default());
    assert!(ingest.is_busy(), "the second drop is still being read");
}

#[test]
fn cancel_stops_the_worker_and_keeps_what_was_read() {
    let (mut ingest, _) = load(Crash::Never);
    assert_eq!(
        ingest.cancel(),
        Step::default(),
        "nothing to cancel when idle"
    );
    let step = ingest.check_all();
    assert!(ingest.is_busy());
    assert!(matches!(step.commands.last(), Some(Command::Send(_))));
    let step = ingest.cancel();
    assert_eq!(step.commands, vec![Command::Replace]);
    assert!(step.shown.contains(&Shown::Progress(None)));
    assert!(!ingest.is_busy());
    // The series read before can still be opened.
    let step = ingest.load_series(SeriesAt {
        study: 0,
        series: 0,
    });
    assert!(matches!(
        step.commands.last(),
        Some(Command::Send(Request {
            message: ToDecoder::Volume { .. },
            ..
        }))
    ));
}

#[test]
fn a_crash_with_nothing_to_blame_stops_and_says_so() {
    let mut ingest = Ingest::new();
    let step = ingest.on_crash("out of memory");
    assert_eq!(step.commands, vec![Command::Restart]);
    assert!(step.shown.contains(&Shown::Progress(None)));
    assert!(!ingest.is_busy());
}

#[test]
fn the_demo_files_take_the_path_of_dropped_ones() {
    let mut ingest = Ingest::new();
    let step = ingest.load_demo();
    let Some(Command::Send(request)) = step.commands.last().cloned() else {
        panic!("the demo is requested");
    };
    assert_eq!(request.message, ToDecoder::Demo);
    let names = vec!["sarcoscope-demo/slice0000.dcm".to_string()];
    let step = ingest.on_reply(request.id, FromDecoder::DemoFiles { names }, None);
    assert_eq!(step.commands.first(), Some(&Command::TakeAttachedFiles));
    assert!(matches!(
        step.commands.last(),
        Some(Command::Send(Request {
            message: ToDecoder::HeadersInBatches { decode_ahead: true },
            ..
        }))
    ));
    assert_eq!(ingest.file_count(), 1);
}

#[test]
fn a_series_refers_to_the_users_files_and_decodes_from_its_own() {
    let (_, bytes) = files();
    let headers: Vec<Option<Instance>> =
        bytes.iter().map(|b| dicom::read_instance(b).ok()).collect();
    let catalogue = Catalogue::build(&headers);
    let at = catalogue.chosen.expect("a CT series");
    let series = catalogue.series(at).expect("series");
    assert_eq!(series.files, (1..=10).collect::<Vec<_>>());
    let own = SeriesFiles::of(series, &headers).expect("headers for every slice");
    assert_eq!(own.instances.len(), 10);
    for (k, slice) in own.series.slices.iter().enumerate() {
        assert_eq!(
            slice.file, k,
            "local files in slice order for a one-frame series"
        );
        assert_eq!(own.file(LocalFile(slice.file)), Some(FileIndex(k + 1)));
    }
    // Headers that do not match the catalogue are refused, not misaligned.
    let mut fewer = headers.clone();
    fewer[4] = None;
    assert!(SeriesFiles::of(series, &fewer).is_none());
}
