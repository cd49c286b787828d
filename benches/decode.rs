//! Decode throughput, natively (std only, no benchmark framework). Run with
//! `cargo bench --bench decode` (scripts/bench runs it with the browser and pydicom
//! comparisons). Every file is read into memory first, so only parsing and decoding are
//! timed. Each measurement repeats for at least `MIN_RUNS` runs and until its time
//! budget is spent (`SARCOSCOPE_BENCH_SECONDS`, default 2 s); the best run is reported.
//!
//! (a) The real 112-slice CT series: header reading, series building, full volume
//!     decode, and the three together.
//! (b) The shared DICOM corpus (`data/dicom/expected.json` lists it): every file whose
//!     pixels we decode, grouped by transfer syntax, through `inspect_bytes` (full decode
//!     plus the per-file statistics and SHA-256 that `sarcoscope inspect` reports).
//!
//! Shared data is found at `../shared` beside the crate, or `$SARCOSCOPE_SHARED`; when
//! it is missing the bench says so and measures nothing. Nothing here fails on timing.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sarcoscope::dicom::{self, pixels, series, syntax, Instance};
use sarcoscope::inspect::inspect_bytes;
use sarcoscope::volume;
use serde_json::Value;

const MIN_RUNS: usize = 5;
const MAX_RUNS: usize = 10_000;
const SERIES_DIR: &str = "data/ct/totalseg-example/series-dicom";
const CORPUS_DIR: &str = "data/dicom";

fn main() {
    // `cargo bench` passes `--bench` (and any filter); this bench takes no options.
    let shared = shared_root();
    let budget = budget();
    println!("# Native decode throughput (cargo bench --bench decode)");
    println!();
    println!("machine: {}", machine());
    println!(
        "each row: best of at least {MIN_RUNS} runs within {:.1} s; MB = 10^6 bytes of input files",
        budget.as_secs_f64()
    );

    match existing(&shared, SERIES_DIR) {
        Some(dir) => {
            let rows = series_rows(&dir, budget);
            print_table("112-slice CT series, all in memory", "slices/s", &rows);
        }
        None => println!(
            "SKIPPED: the 112-slice series is not at {}",
            shared.join(SERIES_DIR).display()
        ),
    }
    match existing(&shared, CORPUS_DIR) {
        Some(dir) => {
            let groups = corpus_groups(&dir);
            let rows = corpus_rows(&groups, budget, |f| {
                black_box(inspect_bytes(&f.name, &f.bytes));
            });
            let title = "corpus by transfer syntax: inspect_bytes (decode + statistics + SHA-256)";
            print_table(title, "frames/s", &rows);
            let rows = corpus_rows(&groups, budget, |f| {
                black_box(decode_to_hu(&f.bytes));
            });
            let title = "corpus by transfer syntax: decode + rescale to HU (as pydicom's pixel_array + modality LUT)";
            print_table(title, "frames/s", &rows);
        }
        None => println!(
            "SKIPPED: the DICOM corpus is not at {}",
            shared.join(CORPUS_DIR).display()
        ),
    }
    if let Some(peak) = peak_rss_mb() {
        println!();
        println!("peak resident memory of the bench process: {peak:.0} MB");
    }
}

/// One line of the table. `mb` is `None` where input bytes mean nothing (series build).
struct Row {
    what: String,
    files: usize,
    mb: Option<f64>,
    frames: usize,
    timing: Timing,
}

struct Timing {
    best: Duration,
    runs: usize,
}

/// Runs `f` at least `MIN_RUNS` times and until `budget` is spent; keeps the best run.
fn measure<T>(budget: Duration, mut f: impl FnMut() -> T) -> Timing {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut runs = 0;
    while runs < MIN_RUNS || (start.elapsed() < budget && runs < MAX_RUNS) {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed());
        runs += 1;
    }
    Timing { best, runs }
}

fn series_rows(dir: &Path, budget: Duration) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    paths.sort();
    let bytes: Vec<Vec<u8>> = paths.iter().map(|p| read(p)).collect();
    let files = bytes.len();
    let mb = megabytes(bytes.iter().map(Vec::len).sum());

    let headers = || -> Vec<Instance> {
        let files = bytes.iter().zip(&paths);
        files.map(|(b, p)| header(b, p)).collect()
    };
    let instances = headers();
    let build = |instances: &[Instance]| {
        let studies = series::build(instances);
        let found = series::choose_ct(&studies, instances);
        let (study, chosen) = found.expect("the series holds a CT stack");
        studies[study].series[chosen].clone()
    };
    let chosen = build(&instances);
    let slices = chosen.slices.len();
    let decode = |chosen: &series::Series, instances: &[Instance]| {
        let loaded = volume::load(chosen, instances, |i| Ok(bytes[i].clone()), |_, _| {});
        let (volume, failures) = loaded.expect("the series has an image stack");
        assert!(failures.is_empty(), "files failed to decode: {failures:?}");
        volume
    };

    rows.push(Row {
        what: "series: headers (dicom::read_instance)".into(),
        files,
        mb: Some(mb),
        frames: slices,
        timing: measure(budget, headers),
    });
    rows.push(Row {
        what: "series: build (series::build + choose_ct)".into(),
        files,
        mb: None,
        frames: slices,
        timing: measure(budget, || build(&instances)),
    });
    rows.push(Row {
        what: "series: volume decode (volume::load)".into(),
        files,
        mb: Some(mb),
        frames: slices,
        timing: measure(budget, || decode(&chosen, &instances)),
    });
    rows.push(Row {
        what: "series: all three".into(),
        files,
        mb: Some(mb),
        frames: slices,
        timing: measure(budget, || {
            let instances = headers();
            let chosen = build(&instances);
            decode(&chosen, &instances)
        }),
    });
    rows
}

fn header(bytes: &[u8], path: &Path) -> Instance {
    dicom::read_instance(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A transfer syntax UID and its files.
type Group = (String, Vec<CorpusFile>);

/// A corpus file whose pixels we decode.
struct CorpusFile {
    name: String,
    bytes: Vec<u8>,
    frames: usize,
}

/// Every corpus file whose pixels we decode, grouped by transfer syntax UID (sorted).
/// The files without decodable pixels are listed, not timed.
fn corpus_groups(dir: &Path) -> Vec<Group> {
    let listing = read(&dir.join("expected.json"));
    let listing: Value = serde_json::from_slice(&listing).expect("expected.json is JSON");
    let names: Vec<&str> = listing["files"]
        .as_array()
        .expect("expected.json has a files list")
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();

    let mut groups: Vec<Group> = Vec::new();
    let mut undecoded = Vec::new();
    for name in names {
        let path = dir.join(name);
        if !path.is_file() {
            undecoded.push(format!("{name} (missing)"));
            continue;
        }
        let bytes = read(&path);
        let (report, _) = inspect_bytes(name, &bytes);
        let (Some(uid), Some(_)) = (report.transfer_syntax, report.stored) else {
            undecoded.push(name.to_owned());
            continue;
        };
        let file = CorpusFile {
            name: name.to_owned(),
            bytes,
            frames: report.frames.unwrap_or(1) as usize,
        };
        match groups.iter_mut().find(|(u, _)| *u == uid) {
            Some((_, files)) => files.push(file),
            None => groups.push((uid, vec![file])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let timed: usize = groups.iter().map(|(_, files)| files.len()).sum();
    println!();
    println!(
        "corpus: {timed} files with decodable pixels are timed; {} are not (no pixels, or we refuse them): {}",
        undecoded.len(),
        compact(&undecoded)
    );
    groups
}

/// One row per transfer syntax (each timed as all its files in a row), and their sum.
fn corpus_rows(groups: &[Group], budget: Duration, run: impl Fn(&CorpusFile)) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut sum_of_best = Duration::ZERO;
    for (uid, files) in groups {
        let timing = measure(budget, || files.iter().for_each(&run));
        sum_of_best += timing.best;
        rows.push(Row {
            what: format!("{} ({uid})", syntax::info(uid).name),
            files: files.len(),
            mb: Some(megabytes(files.iter().map(|f| f.bytes.len()).sum())),
            frames: files.iter().map(|f| f.frames).sum(),
            timing,
        });
    }
    let all: Vec<&CorpusFile> = groups.iter().flat_map(|(_, files)| files).collect();
    rows.push(Row {
        what: "all of the above (sum of the best runs)".into(),
        files: all.len(),
        mb: Some(megabytes(all.iter().map(|f| f.bytes.len()).sum())),
        frames: all.iter().map(|f| f.frames).sum(),
        timing: Timing {
            best: sum_of_best,
            runs: 0,
        },
    });
    rows
}

/// What pydicom's `dcmread` + `pixel_array` + `apply_modality_lut` do: parse the file,
/// decode every frame, and map stored values to rescaled values (f64, as pydicom).
fn decode_to_hu(bytes: &[u8]) -> Vec<f64> {
    let parsed = dicom::open(bytes).expect("decoded once already");
    let inst = Instance::from_parsed(&parsed, true);
    let stored = pixels::decode_stored(&parsed, &inst).expect("decoded once already");
    let mut out = Vec::with_capacity(stored.values.len());
    for frame in 0..stored.frames {
        let rescale = inst.rescale_for(frame);
        let values = stored.frame(frame).unwrap_or_default();
        out.extend(values.iter().map(|&v| rescale.apply(v).0));
    }
    out
}

fn folder(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(f, _)| f)
}

/// File names, with folders of many listed files shortened to `folder/* (N files)`.
fn compact(names: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        let f = folder(name);
        let count = names.iter().filter(|n| folder(n) == f).count();
        if count <= 10 {
            out.push(name.clone());
        } else if !seen.contains(&f) {
            out.push(format!("{f}/* ({count} files)"));
            seen.push(f);
        }
    }
    out.join(", ")
}

fn print_table(title: &str, per_second: &str, rows: &[Row]) {
    let header = ["what", "files", "MB", "seconds", "MB/s", per_second, "runs"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let seconds = r.timing.best.as_secs_f64();
            [
                r.what.clone(),
                r.files.to_string(),
                r.mb.map_or("-".into(), |mb| format!("{mb:.3}")),
                significant(seconds),
                r.mb.map_or("-".into(), |mb| significant(mb / seconds)),
                significant(r.frames as f64 / seconds),
                Some(r.timing.runs)
                    .filter(|&n| n > 0)
                    .map_or("-".into(), |n| n.to_string()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| pad(i == 0, cell, width))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    println!();
    println!("## {title}");
    println!();
    line(&header.map(String::from));
    // Markdown: the first column left-aligned, the numbers right-aligned.
    let mut rule: Vec<String> = widths.iter().copied().map(right_rule).collect();
    rule[0] = "-".repeat(widths[0] + 2);
    println!("|{}|", rule.join("|"));
    for row in &cells {
        line(row);
    }
}

fn right_rule(width: usize) -> String {
    format!("{}:", "-".repeat(width + 1))
}

/// The first column is aligned left, the numbers right.
fn pad(left: bool, cell: &str, width: usize) -> String {
    if left {
        format!("{cell:<width$}")
    } else {
        format!("{cell:>width$}")
    }
}

/// Three significant digits, without an exponent.
fn significant(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let decimals = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

fn megabytes(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn budget() -> Duration {
    let seconds = std::env::var("SARCOSCOPE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(2.0);
    Duration::from_secs_f64(seconds)
}

/// The folder of shared data: `$SARCOSCOPE_SHARED`, else `../shared` beside the crate
/// (cargo runs a benchmark in its crate's folder; a compiled-in folder would outlive a
/// move of the checkout).
fn shared_root() -> PathBuf {
    match std::env::var_os("SARCOSCOPE_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("../shared"),
    }
}

fn existing(shared: &Path, relative: &str) -> Option<PathBuf> {
    let path = shared.join(relative);
    path.is_dir().then_some(path)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// CPU model and the number of CPUs this process may use.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{model}, {cpus} CPU(s) (nproc); {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The process's peak resident set size (VmHWM), on Linux.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}
