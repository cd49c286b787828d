//! `sarcoscope batch`: every CT study under a folder measured unattended, one row per
//! study in a cohort CSV (de-identified), resumable from its key table.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sarcoscope::batch::row::{self, Outcome, Row};
use sarcoscope::batch::{self, Settings, Study, StudyError};
use sarcoscope::body::{MyosteatosisCutoffs, SmiCutoffs};
use sarcoscope::dicom::{self, DicomError, Instance};
use sarcoscope::ingest::folder::list_files;
use sarcoscope::ingest::FileIndex;
use sarcoscope::report::SegmentationFacts;
use sarcoscope::segment::PostProcess;
use serde::Serialize;

use super::segment::{load_model, ModelOptions};
use super::Failure;

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
    /// The SMI cut-off set of the sarcopenia call.
    #[arg(long, default_value = "carey2017", value_parser = parse_smi)]
    smi_cutoffs: SmiCutoffs,
    /// The muscle-attenuation cut-off set of the myosteatosis call.
    #[arg(long, default_value = "ebadi2022", value_parser = parse_myosteatosis)]
    myosteatosis_cutoffs: MyosteatosisCutoffs,
    #[command(flatten)]
    model: ModelOptions,
    /// Print a summary of this run as JSON.
    #[arg(long)]
    json: bool,
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

const KEYS_HEADER: &str = "case,study_uid,study_date,source_folder";

pub fn run(options: BatchOptions) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let settings = Settings {
        smi_cutoffs: options.smi_cutoffs,
        myosteatosis_cutoffs: options.myosteatosis_cutoffs,
    };
    let mut list = list_files(&options.root)?;
    // The run's own table and key table may lie inside the archive: not studies.
    let own: Vec<PathBuf> = [Some(&options.out), options.keys.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    list.files
        .retain(|f| f.canonicalize().map_or(true, |c| !own.contains(&c)));
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
    let headers: Vec<Option<Instance>> = list
        .files
        .iter()
        .map(|p| read(p).and_then(|bytes| dicom::read_instance(&bytes)).ok())
        .collect();
    let studies = batch::group(&names, &headers);
    let unreadable = batch::unreadable_folders(&names, &headers);

    let done = match (&options.keys, options.resume) {
        (Some(keys), true) => read_keys(keys)?,
        _ => HashMap::new(),
    };
    let mut next = done.values().filter_map(|c| number(c)).max().unwrap_or(0) + 1;
    let mut out = open(&options.out, options.resume, &row::header(settings))?;
    let mut keys = match &options.keys {
        Some(path) => Some(open(path, options.resume, KEYS_HEADER)?),
        None => None,
    };
    let (segmenter, device) = load_model(&options.model)?;
    let model = format!("{} {}", segmenter.card.name, segmenter.card.version);
    let mut summary = Summary {
        studies: studies.len() + unreadable.len(),
        measured: 0,
        failed: 0,
        skipped: 0,
        seconds: 0.0,
    };
    let files = &list.files;
    let read_file = |f: FileIndex| read(&files[f.0]);
    // A study's key: its UID; a folder of unreadable files, its path.
    let mut work: Vec<(String, Option<&Study>, &str)> = studies
        .iter()
        .map(|s| (s.study_uid.clone(), Some(s), s.folder.as_str()))
        .collect();
    work.extend(
        unreadable
            .iter()
            .map(|f| (format!("folder:{f}"), None, f.as_str())),
    );
    for (key, study, folder) in work {
        if done.contains_key(&key) {
            summary.skipped += 1;
            continue;
        }
        let code = format!("S{next:04}");
        next += 1;
        let begun = std::time::Instant::now();
        let measured = match study {
            None => Err((StudyError::Unreadable, None, String::new())),
            Some(study) => {
                // One study's failure, a panic included, costs its row, not the run.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    measure(
                        study,
                        &read_file,
                        &segmenter,
                        (&model, &device),
                        &code,
                        settings,
                    )
                }))
                .unwrap_or_else(|_| {
                    Err((
                        StudyError::Segmentation("the program stopped on this study".into()),
                        None,
                        String::new(),
                    ))
                })
            }
        };
        let seconds = begun.elapsed().as_secs_f64();
        let row = match measured {
            Ok((report, level, series)) => {
                summary.measured += 1;
                let outcome = Outcome {
                    folder,
                    level: Some(level),
                    series: &series,
                    seconds,
                };
                Row::measured(&report, &outcome)
            }
            Err((error, level, series)) => {
                summary.failed += 1;
                eprintln!("{code} ({folder}): {}", error.reason());
                let outcome = Outcome {
                    folder,
                    level,
                    series: &series,
                    seconds,
                };
                Row::failed(&code, settings, &error, &outcome)
            }
        };
        // Written after every study: an interrupted run loses at most the one it was on.
        append(&mut out, &options.out, &row.line())?;
        if let (Some(file), Some(path)) = (keys.as_mut(), options.keys.as_ref()) {
            let date = study
                .and_then(|s| s.ct.as_ref().ok())
                .and_then(|ct| ct.instances.first())
                .and_then(|i| i.acquisition.study_date.clone())
                .unwrap_or_default();
            let uid = study.map_or("", |s| s.study_uid.as_str());
            append(
                file,
                path,
                &sarcoscope::csv::line(&[code.as_str(), uid, &date, folder]),
            )?;
        }
    }
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

type Measured = (sarcoscope::report::CaseReport, batch::LevelStatus, String);
type Unmeasured = (StudyError, Option<batch::LevelStatus>, String);

fn measure(
    study: &Study,
    read: &impl Fn(FileIndex) -> Result<Vec<u8>, DicomError>,
    segmenter: &sarcoscope::segment::Segmenter,
    (model, device): (&str, &str),
    code: &str,
    settings: Settings,
) -> Result<Measured, Unmeasured> {
    let series = study
        .ct
        .as_ref()
        .map(|ct| ct.series.description.clone())
        .unwrap_or_default();
    let prepared = batch::prepare(study, read).map_err(|e| {
        let level = matches!(e, StudyError::NoL3(_)).then_some(batch::LevelStatus::NotInScan);
        (e, level, series.clone())
    })?;
    let fail = |e: StudyError| (e, Some(prepared.level_status), series.clone());
    let slice = prepared.slice().map_err(|e| fail(StudyError::Slice(e)))?;
    let mask = segmenter.segment(&slice, &PostProcess::default());
    let facts = SegmentationFacts {
        model: model.to_owned(),
        model_sha256: segmenter.card.weights.sha256.clone(),
        path: device.to_owned(),
        reviewed: false,
        edited_pixels: 0,
    };
    let report = batch::finish(&prepared, &mask, facts, code, settings).map_err(fail)?;
    Ok((report, prepared.level_status, series))
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

/// The numeric part of a case code `S0042`.
fn number(code: &str) -> Option<usize> {
    code.strip_prefix('S')?.parse().ok()
}

/// The key table's studies already measured: key → case code.
fn read_keys(path: &Path) -> Result<HashMap<String, String>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
    };
    let rows = sarcoscope::csv::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(rows
        .into_iter()
        .skip(1)
        .filter_map(|row| {
            let (code, uid, folder) = (row.first()?, row.get(1)?, row.get(3)?);
            let key = if uid.is_empty() {
                format!("folder:{folder}")
            } else {
                uid.clone()
            };
            Some((key, code.clone()))
        })
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
