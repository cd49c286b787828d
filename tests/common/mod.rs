//! Helpers shared by the integration tests: where the shared data lives, and a small
//! deterministic random number generator (no test dependency needed).
//!
//! The data sets are not part of the repository. A test that needs one prints
//! `SKIPPED: …` and passes when it is missing, unless `SARCOSCOPE_REQUIRE_DATA=1`, which
//! turns a missing data set into a failure (for CI machines that have it).

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod nifti;

use std::path::{Path, PathBuf};

use sarcoscope::dicom::{self, Instance};

/// The repository's top folder. These tests belong to several crates of the workspace
/// (the core at the top, the command line under `src/bin`), so it is found from the
/// crate's folder upwards rather than taken to be it. The folder is the one the test runs
/// in (cargo runs a test in its crate's folder), not `env!("CARGO_MANIFEST_DIR")`: cargo
/// does not rebuild a test when its checkout moves, so a compiled-in folder can name
/// another checkout that shared the target directory, or none.
pub fn repository() -> PathBuf {
    let here = std::env::current_dir().expect("the tests' working folder");
    here.ancestors()
        .find(|dir| dir.join("Trunk.toml").is_file())
        .expect("the tests run inside the repository")
        .to_path_buf()
}

/// The folder of shared data: `$SARCOSCOPE_SHARED`, else `../shared` beside the
/// repository.
pub fn shared_root() -> PathBuf {
    match std::env::var_os("SARCOSCOPE_SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repository().join("..").join("shared"),
    }
}

/// `relative` under the shared data folder, or `None` (after saying so) when it is
/// missing. With `SARCOSCOPE_REQUIRE_DATA=1` a missing data set panics instead.
pub fn shared_dir(relative: &str) -> Option<PathBuf> {
    let path = shared_root().join(relative);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("SARCOSCOPE_REQUIRE_DATA").is_ok_and(|v| v == "1") {
        panic!(
            "required test data {relative} not found at {} (SARCOSCOPE_REQUIRE_DATA=1; \
             set SARCOSCOPE_SHARED to the shared data folder)",
            path.display()
        );
    }
    say(&format!(
        "SKIPPED: {relative} not found at {}",
        path.display()
    ));
    None
}

/// Prints a line that shows even when the test harness captures output (it captures
/// `print!` and `eprint!`, not direct writes to standard error).
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The real CT series: 112 axial slices, `slice0000.dcm` (most inferior) to `slice0111.dcm`.
pub const SERIES_DIR: &str = "data/ct/totalseg-example/series-dicom";
pub const SERIES_SLICES: usize = 112;

/// The path of slice `k` of the real series.
pub fn slice_path(dir: &Path, k: usize) -> PathBuf {
    dir.join(format!("slice{k:04}.dcm"))
}

/// Reads the header of one file as ingest does (whole file parsed, pixels not decoded).
pub fn instance_of(bytes: &[u8]) -> Instance {
    dicom::read_instance(bytes).unwrap_or_else(|e| panic!("cannot open: {e}"))
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants): deterministic,
/// good enough to shuffle and to make noise.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed)
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u64::from(self.next_u32()) * n as u64) >> 32) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u32() as u8).collect()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Whether an error message reads as plain language rather than leaked debug output.
pub fn plain_language_problem(message: &str) -> Option<&'static str> {
    if message.trim().is_empty() {
        return Some("is empty");
    }
    for (pattern, what) in [
        ("Some(", "contains Debug formatting `Some(`"),
        ("None", "contains Debug formatting `None`"),
        ("Ok(", "contains Debug formatting `Ok(`"),
        ("Err(", "contains Debug formatting `Err(`"),
        ("{", "contains `{`"),
        ("}", "contains `}`"),
        ("Backtrace", "contains a backtrace"),
        ("panicked", "contains a panic message"),
        ("\n", "spans several lines"),
    ] {
        if message.contains(pattern) {
            return Some(what);
        }
    }
    None
}

/// Runs the `sarcoscope` command line and returns the JSON it printed, failing the test
/// with its error output when it does not succeed.
pub fn run_cli_json(binary: &str, args: &[&str]) -> serde_json::Value {
    let output = std::process::Command::new(binary)
        .args(args)
        .output()
        .expect("the sarcoscope binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// Runs `tests/{script}` with the Python that scripts/bootstrap installs pydicom and numpy
/// into (`SARCOSCOPE_PYTHON`; the first `python3` on PATH is never assumed to have them)
/// and returns the JSON it printed; `None`, after saying so, when that Python is not set
/// (a failure under `SARCOSCOPE_REQUIRE_DATA=1`).
pub fn python_json(script: &str, args: &[&std::ffi::OsStr]) -> Option<serde_json::Value> {
    let required = std::env::var("SARCOSCOPE_REQUIRE_DATA").as_deref() == Ok("1");
    let Ok(python) = std::env::var("SARCOSCOPE_PYTHON") else {
        assert!(
            !required,
            "SARCOSCOPE_PYTHON is not set: run the tests through scripts/test, which installs pydicom and numpy into its own Python"
        );
        say("SKIPPED: SARCOSCOPE_PYTHON not set (scripts/test sets it)");
        return None;
    };
    let out = std::process::Command::new(&python)
        .arg(repository().join("tests").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{python} could not be started: {e}"));
    assert!(
        out.status.success(),
        "{script} ({python}) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON from the script"))
}

/// `original` (explicit VR little endian) with a private sequence nested `depth` levels
/// deep inserted before group 0009's place, of undefined lengths (with delimiters) or of
/// defined lengths (each sequence and item as long as what it holds).
pub fn nested_sequences(original: &[u8], depth: usize, defined: bool) -> Vec<u8> {
    let first = 144 + u32::from_le_bytes(original[140..144].try_into().expect("4 bytes")) as usize;
    // The first element after group 0008, in tag order.
    let mut at = first;
    while original[at..at + 2] == [8, 0] {
        let vr = &original[at + 4..at + 6];
        let long = [&b"OB"[..], b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR"].contains(&vr);
        at += if long {
            12 + u32::from_le_bytes(original[at + 8..at + 12].try_into().expect("4 bytes")) as usize
        } else {
            8 + u16::from_le_bytes(original[at + 6..at + 8].try_into().expect("2 bytes")) as usize
        };
    }
    // Level k counted from the innermost: its item holds 20·k bytes (the sequences and
    // items inside it), its sequence 8 more (its item's header).
    let (mut opening, mut closing) = (Vec::new(), Vec::new());
    for k in (0..depth).rev() {
        let item = 20 * k as u32;
        let length = |n: u32| if defined { n } else { u32::MAX };
        opening.extend([0x09, 0x00, 0x01, 0x10, b'S', b'Q', 0, 0]);
        opening.extend(length(item + 8).to_le_bytes());
        opening.extend([0xFE, 0xFF, 0x00, 0xE0]);
        opening.extend(length(item).to_le_bytes());
        if !defined {
            // Item end, then sequence end.
            closing.extend([0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
            closing.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        }
    }
    let inner = [opening, closing].concat();
    let creator = [
        0x09, 0x00, 0x10, 0x00, b'L', b'O', 4, 0, b'D', b'E', b'E', b'P',
    ];
    [&original[..at], &creator[..], &inner, &original[at..]].concat()
}
