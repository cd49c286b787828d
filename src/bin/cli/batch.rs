//! `sarcoscope batch`: every CT study under a folder measured unattended, one row per
//! study in a cohort CSV (de-identified), resumable from its key table.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use sarcoscope::batch::codes::CaseCodes;
use sarcoscope::batch::keys::{self, KeyRow};
use sarcoscope::batch::masks::MaskFiles;
use sarcoscope::batch::row::{self, Outcome, Row};
use sarcoscope::batch::{self, LevelStatus, Settings, Study, StudyError};
use sarcoscope::body::{MyosteatosisCutoffs, SmiCutoffs};
use sarcoscope::dicom::{DicomError, Instance};
use sarcoscope::ingest::folder::{list_files, read_header};
use sarcoscope::ingest::FileIndex;
use sarcoscope::report::{CaseReport, SegmentationFacts};
use sarcoscope_network::{PostProcess, Segmentation, Segmenter};
use serde::Serialize;

use super::segment::{load_model, now, ModelOptions};
use super::{write_file, Failure};

#[derive(clap::Args)]
pub struct BatchOptions {
    /// The folder holding the studies (any layout: a folder per patient, flat exports,
    /// nested study/series folders; files that are not DICOM are passed over).
    root: PathBuf,
    /// The cohort table to write (CSV). With --resume, rows are added to it.
    #[arg(long)]
    out: PathBuf,
    /// The key table linking each case code to its StudyInstanceUID and study date:
    /// written only when asked for, as a file of its own (the cohort table carries no
    /// identifier). --resume reads it to skip the studies already measured.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Skip the studies the key table lists; add the others to --out.
    #[arg(long, requires = "keys")]
    resume: bool,
    /// Case codes are this prefix and a number: S0001, S0002, … by default; a centre's
    /// own (C1- gives C1-0001) keeps the centres of a study apart.
    #[arg(long, default_value = "S", value_parser = parse_prefix)]
    code_prefix: CaseCodes,
    /// The SMI cut-off set of the sarcopenia call.
    #[arg(long, default_value = "carey2017", value_parser = parse_smi)]
    smi_cutoffs: SmiCutoffs,
    /// The muscle-attenuation cut-off set of the myosteatosis call.
    #[arg(long, default_value = "ebadi2022", value_parser = parse_myosteatosis)]
    myosteatosis_cutoffs: MyosteatosisCutoffs,
    /// Studies measured at once, each by its own worker with its own copy of the
    /// network (memory grows with it: one study's volume per worker).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Write each measured study's mask here as `CASE.seg.dcm` (DICOM SEG,
    /// de-identified) and `CASE.png` (labels 0–4).
    #[arg(long)]
    seg_dir: Option<PathBuf>,
    #[command(flatten)]
    model: ModelOptions,
    /// Print a summary of this run as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_prefix(prefix: &str) -> Result<CaseCodes, String> {
    CaseCodes::new(prefix).map_err(|e| e.to_string())
}

fn parse_smi(key: &str) -> Result<SmiCutoffs, String> {
    SmiCutoffs::ALL
        .into_iter()
        .find(|c| c.key() == key)
        .ok_or_else(|| format!("one of {}", SmiCutoffs::ALL.map(SmiCutoffs::key).join(", ")))
}

fn parse_myosteatosis(key: &str) -> Result<MyosteatosisCutoffs, String> {
    MyosteatosisCutoffs::ALL
        .into_iter()
        .find(|c| c.key() == key)
        .ok_or_else(|| {
            format!(
                "one of {}",
                MyosteatosisCutoffs::ALL
                    .map(MyosteatosisCutoffs::key)
                    .join(", ")
            )
        })
}

/// This run's counts (`--json`).
#[derive(Serialize)]
struct Summary {
    studies: usize,
    measured: usize,
    failed: usize,
    skipped: usize,
    seconds: f64,
}

/// One study (or folder of unreadable files) of this run, with its case code.
struct Job<'a> {
    code: String,
    study: Option<&'a Study>,
    folder: &'a str,
}

/// What came of a job: the row, and its mask as SEG and PNG when asked for.
struct Done {
    row: Row,
    masks: Option<MaskFiles>,
}

/// The measuring process of one batch worker (`sarcoscope batch-worker`): studies are
/// measured there, one after another, so that a file that aborts the program — a stack
/// overflow, an allocation that fails; neither can be caught — costs its study's row
/// and a new worker process, not the run. The model is loaded once per process.
///
/// Each study comes on standard input as its case code and its files' whole paths, each
/// ended by a NUL byte, and an empty field after the last path; its row leaves on
/// standard output as one line (a JSON array of the values), its masks go into
/// `--seg-dir`.
#[derive(clap::Args)]
pub struct WorkerOptions {
    /// The batch's root folder (a study's folder is named relative to it).
    #[arg(long)]
    root: PathBuf,
    #[arg(long, value_parser = parse_smi)]
    smi_cutoffs: SmiCutoffs,
    #[arg(long, value_parser = parse_myosteatosis)]
    myosteatosis_cutoffs: MyosteatosisCutoffs,
    #[arg(long)]
    seg_dir: Option<PathBuf>,
    #[command(flatten)]
    model: ModelOptions,
}

/// A worker process and its pipes.
struct Worker {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl Worker {
    fn start(options: &BatchOptions, settings: Settings) -> std::io::Result<Worker> {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command
            .arg("batch-worker")
            .arg("--root")
            .arg(&options.root)
            .args(["--smi-cutoffs", settings.smi_cutoffs.key()])
            .args([
                "--myosteatosis-cutoffs",
                settings.myosteatosis_cutoffs.key(),
            ])
            .args(options.model.args())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        if let Some(dir) = &options.seg_dir {
            command.arg("--seg-dir").arg(dir);
        }
        let mut child = command.spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(std::io::Error::other("no pipes to the worker"));
        };
        Ok(Worker {
            child,
            input,
            output: std::io::BufReader::new(output),
        })
    }

    /// The study's row values, or `None` when the worker stopped.
    fn measure(&mut self, code: &str, paths: &[&Path]) -> Option<Vec<String>> {
        use std::io::BufRead as _;
        let mut request = code.as_bytes().to_vec();
        request.push(0);
        for path in paths {
            request.extend(path_bytes(path));
            request.push(0);
        }
        request.push(0);
        self.input
            .write_all(&request)
            .and_then(|()| self.input.flush())
            .ok()?;
        let mut line = String::new();
        match self.output.read_line(&mut line) {
            Ok(n) if n > 0 => serde_json::from_str(&line).ok(),
            _ => None,
        }
    }

    /// How it ended (it is waited for).
    fn ended(mut self) -> String {
        drop(self.input);
        match self.child.wait() {
            Ok(status) => ended(status),
            Err(e) => format!("it could not be waited for: {e}"),
        }
    }
}

/// Measures `job` in this thread's worker process, started (again) when needed; its
/// row, or a failed row saying how the worker stopped.
fn in_worker(
    worker: &mut Option<Worker>,
    job: &Job<'_>,
    files: &[PathBuf],
    options: &BatchOptions,
    settings: Settings,
) -> Done {
    let begun = std::time::Instant::now();
    let Some(study) = job.study else {
        return failed(job, settings, &StudyError::Unreadable, 0.0);
    };
    let mut current = match worker.take() {
        Some(w) => w,
        None => match Worker::start(options, settings) {
            Ok(w) => w,
            Err(e) => {
                let error = StudyError::Stopped(format!("it could not be started: {e}"));
                return failed(job, settings, &error, 0.0);
            }
        },
    };
    let paths: Vec<&Path> = study.files.iter().map(|f| files[f.0].as_path()).collect();
    let names = row::names(settings);
    match current.measure(&job.code, &paths) {
        Some(values) => {
            *worker = Some(current);
            match Row::from_values(&names, &values) {
                Some(row) => Done { row, masks: None },
                None => {
                    let error = StudyError::Stopped("it gave a row of other columns".into());
                    failed(job, settings, &error, begun.elapsed().as_secs_f64())
                }
            }
        }
        None => {
            let how = current.ended();
            let error = StudyError::Stopped(how);
            failed(job, settings, &error, begun.elapsed().as_secs_f64())
        }
    }
}

/// How a child process ended, in words.
fn ended(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        match status.signal() {
            Some(6) => return "it aborted".into(),
            Some(9) => return "it was killed, perhaps for lack of memory".into(),
            Some(11) => return "it crashed".into(),
            Some(signal) => return format!("signal {signal}"),
            None => {}
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "it ended abnormally".into(),
    }
}

fn failed(job: &Job<'_>, settings: Settings, error: &StudyError, seconds: f64) -> Done {
    let outcome = Outcome {
        folder: job.folder,
        level: None,
        series: "",
        seconds,
    };
    Done {
        row: Row::failed(&job.code, settings, error, &outcome),
        masks: None,
    }
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt as _;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt as _;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// `sarcoscope batch-worker`: see [`WorkerOptions`]. Ends when its input does.
pub fn worker(options: WorkerOptions) -> Result<(), Failure> {
    use std::io::BufRead as _;
    let settings = Settings {
        smi_cutoffs: options.smi_cutoffs,
        myosteatosis_cutoffs: options.myosteatosis_cutoffs,
    };
    let (segmenter, device) = load_model(&options.model)?;
    let mut input = std::io::stdin().lock();
    let field = |input: &mut std::io::StdinLock<'_>| -> std::io::Result<Option<Vec<u8>>> {
        let mut bytes = Vec::new();
        let n = input.read_until(0, &mut bytes)?;
        if bytes.last() == Some(&0) {
            bytes.pop();
        }
        Ok((n > 0).then_some(bytes))
    };
    while let Some(code) = field(&mut input)? {
        let mut files = Vec::new();
        while let Some(path) = field(&mut input)?.filter(|p| !p.is_empty()) {
            files.push(path_of(&path));
        }
        let code = String::from_utf8_lossy(&code).into_owned();
        let row = measure_files(&options, &files, &code, &segmenter, &device, settings)?;
        out!("{}", serde_json::to_string(&row.values())?);
    }
    Ok(())
}

/// One study from its files' paths: grouped again (they are one study's), measured, its
/// masks written.
fn measure_files(
    options: &WorkerOptions,
    files: &[PathBuf],
    code: &str,
    segmenter: &Segmenter,
    device: &str,
    settings: Settings,
) -> Result<Row, Failure> {
    let names: Vec<String> = files.iter().map(|p| relative(&options.root, p)).collect();
    let headers: Vec<Option<Instance>> = files.iter().map(|p| read_header(p).ok()).collect();
    let studies = batch::group(&names, &headers);
    let folder = studies.first().map_or(String::new(), |s| s.folder.clone());
    let job = Job {
        code: code.to_owned(),
        study: studies.first(),
        folder: &folder,
    };
    // Fault injection for the tests (debug builds only): abort on the study in this
    // folder, as a file that overflows a decoder's stack would.
    #[cfg(debug_assertions)]
    if std::env::var_os("SARCOSCOPE_TEST_ABORT_IN").is_some_and(|f| f == folder.as_str()) {
        std::process::abort();
    }
    let read_file = |f: FileIndex| read(&files[f.0]);
    let done = run_job(
        &job,
        &read_file,
        segmenter,
        device,
        settings,
        options.seg_dir.is_some(),
    );
    if let (Some(masks), Some(dir)) = (done.masks, &options.seg_dir) {
        for (name, bytes) in masks.named(&job.code) {
            write_file(&dir.join(name), bytes)?;
        }
    }
    Ok(done.row)
}

pub fn run(options: BatchOptions) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let settings = Settings {
        smi_cutoffs: options.smi_cutoffs,
        myosteatosis_cutoffs: options.myosteatosis_cutoffs,
    };
    let mut list = list_files(&options.root)?;
    // The run's own table, key table and masks may lie inside the archive: not studies.
    let own: Vec<PathBuf> = [
        Some(&options.out),
        options.keys.as_ref(),
        options.seg_dir.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|p| p.canonicalize().ok())
    .collect();
    list.files.retain(|f| {
        f.canonicalize()
            .map_or(true, |c| !own.iter().any(|o| c.starts_with(o)))
    });
    for (folder, e) in &list.skipped {
        eprintln!(
            "{}: cannot be read ({e}); its files are not in the run",
            folder.display()
        );
    }
    let names: Vec<String> = list
        .files
        .iter()
        .map(|p| relative(&options.root, p))
        .collect();
    let read: Vec<Result<Instance, DicomError>> =
        list.files.iter().map(|p| read_header(p)).collect();
    for (name, error) in names
        .iter()
        .zip(&read)
        .filter_map(|(n, r)| Some((n, r.as_ref().err()?)))
    {
        if error.is_worth_naming() {
            eprintln!("{name}: {error}; left out of its study");
        }
    }
    let indexes: Vec<bool> = read
        .iter()
        .map(|r| r == &Err(DicomError::Dicomdir))
        .collect();
    let headers: Vec<Option<Instance>> = read.into_iter().map(Result::ok).collect();
    let studies = batch::group(&names, &headers);
    let unreadable = batch::unreadable_folders(&names, &headers, |i| indexes[i]);

    let done = match (&options.keys, options.resume) {
        (Some(keys), true) => read_keys(keys)?,
        _ => HashMap::new(),
    };
    // Case codes in archive order, continuing the resumed table's numbering (under its
    // own prefix: two prefixes in one table would let codes repeat).
    let codes = &options.code_prefix;
    let numbers = done
        .values()
        .map(|c| codes.number(c).ok_or(c))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|code| {
            format!(
                "the key table to resume has case {code}, not coded {}0001, …: resume with the --code-prefix it was made with",
                codes.prefix()
            )
        })?;
    let mut next = numbers.into_iter().max().unwrap_or(0) + 1;
    let everything = studies
        .iter()
        .map(|s| (s.key(), Some(s), s.folder.as_str()))
        .chain(
            unreadable
                .iter()
                .map(|f| (format!("folder:{f}"), None, f.as_str())),
        );
    let mut jobs = Vec::new();
    for (key, study, folder) in everything {
        if !done.contains_key(&key) {
            jobs.push(Job {
                code: codes.code(next),
                study,
                folder,
            });
            next += 1;
        }
    }
    let mut summary = Summary {
        studies: studies.len() + unreadable.len(),
        measured: 0,
        failed: 0,
        skipped: studies.len() + unreadable.len() - jobs.len(),
        seconds: 0.0,
    };
    // The model is loaded here first, so that a missing one stops the run before it
    // starts; each worker then loads its own copy.
    load_model(&options.model)?;
    if let Some(dir) = &options.seg_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut out = open(&options.out, options.resume, &row::header(settings))?;
    let mut keys = match &options.keys {
        Some(path) => Some(open(path, options.resume, &keys::header())?),
        None => None,
    };
    let files = &list.files;
    let taken = AtomicUsize::new(0);
    let (sender, results) = mpsc::channel::<(usize, Done)>();
    let options = &options;
    std::thread::scope(|scope| -> Result<(), Failure> {
        for _ in 0..options.jobs.max(1).min(jobs.len().max(1)) {
            let (sender, taken, jobs) = (sender.clone(), &taken, &jobs);
            scope.spawn(move || {
                let mut worker = None;
                loop {
                    let k = taken.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(k) else { break };
                    let done = in_worker(&mut worker, job, files, options, settings);
                    if sender.send((k, done)).is_err() {
                        break;
                    }
                }
                if let Some(worker) = worker {
                    worker.ended();
                }
            });
        }
        drop(sender);
        for (k, done) in results {
            let job = &jobs[k];
            if done.row.value("status") == Some("measured") {
                summary.measured += 1;
            } else {
                summary.failed += 1;
                eprintln!(
                    "{} ({}): {}",
                    job.code,
                    job.folder,
                    done.row.value("reason").unwrap_or_default()
                );
            }
            // Written after every study: an interrupted run loses only the studies
            // under way.
            append(&mut out, &options.out, &done.row.line())?;
            if let (Some(file), Some(path)) = (keys.as_mut(), options.keys.as_ref()) {
                append(file, path, &key_line(job))?;
            }
        }
        Ok(())
    })?;
    summary.seconds = started.elapsed().as_secs_f64();
    if options.json {
        out!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        out!(
            "{} studies: {} measured, {} failed, {} skipped (already measured) in {:.1} s; table: {}",
            summary.studies,
            summary.measured,
            summary.failed,
            summary.skipped,
            summary.seconds,
            options.out.display()
        );
    }
    Ok(())
}

/// The key table's line of a job.
fn key_line(job: &Job<'_>) -> String {
    KeyRow::of(&job.code, job.study, job.folder).line()
}

/// Measures one job; a failure, a panic included, becomes its row and nothing more.
fn run_job(
    job: &Job<'_>,
    read: &impl Fn(FileIndex) -> Result<Vec<u8>, DicomError>,
    segmenter: &Segmenter,
    device: &str,
    settings: Settings,
    masks: bool,
) -> Done {
    let begun = std::time::Instant::now();
    let measured = match job.study {
        None => Err(Unmeasured {
            error: StudyError::Unreadable,
            level: None,
            series: String::new(),
        }),
        Some(study) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            measure(study, read, segmenter, device, &job.code, settings, masks)
        }))
        .unwrap_or_else(|_| {
            Err(Unmeasured {
                error: StudyError::Stopped("an internal error".into()),
                level: None,
                series: String::new(),
            })
        }),
    };
    let seconds = begun.elapsed().as_secs_f64();
    match measured {
        Ok(m) => {
            let outcome = Outcome {
                folder: job.folder,
                level: Some(m.level),
                series: &m.series,
                seconds,
            };
            Done {
                row: Row::measured(&m.report, &outcome),
                masks: m.masks,
            }
        }
        Err(u) => {
            let outcome = Outcome {
                folder: job.folder,
                level: u.level,
                series: &u.series,
                seconds,
            };
            Done {
                row: Row::failed(&job.code, settings, &u.error, &outcome),
                masks: None,
            }
        }
    }
}

struct Measured {
    report: CaseReport,
    level: LevelStatus,
    series: String,
    masks: Option<MaskFiles>,
}

struct Unmeasured {
    error: StudyError,
    level: Option<LevelStatus>,
    series: String,
}

fn measure(
    study: &Study,
    read: &impl Fn(FileIndex) -> Result<Vec<u8>, DicomError>,
    segmenter: &Segmenter,
    device: &str,
    code: &str,
    settings: Settings,
    masks: bool,
) -> Result<Measured, Unmeasured> {
    let series = study
        .ct
        .as_ref()
        .map(|ct| ct.series.description.clone())
        .unwrap_or_default();
    let prepared = batch::prepare(study, read).map_err(|error| Unmeasured {
        level: matches!(error, StudyError::NoL3(_)).then_some(LevelStatus::NotInScan),
        error,
        series: series.clone(),
    })?;
    let fail = |error: StudyError| Unmeasured {
        error,
        level: Some(prepared.level_status()),
        series: series.clone(),
    };
    let slice = prepared.slice().map_err(|e| fail(StudyError::Slice(e)))?;
    let Segmentation { mask, left_out } = segmenter.segment(&slice, &PostProcess::default());
    let model = format!("{} {}", segmenter.card.name, segmenter.card.version);
    let masks = match (masks, study.ct.as_ref()) {
        (true, Ok(files)) => {
            Some(MaskFiles::measured(&prepared, files, &mask, &model, now()).map_err(fail)?)
        }
        _ => None,
    };
    let facts = SegmentationFacts {
        model,
        model_sha256: segmenter.card.weights.sha256.clone(),
        path: device.to_owned(),
        reviewed: false,
        edited_pixels: 0,
        left_out,
    };
    let report = batch::finish(&prepared, &mask, facts, code, settings).map_err(fail)?;
    Ok(Measured {
        report,
        level: prepared.level_status(),
        series,
        masks,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, DicomError> {
    std::fs::read(path).map_err(|e| DicomError::Unreadable(e.to_string()))
}

/// `path` below `root`, with `/` between folders whatever the system.
fn relative(root: &Path, path: &Path) -> String {
    let inner = path.strip_prefix(root).unwrap_or(path);
    inner
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The key table's studies already measured: key → case code.
fn read_keys(path: &Path) -> Result<HashMap<String, String>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
    };
    let rows = keys::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(rows
        .into_iter()
        .map(|row| (row.study_key(), row.case))
        .collect())
}

/// Opens `path` for appending rows (with `header` first when it is new or not resumed).
fn open(path: &Path, resume: bool, header: &str) -> Result<std::fs::File, Failure> {
    let exists = resume && path.metadata().is_ok_and(|m| m.len() > 0);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(resume)
        .write(true)
        .truncate(!resume)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if !exists {
        append(&mut file, path, header)?;
    }
    Ok(file)
}

fn append(file: &mut std::fs::File, path: &Path, line: &str) -> Result<(), Failure> {
    file.write_all(format!("{line}\r\n").as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}
