//! Ingest as a state machine: the files a user gave, what the decoding worker is doing
//! with them, and what the page should show — with no browser types, so that every path
//! a crashing decoder or a late answer can take is tested natively. The page's decoding
//! client only carries messages and files; [`Ingest`] decides.
//!
//! Each call returns a [`Step`]: what to do with the worker ([`Command`]) and what
//! changed on screen ([`Shown`]).

mod catalogue;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod messages;

pub use catalogue::{Catalogue, FileIndex, LocalFile, SeriesAt, SeriesFiles};
use messages::{FromDecoder, HeaderRead, RequestId, ToDecoder};

use crate::dicom::series::Study;
use crate::dicom::{DicomError, Instance};
use crate::inspect::FileReport;
use crate::l3::L3Result;
use crate::volume::VolumeHeader;

/// What a long action has done so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub label: &'static str,
    pub done: usize,
    pub total: usize,
}

/// A file that could not be used, and why, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub file: String,
    pub message: String,
}

/// The series being opened, as the panels need it before its images arrive.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub at: SeriesAt,
    /// The header of the series' first file: patient and scan facts, storage key.
    pub first: Option<Instance>,
    /// The synthetic demo case rather than a patient's files.
    pub demo: bool,
}

/// A decoded series: its shape, its files, and where the L3 search put the level. Its
/// voxels came with the worker's answer and stay with the caller, who holds them where
/// it likes (a browser outside WebAssembly's memory, so that they exist once).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedSeries {
    pub header: VolumeHeader,
    pub files: SeriesFiles,
    pub level: L3Result,
    /// How long the L3 search took in the worker.
    pub level_ms: f64,
}

/// What changed on screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Progress(Option<Progress>),
    Status(String),
    /// The whole list of problems with the current files.
    Problems(Vec<Problem>),
    /// The whole list of decoding-check reports so far.
    Reports(Vec<FileReport>),
    Studies(Vec<Study>),
    /// Another series (or none) is now the one being read: what belonged to the one
    /// before (volume, level, mask) is gone.
    Selected(Option<Box<Selection>>),
    Loaded(Box<LoadedSeries>),
}

/// A request ready to post, with the files to attach, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: RequestId,
    pub message: ToDecoder,
    pub files: Vec<FileIndex>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// End the worker and drop what waits for it: a busy worker is replaced, so that no
    /// answer of the old request can land on the new one.
    Replace,
    /// The worker died: start a fresh one; what waits goes to it.
    Restart,
    /// The files attached to the answer being handled (the demo case's) are now the
    /// user's files; the step's requests attach from them.
    TakeAttachedFiles,
    Send(Request),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Step {
    pub commands: Vec<Command>,
    pub shown: Vec<Shown>,
}

impl Step {
    fn show(&mut self, shown: Shown) {
        self.shown.push(shown);
    }

    fn status(&mut self, text: impl Into<String>) {
        self.shown.push(Shown::Status(text.into()));
    }

    fn then(mut self, next: Step) -> Step {
        self.commands.extend(next.commands);
        self.shown.extend(next.shown);
        self
    }
}

/// What the worker is doing. The file it said it is reading is kept so that a crash can
/// be blamed on that file alone. Headers and volumes are first asked for without a
/// message per file (`one_by_one` false: fast, but a crash cannot be pinned on a file),
/// and again one file at a time after a crash, to find the file to leave out.
#[derive(Clone, Debug, PartialEq)]
enum Job {
    Idle,
    Demo(RequestId),
    Headers {
        id: RequestId,
        first: FileIndex,
        /// The first file whose header has not been answered.
        next: FileIndex,
        reading: Option<FileIndex>,
        one_by_one: bool,
    },
    Volume {
        id: RequestId,
        files: Box<SeriesFiles>,
        skip: Vec<LocalFile>,
        reading: Option<LocalFile>,
        one_by_one: bool,
    },
    Check {
        id: RequestId,
        first: FileIndex,
        reading: Option<FileIndex>,
    },
}

impl Job {
    fn id(&self) -> Option<RequestId> {
        match self {
            Job::Idle => None,
            Job::Demo(id) => Some(*id),
            Job::Headers { id, .. } | Job::Volume { id, .. } | Job::Check { id, .. } => Some(*id),
        }
    }
}

const CRASHED: &str = "the decoder stopped on this file (it is probably damaged)";

const RETRYING: &str =
    "The decoder stopped; reading the files again one at a time to find the file it stopped on…";

#[derive(Debug)]
pub struct Ingest {
    names: Vec<String>,
    headers: Vec<Option<Instance>>,
    /// Where each file's header was read, for the worker to find bytes it kept.
    read_at: Vec<Option<HeaderRead>>,
    demo: bool,
    catalogue: Catalogue,
    problems: Vec<Problem>,
    reports: Vec<FileReport>,
    job: Job,
    last_id: u32,
}

impl Default for Ingest {
    fn default() -> Ingest {
        Ingest::new()
    }
}

impl Ingest {
    pub fn new() -> Ingest {
        Ingest {
            names: Vec::new(),
            headers: Vec::new(),
            read_at: Vec::new(),
            demo: false,
            catalogue: Catalogue::default(),
            problems: Vec::new(),
            reports: Vec::new(),
            job: Job::Idle,
            last_id: 0,
        }
    }

    /// The name (path) of file `file`, as the user's folder gave it.
    pub fn name(&self, file: FileIndex) -> &str {
        self.names.get(file.0).map_or("", String::as_str)
    }

    pub fn file_count(&self) -> usize {
        self.names.len()
    }

    pub fn is_busy(&self) -> bool {
        self.job != Job::Idle
    }

    /// Whether request `id` is still awaited: one posted late (after the page read its
    /// files) must not reach a worker that was given another job since.
    pub fn awaits(&self, id: RequestId) -> bool {
        self.job.id() == Some(id)
    }

    fn next_id(&mut self) -> RequestId {
        self.last_id = self.last_id.wrapping_add(1);
        RequestId(self.last_id)
    }

    /// A new request replaces whatever the worker is doing.
    fn abandon(&mut self) -> Step {
        let mut step = Step::default();
        if self.is_busy() {
            step.commands.push(Command::Replace);
        }
        self.job = Job::Idle;
        step
    }

    /// Starts reading a new set of files (a drop, a picker, the demo), replacing what
    /// was loaded.
    pub fn add_files(&mut self, names: Vec<String>, demo: bool) -> Step {
        let mut step = self.abandon();
        self.headers = vec![None; names.len()];
        self.read_at = vec![None; names.len()];
        self.names = names;
        self.demo = demo;
        self.catalogue = Catalogue::default();
        self.problems.clear();
        step.show(Shown::Problems(Vec::new()));
        step.show(Shown::Studies(Vec::new()));
        step.show(Shown::Selected(None));
        let total = self.names.len();
        step.show(Shown::Progress(Some(Progress {
            label: "Reading files",
            done: 0,
            total,
        })));
        step.status(format!("Reading {total} file(s) in this browser…"));
        step.then(self.send_headers(FileIndex(0), false))
    }

    /// Stops whatever the worker is doing, at the user's request; what was read before
    /// stays (the studies found, a series already shown).
    pub fn cancel(&mut self) -> Step {
        let mut step = self.abandon();
        if !step.commands.is_empty() {
            step.show(Shown::Progress(None));
            step.status("Stopped. Choose a series, or load the files again.");
        }
        step
    }

    /// Asks the worker for the demo case; its files then load like dropped ones.
    pub fn load_demo(&mut self) -> Step {
        let mut step = self.abandon();
        let id = self.next_id();
        self.job = Job::Demo(id);
        step.status("Making the demo case (a synthetic CT, not a patient)…");
        step.commands.push(Command::Send(Request {
            id,
            message: ToDecoder::Demo,
            files: Vec::new(),
        }));
        step
    }

    /// Decodes every loaded file completely and reports on each.
    pub fn check_all(&mut self) -> Step {
        let mut step = self.abandon();
        if self.names.is_empty() {
            return step;
        }
        self.reports.clear();
        step.show(Shown::Reports(Vec::new()));
        step.show(Shown::Progress(Some(Progress {
            label: "Checking files",
            done: 0,
            total: self.names.len(),
        })));
        step.then(self.send_check(FileIndex(0)))
    }

    /// Decodes series `at` of the current studies for the viewer.
    pub fn load_series(&mut self, at: SeriesAt) -> Step {
        self.open_series(at, None)
    }

    /// Decodes series `at`; `ahead`: the worker is already decoding, as its answer to
    /// request `ahead.0`, the series of these files — if it is this one, its answers are
    /// awaited instead of asking again (see [`FromDecoder::HeadersDone`]).
    fn open_series(&mut self, at: SeriesAt, ahead: Option<(RequestId, Vec<FileIndex>)>) -> Step {
        let mut step = self.abandon();
        let Some(series) = self.catalogue.series(at) else {
            return step;
        };
        if series.slices.is_empty() {
            step.status("This series has no images to show.");
            return step;
        }
        let first = series
            .files
            .first()
            .and_then(|&f| self.headers.get(f).cloned().flatten());
        let Some(files) = SeriesFiles::of(series, &self.headers) else {
            step.status("This series' files could not be found again; load the folder again.");
            return step;
        };
        step.show(Shown::Selected(Some(Box::new(Selection {
            at,
            first,
            demo: self.demo,
        }))));
        step.show(Shown::Progress(Some(Progress {
            label: "Decoding images",
            done: 0,
            total: files.files.len(),
        })));
        let ahead = ahead.filter(|(_, ahead)| *ahead == files.files);
        let id = ahead.as_ref().map_or_else(|| self.next_id(), |(id, _)| *id);
        self.job = Job::Volume {
            id,
            files: Box::new(files),
            skip: Vec::new(),
            reading: None,
            one_by_one: false,
        };
        if ahead.is_some() {
            return step;
        }
        step.then(self.send_volume())
    }

    fn send_headers(&mut self, first: FileIndex, one_by_one: bool) -> Step {
        let id = self.next_id();
        self.job = Job::Headers {
            id,
            first,
            next: first,
            reading: None,
            one_by_one,
        };
        let files = (first.0..self.names.len()).map(FileIndex).collect();
        let message = if one_by_one {
            ToDecoder::Headers
        } else {
            // From the first file on, the worker sees every header the page will have.
            ToDecoder::HeadersInBatches {
                decode_ahead: first == FileIndex(0),
            }
        };
        Step {
            commands: vec![Command::Send(Request { id, message, files })],
            shown: Vec::new(),
        }
    }

    fn send_check(&mut self, first: FileIndex) -> Step {
        let id = self.next_id();
        self.job = Job::Check {
            id,
            first,
            reading: None,
        };
        let files: Vec<FileIndex> = (first.0..self.names.len()).map(FileIndex).collect();
        let names = files.iter().map(|&f| self.name(f).to_string()).collect();
        Step {
            commands: vec![Command::Send(Request {
                id,
                message: ToDecoder::Inspect { names },
                files,
            })],
            shown: Vec::new(),
        }
    }

    /// (Re)sends the volume request, under a new id, without the files to skip.
    fn send_volume(&mut self) -> Step {
        let id = self.next_id();
        let Job::Volume {
            id: job_id,
            files,
            skip,
            reading,
            one_by_one,
        } = &mut self.job
        else {
            return Step::default();
        };
        *job_id = id;
        *reading = None;
        let read = files
            .files
            .iter()
            .map(|f| self.read_at.get(f.0).copied().flatten())
            .collect();
        Step {
            commands: vec![Command::Send(Request {
                id,
                message: ToDecoder::Volume {
                    series: Box::new(files.series.clone()),
                    instances: files.instances.clone(),
                    skip: skip.clone(),
                    one_by_one: *one_by_one,
                    read,
                },
                files: files.files.clone(),
            })],
            shown: Vec::new(),
        }
    }

    fn problem(&mut self, step: &mut Step, problem: Problem) {
        // Loading the same series again must not list its problems twice.
        if !self.problems.contains(&problem) {
            self.problems.push(problem);
        }
        step.show(Shown::Problems(self.problems.clone()));
    }

    /// The worker died (a decoder aborted): blame the file it was reading, start a fresh
    /// worker, and carry on with the rest.
    pub fn on_crash(&mut self, detail: &str) -> Step {
        let mut step = Step {
            commands: vec![Command::Restart],
            shown: Vec::new(),
        };
        match self.job.clone() {
            Job::Headers {
                reading: Some(file),
                ..
            } => {
                let problem = Problem {
                    file: self.name(file).to_string(),
                    message: format!("{CRASHED}; it was skipped"),
                };
                self.problem(&mut step, problem);
                step.then(self.send_headers(FileIndex(file.0 + 1), false))
            }
            // Every header was answered: the crash came after the last file.
            Job::Headers { next, .. } if next.0 >= self.names.len() => {
                step.then(self.finish_headers(None))
            }
            Job::Headers {
                next,
                one_by_one: false,
                ..
            } => {
                step.status(RETRYING);
                step.then(self.send_headers(next, true))
            }
            Job::Check {
                reading: Some(file),
                ..
            } => {
                self.reports.push(FileReport {
                    file: self.name(file).to_string(),
                    error: Some(CRASHED.into()),
                    ..Default::default()
                });
                step.show(Shown::Reports(self.reports.clone()));
                step.then(self.send_check(FileIndex(file.0 + 1)))
            }
            Job::Volume {
                reading: Some(local),
                files,
                ..
            } => {
                if let Job::Volume { skip, .. } = &mut self.job {
                    skip.push(local);
                }
                let file = files.file(local).map_or("", |f| self.name(f)).to_string();
                let problem = Problem {
                    file,
                    message: format!("{CRASHED}; its slices are left empty"),
                };
                self.problem(&mut step, problem);
                step.then(self.send_volume())
            }
            Job::Volume {
                one_by_one: false, ..
            } => {
                if let Job::Volume { one_by_one, .. } = &mut self.job {
                    *one_by_one = true;
                }
                step.status(RETRYING);
                step.then(self.send_volume())
            }
            _ => {
                self.job = Job::Idle;
                step.show(Shown::Progress(None));
                step.status(format!(
                    "Decoding stopped unexpectedly ({detail}). Choose another series or load the files again."
                ));
                step
            }
        }
    }

    /// An answer of the worker to request `id`, with the number of voxels attached to
    /// it, if any. An answer to a request that was replaced changes nothing.
    pub fn on_reply(&mut self, id: RequestId, reply: FromDecoder, voxels: Option<usize>) -> Step {
        if self.job.id() != Some(id) {
            return Step::default();
        }
        let mut step = Step::default();
        match reply {
            // The worker's life cycle and what is attached to a request are its client's
            // business; a cohort's slices are the cohort's, an agreement run's cases the
            // reader view's (this view never asks for them).
            FromDecoder::Ready
            | FromDecoder::NeedsFiles
            | FromDecoder::Slice { .. }
            | FromDecoder::AgreementCase { .. }
            | FromDecoder::AgreementFailed { .. }
            | FromDecoder::AgreementPlaced { .. } => {}
            FromDecoder::Refused { detail } => {
                self.job = Job::Idle;
                step.show(Shown::Progress(None));
                step.status(format!(
                    "Internal error: the decoding worker could not read the page's request ({detail}). Reload the page."
                ));
            }
            FromDecoder::Reading { attached } => match &mut self.job {
                Job::Headers { first, reading, .. } | Job::Check { first, reading, .. } => {
                    *reading = Some(FileIndex(first.0 + attached));
                }
                Job::Volume { reading, .. } => *reading = Some(LocalFile(attached)),
                Job::Idle | Job::Demo(_) => {}
            },
            FromDecoder::Header { attached, result } => {
                self.take_headers(&mut step, attached, vec![result]);
            }
            FromDecoder::HeaderBatch { first, results } => {
                self.take_headers(&mut step, first, results);
            }
            FromDecoder::HeadersDone { ahead } => return self.finish_headers(ahead),
            FromDecoder::Progress { done, total } => {
                // Said after a file is done with: a crash from now on is not that file's.
                if let Job::Volume { reading, .. } = &mut self.job {
                    *reading = None;
                }
                step.show(Shown::Progress(Some(Progress {
                    label: "Decoding images",
                    done,
                    total,
                })))
            }
            FromDecoder::Volume {
                header,
                failures,
                level,
                level_ms,
            } => {
                let Job::Volume { files, skip, .. } = std::mem::replace(&mut self.job, Job::Idle)
                else {
                    return step;
                };
                step.show(Shown::Progress(None));
                let slices = header.slices;
                if voxels != Some(slices * header.rows * header.columns) {
                    step.status("The decoded images did not arrive whole; load the series again.");
                    return step;
                }
                // Files skipped after a decoder stopped on them are already listed.
                for (local, error) in failures.into_iter().filter(|(l, _)| !skip.contains(l)) {
                    let file = files.file(local).map_or("", |f| self.name(f)).to_string();
                    let message = error.to_string();
                    self.problem(&mut step, Problem { file, message });
                }
                step.status(format!("{slices} slice(s) loaded."));
                step.show(Shown::Loaded(Box::new(LoadedSeries {
                    header: *header,
                    files: *files,
                    level: *level,
                    level_ms,
                })));
            }
            FromDecoder::VolumeFailed { error } => {
                self.job = Job::Idle;
                step.show(Shown::Progress(None));
                step.status(format!("This series could not be shown: {error}"));
            }
            FromDecoder::Report { attached, report } => {
                let Job::Check { first, .. } = self.job else {
                    return step;
                };
                self.reports.push(*report);
                step.show(Shown::Reports(self.reports.clone()));
                step.show(Shown::Progress(Some(Progress {
                    label: "Checking files",
                    done: first.0 + attached + 1,
                    total: self.names.len(),
                })));
            }
            FromDecoder::InspectDone => {
                self.job = Job::Idle;
                step.show(Shown::Progress(None));
                let reports = &self.reports;
                let decoded = reports.iter().filter(|r| r.stored.is_some()).count();
                let no_image = reports
                    .iter()
                    .filter(|r| r.has_pixel_data == Some(false))
                    .count();
                step.status(format!(
                    "Checked {} file(s): {decoded} image(s) decoded, {no_image} without an image, {} could not be used.",
                    reports.len(),
                    reports.len() - decoded - no_image
                ));
            }
            FromDecoder::DemoFiles { names } => {
                self.job = Job::Idle;
                step.commands.push(Command::TakeAttachedFiles);
                return step.then(self.add_files(names, true));
            }
            FromDecoder::DemoFailed { message } => {
                self.job = Job::Idle;
                step.status(format!("The demo case could not be made: {message}"));
            }
        }
        step
    }

    /// The headers of attached files `attached`, `attached + 1`, … of the current
    /// request: kept, or listed as problems.
    fn take_headers(
        &mut self,
        step: &mut Step,
        attached: usize,
        results: Vec<Result<Box<Instance>, DicomError>>,
    ) {
        let Job::Headers { id, first, .. } = self.job else {
            return;
        };
        let start = first.0 + attached;
        for ((file, result), attached) in (start..).map(FileIndex).zip(results).zip(attached..) {
            match result {
                Ok(instance) => {
                    if let Some(slot) = self.headers.get_mut(file.0) {
                        *slot = Some(*instance);
                    }
                    if let Some(slot) = self.read_at.get_mut(file.0) {
                        *slot = Some(HeaderRead {
                            request: id,
                            attached,
                        });
                    }
                }
                Err(error) => {
                    let problem = Problem {
                        file: self.name(file).to_string(),
                        message: error.to_string(),
                    };
                    self.problem(step, problem);
                }
            }
            // Answered: a crash from now on is not this file's.
            if let Job::Headers { next, reading, .. } = &mut self.job {
                *next = FileIndex(file.0 + 1);
                *reading = None;
            }
        }
        if let Job::Headers { next, .. } = self.job {
            step.show(Shown::Progress(Some(Progress {
                label: "Reading files",
                done: next.0,
                total: self.names.len(),
            })));
        }
    }

    /// Every header is in; `ahead`: the attached files of the series the worker is
    /// decoding ahead.
    fn finish_headers(&mut self, ahead: Option<Vec<usize>>) -> Step {
        let ahead = match self.job {
            Job::Headers { id, first, .. } => ahead.map(|files| {
                let files = files.into_iter().map(|k| FileIndex(first.0 + k)).collect();
                (id, files)
            }),
            _ => None,
        };
        self.job = Job::Idle;
        self.catalogue = Catalogue::build(&self.headers);
        let read = self.headers.iter().flatten().count();
        let mut step = Step::default();
        step.show(Shown::Progress(None));
        step.show(Shown::Studies(self.catalogue.studies.clone()));
        match self.catalogue.chosen {
            Some(at) => {
                step.status(format!("{read} DICOM file(s) read. Loading the CT series…"));
                step.then(self.open_series(at, ahead))
            }
            None => {
                step.status(format!(
                    "{read} DICOM file(s) read, but no CT image series was found. See the series list and problems below."
                ));
                step
            }
        }
    }
}

#[cfg(test)]
mod tests;
