//! Command-line parsing and output; the work itself is in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sarcoscope::dicom::{series, Instance};
use sarcoscope::inspect::{self, FileReport};
use serde::Serialize;

mod l3;
mod phantom;
mod serve;

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
    /// Write a synthetic abdominal CT series (a phantom, not a patient) as DICOM files.
    Phantom {
        out: PathBuf,
        #[command(flatten)]
        options: phantom::Options,
    },
    /// Serve the built app (a folder such as dist/) on http://127.0.0.1:PORT only
    /// (port 0: any free port, printed on start).
    Serve {
        folder: PathBuf,
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { folder, json } => inspect_folder(&folder, json),
        Command::L3 { folder, json } => l3::l3(&folder, json),
        Command::Phantom { out, options } => phantom::write(&out, &options),
        Command::Serve { folder, port } => serve::serve(&folder, port),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sarcoscope: {message}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Serialize)]
struct InspectOutput {
    decoder: String,
    files: Vec<FileReport>,
    studies: Vec<series::Study>,
    /// Indices into `files` of each study's chosen CT series: [study, series].
    chosen_ct_series: Option<(usize, usize)>,
}

fn inspect_folder(folder: &Path, json: bool) -> Result<(), String> {
    let paths = list_files(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    let mut reports = Vec::with_capacity(paths.len());
    let mut instances: Vec<Instance> = Vec::new();
    let mut instance_files = Vec::new();
    for path in &paths {
        let relative = match path.strip_prefix(folder) {
            Ok(r) if !r.as_os_str().is_empty() => r,
            _ => Path::new(path.file_name().unwrap_or(path.as_os_str())),
        };
        let name = relative.to_string_lossy().replace('\\', "/");
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
        if let Some(instance) = instance {
            instance_files.push(reports.len());
            instances.push(instance);
        }
        reports.push(report);
    }
    let mut studies = series::build(&instances);
    let chosen = series::choose_ct(&studies, &instances);
    // Series refer to instances; report them by their index in `files`.
    series::renumber_files(&mut studies, &instance_files);
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
        let text = serde_json::to_string_pretty(&output).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print_human(&reports, &studies, chosen);
    }
    Ok(())
}

fn print_human(reports: &[FileReport], studies: &[series::Study], chosen: Option<(usize, usize)>) {
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    println!("{} file(s) read, {} with a problem", reports.len(), failed);
    for (si, study) in studies.iter().enumerate() {
        println!(
            "\nStudy {} {}",
            study.description,
            study.date.as_deref().unwrap_or("")
        );
        for (ri, s) in study.series.iter().enumerate() {
            let mark = if chosen == Some((si, ri)) { "▶" } else { " " };
            println!(
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
                println!();
            }
            for w in &s.warnings {
                println!("    ⚠ {w}");
            }
        }
    }
    if failed > 0 {
        println!("\nProblems:");
        for r in reports {
            if let Some(e) = &r.error {
                println!("  {}: {e}", r.file);
            }
        }
    }
}

/// Every regular file under `folder`, recursively, in a stable (sorted) order.
/// Only the top folder must be readable: a subfolder that cannot be read is reported on
/// stderr and skipped, and linked folders are not followed (no loops).
fn list_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    if folder.is_file() {
        return Ok(vec![folder.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    let mut top = true;
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if top => return Err(e),
            Err(e) => {
                eprintln!("sarcoscope: skipped {}: {e}", dir.display());
                continue;
            }
        };
        top = false;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => out.push(path),
                // A link to a file is read; a link to a folder is not followed.
                Ok(kind) if kind.is_symlink() && path.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    Ok(out)
}
