//! Command-line parsing and output; the work itself is in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sarcoscope::dicom::{series, Instance};
use sarcoscope::ingest::folder::{list_files, FileList};
use sarcoscope::ingest::Catalogue;
use sarcoscope::inspect::{self, FileReport};
use serde::Serialize;

/// `println!` that ends the program quietly once the reader of its output has gone
/// (`sarcoscope inspect … | head`), instead of panicking on the closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::output_failed(e);
        }
    }};
}

mod agree;
mod batch;
mod cohort;
mod join;
mod l3;
mod phantom;
mod scores;
mod segment;

#[derive(Parser)]
#[command(
    name = "sarcoscope",
    version,
    about = "L3 body composition and cirrhosis prognosis, privately"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read every file under a folder: the series found, their geometry, per-file results.
    Inspect {
        folder: PathBuf,
        /// One JSON document: `files` (fields as in the shared expected.json) and `studies`.
        #[arg(long)]
        json: bool,
    },
    /// Find the L3 slice of the folder's CT series: slice index (from the most inferior
    /// slice), position, confidence, status, the vertebrae found and the evidence.
    L3 {
        folder: PathBuf,
        /// One JSON object: slice_index, z_mm, confidence, status, vertebrae, evidence.
        #[arg(long)]
        json: bool,
    },
    /// Segment muscle, IMAT, VAT and SAT on one slice of the folder's CT series (the L3
    /// slice unless --slice is given): area (cm²) and mean HU per tissue.
    Segment {
        folder: PathBuf,
        /// Slice index counted from the most inferior slice (0); default: the L3 slice.
        #[arg(long)]
        slice: Option<usize>,
        /// Write the label map on the slice's own grid as an 8-bit PNG (0 background,
        /// 1 muscle, 2 IMAT, 3 VAT, 4 SAT).
        #[arg(long)]
        mask_out: Option<PathBuf>,
        /// Write the mask as a DICOM Segmentation (one binary frame per tissue).
        #[arg(long)]
        seg_out: Option<PathBuf>,
        /// Let the DICOM SEG reference the source study, series and image (default:
        /// de-identified, no reference).
        #[arg(long)]
        identified: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        model: segment::ModelOptions,
    },
    /// Train the segmentation network from a seed (phantoms, plus the real reference
    /// labels when --shared is given) and write its weights and model card.
    Train {
        #[command(flatten)]
        options: segment::TrainOptions,
    },
    /// Evaluate a model: Dice and area error on held-out real slices and unseen phantoms.
    Eval {
        #[command(flatten)]
        model: segment::ModelOptions,
        /// The shared data folder (holds data/ct/totalseg-example).
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long, default_value_t = 24)]
        phantoms: usize,
        #[arg(long)]
        json: bool,
        /// Write each held-out slice's muscle, ours against the reference's, as a PNG into
        /// this folder (green both, orange ours only, blue the reference's only).
        #[arg(long)]
        overlays: Option<PathBuf>,
    },
    /// Prognosis scores (MELD, MELD-Na, MELD 3.0, Child–Pugh, ALBI, APRI, FIB-4) for
    /// a CSV with columns bili, creat, inr, na, alb, sex (M/F), dialysis (0/1) and, when
    /// present, platelets, ast, alt, age, ascites (none/mild/moderate or 0–3),
    /// encephalopathy (West Haven 0–4), ast_uln. Rows with bad values get an `error`
    /// column; the others are scored.
    Scores {
        csv: PathBuf,
        /// Units of bilirubin and creatinine (µmol/L or mg/dL) and albumin (g/L or g/dL).
        #[arg(long, value_parser = parse_units)]
        units: sarcoscope::clinical::Units,
        /// The laboratory's AST upper limit of normal for APRI, U/L (default 40, unless
        /// an ast_uln column gives it per row).
        #[arg(long)]
        ast_uln: Option<f64>,
        /// Write the table here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Every CT study under a folder measured unattended (series choice, L3, segmentation,
    /// body composition and calls), one de-identified row per study in a cohort CSV —
    /// failed studies with their reason — resumable with --keys and --resume.
    Batch(batch::BatchOptions),
    /// Readers' masks (Slice-O-Matic .tag files) against the automatic masks of the same
    /// CT slices: Dice, Jaccard, HD95 and areas per case and tissue; over all cases the
    /// muscle area's Bland–Altman limits, ICC(2,1) and CCC, and the sarcopenia call's kappa.
    Agree(agree::AgreeOptions),
    /// A clinical table joined to a cohort table by its `case` column: heights fill SMI
    /// and the calls, laboratory values (the columns of `scores`) fill every score, other
    /// columns (outcomes) come along. Written as the Cohort view writes it.
    Join {
        /// The cohort table (`batch --out`, or the Cohort view's download).
        cohort: PathBuf,
        /// The clinical table: case (or patient_id, with --keys), and any of height_cm or height_m, weight_kg, the
        /// `scores` columns, outcomes (commas or semicolons, decimal point or comma).
        clinical: PathBuf,
        /// Units of bilirubin and creatinine (µmol/L or mg/dL) and albumin (g/L or g/dL).
        #[arg(long, value_parser = parse_units)]
        units: sarcoscope::clinical::Units,
        /// The key table (`batch --keys`), for a clinical table kept by patient_id.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Write the joined table here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The measuring process of a batch worker (run by `batch`, not by people).
    #[command(hide = true)]
    BatchWorker(batch::WorkerOptions),
    /// Survival statistics on a cohort CSV, as R computes them: `cohort fit` (Cox
    /// model) and `cohort km` (Kaplan–Meier and log-rank).
    Cohort {
        #[command(subcommand)]
        command: cohort::CohortCommand,
    },
    /// Write a synthetic abdominal CT series (a phantom, not a patient) as DICOM files.
    Phantom {
        out: PathBuf,
        #[command(flatten)]
        options: phantom::Options,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { folder, json } => inspect_folder(&folder, json),
        Command::L3 { folder, json } => l3::l3(&folder, json),
        Command::Segment {
            folder,
            slice,
            mask_out,
            seg_out,
            identified,
            json,
            model,
        } => segment::segment(
            &folder,
            slice,
            &segment::MaskOutputs {
                png: mask_out.as_deref(),
                seg: seg_out.as_deref(),
                identified,
            },
            json,
            &model,
        ),
        Command::Train { options } => segment::train_command(&options),
        Command::Eval {
            model,
            shared,
            phantoms,
            json,
            overlays,
        } => segment::eval_command(
            &model,
            shared.as_deref(),
            phantoms,
            json,
            overlays.as_deref(),
        ),
        Command::Scores {
            csv,
            units,
            ast_uln,
            out,
        } => scores::scores(&csv, units, ast_uln, out.as_deref()),
        Command::Join {
            cohort,
            clinical,
            keys,
            units,
            out,
        } => join::run(&cohort, &clinical, keys.as_deref(), units, out.as_deref()),
        Command::Batch(options) => batch::run(options),
        Command::Agree(options) => agree::run(&options),
        Command::BatchWorker(options) => batch::worker(options),
        Command::Cohort { command } => cohort::run(command),
        Command::Phantom { out, options } => phantom::write(&out, &options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("sarcoscope: {}", chain(failure.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// What a command failed with: a library error (with its causes) or a message.
pub type Failure = Box<dyn std::error::Error>;

/// Writes a file, naming it when that fails.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Failure> {
    std::fs::write(path, contents)
        .map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}

/// An error and every cause under it, on one line: "cannot read x: permission denied".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Writing to standard output failed: a reader that has gone is no error of ours.
pub fn output_failed(error: std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("sarcoscope: cannot write the output: {error}");
    std::process::exit(1);
}

/// Names on stderr the subfolders a listing could not read.
pub fn report_skipped(skipped: &[(PathBuf, std::io::Error)]) {
    for (dir, error) in skipped {
        eprintln!("sarcoscope: skipped {}: {error}", dir.display());
    }
}

/// A file's name as a user sees it in reports: its path under the folder they gave, with
/// `/` (or its file name when they gave the file itself).
pub fn name_under(path: &Path, folder: &Path) -> String {
    let relative = match path.strip_prefix(folder) {
        Ok(r) if !r.as_os_str().is_empty() => r,
        _ => Path::new(path.file_name().unwrap_or(path.as_os_str())),
    };
    relative.to_string_lossy().replace('\\', "/")
}

fn parse_units(s: &str) -> Result<sarcoscope::clinical::Units, String> {
    s.parse()
}

#[derive(Serialize)]
struct InspectOutput {
    decoder: String,
    files: Vec<FileReport>,
    studies: Vec<series::Study>,
    /// Indices into `files` of each study's chosen CT series: [study, series].
    chosen_ct_series: Option<(usize, usize)>,
}

fn inspect_folder(folder: &Path, json: bool) -> Result<(), Failure> {
    let FileList {
        files: paths,
        skipped,
    } = list_files(folder)?;
    report_skipped(&skipped);
    let mut reports = Vec::with_capacity(paths.len());
    let mut headers: Vec<Option<Instance>> = Vec::with_capacity(paths.len());
    for path in &paths {
        let name = name_under(path, folder);
        let (report, instance) = match std::fs::read(path) {
            Ok(bytes) => inspect::inspect_bytes(&name, &bytes),
            Err(e) => (
                FileReport {
                    file: name,
                    error: Some(format!("the file could not be read: {e}")),
                    ..Default::default()
                },
                None,
            ),
        };
        headers.push(instance);
        reports.push(report);
    }
    // Series refer to files by their index in `files`.
    let Catalogue { studies, chosen } = Catalogue::build(&headers);
    let chosen = chosen.map(|at| (at.study, at.series));
    if json {
        let output = InspectOutput {
            decoder: format!(
                "sarcoscope {} (dicom-rs 0.10, pure_jpegls 2)",
                env!("CARGO_PKG_VERSION")
            ),
            files: reports,
            studies,
            chosen_ct_series: chosen,
        };
        let text = serde_json::to_string_pretty(&output)?;
        out!("{text}");
    } else {
        print_human(&reports, &studies, chosen);
    }
    Ok(())
}

fn print_human(reports: &[FileReport], studies: &[series::Study], chosen: Option<(usize, usize)>) {
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    out!("{} file(s) read, {} with a problem", reports.len(), failed);
    for (si, study) in studies.iter().enumerate() {
        out!(
            "\nStudy {} {}",
            study.description,
            study.date.as_deref().unwrap_or("")
        );
        for (ri, s) in study.series.iter().enumerate() {
            let mark = if chosen == Some((si, ri)) { "▶" } else { " " };
            out!(
                "{mark} series {} \"{}\" — {} — {} file(s), {} slice(s) {}×{}",
                s.series_number
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into()),
                s.description,
                s.kind.label(),
                s.files.len(),
                s.slices.len(),
                s.columns,
                s.rows
            );
            if let Some(g) = &s.geometry {
                if let Some([row, col]) = g.pixel_spacing {
                    print!("    pixel spacing {row:.3} × {col:.3} mm");
                }
                if let Some(spacing) = g.slice_spacing {
                    print!(", slice spacing {spacing:.2} mm");
                }
                out!();
            }
            for w in &s.warnings {
                out!("    ⚠ {w}");
            }
        }
    }
    if failed > 0 {
        out!("\nProblems:");
        for r in reports {
            if let Some(e) = &r.error {
                out!("  {}: {e}", r.file);
            }
        }
    }
}
