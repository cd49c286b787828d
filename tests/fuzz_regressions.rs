//! What fuzzing found, replayed on every test run: each minimised input under
//! `tests/fuzz/findings/TARGET/` goes through the very target it was found with
//! (`tests/fuzz/targets.rs`, shared with `scripts/fuzz`) and must end without a panic,
//! an abort or an allocation the input cannot justify. The seeds that `scripts/fuzz`
//! writes are checked too: each must be a valid input of its reader, so that fuzzing
//! starts from inside every format.

#[path = "fuzz/targets.rs"]
#[allow(dead_code)] // `Target` is the fuzz binary's; each function is used here.
mod targets;

// `common::nifti` is also `targets::nifti_writer`: targets.rs includes that one file by
// path, as it builds in the fuzz crate too, where `common` is not.
#[allow(clippy::duplicate_mod)]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Counts the bytes held now and the most held since [`Counting::reset`], so that a
/// reader allocating gigabytes for a small file is caught as it happens.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests of this binary run one at a time, so that a peak is one reader's own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The most a reader may hold for an input of `len` bytes: images decode to a few
/// bytes per stored byte (JPEG to tens), and the model target builds a small network.
fn allowance(len: usize) -> usize {
    64 * len + 96 * 1024 * 1024
}

fn findings() -> Vec<(String, std::path::PathBuf)> {
    let root = common::repository().join("tests/fuzz/findings");
    let mut found = Vec::new();
    for target in targets::NAMES {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            found.push((target.to_string(), entry.path()));
        }
    }
    found.sort();
    found
}

#[test]
fn every_finding_ends_plainly_within_its_memory() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let found = findings();
    let mut problems = Vec::new();
    for (target, path) in &found {
        let bytes = std::fs::read(path).expect("a finding is readable");
        let run = targets::by_name(target).expect("a target of that name");
        let before = HELD.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        let used = PEAK.load(Ordering::Relaxed) - before;
        let name = path.display();
        if outcome.is_err() {
            problems.push(format!("{name}: panicked"));
        }
        if used > allowance(bytes.len()) {
            problems.push(format!(
                "{name}: held {} MB for {} bytes",
                used >> 20,
                bytes.len()
            ));
        }
    }
    println!("{} findings replayed", found.len());
    assert!(problems.is_empty(), "\n  {}", problems.join("\n  "));
}

#[test]
fn the_seeds_are_valid_inputs_of_their_readers() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use sarcoscope::agree::reference::{self, Format, Numbering};
    let dir = std::env::temp_dir().join(format!("sarcoscope-fuzz-seeds-{}", std::process::id()));
    targets::write_seeds(&dir).expect("seeds written");
    let read = |target: &str, name: &str| std::fs::read(dir.join(target).join(name)).expect(name);
    let numbering = Numbering::default();
    for (name, format) in [
        ("labels.png", Format::Png),
        ("labels.tag", Format::Tag),
        ("labels.nii", Format::Nifti),
        ("labels.seg.dcm", Format::Seg),
    ] {
        let masks = reference::read(format, &read("masks", name), &numbering)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mask = &masks[0].mask;
        assert_eq!((mask.columns, mask.rows), (8, 6), "{name}");
        let muscle = mask.labels().iter().filter(|&&l| l == 1).count();
        assert_eq!(muscle, 16, "{name}: the same labels in every format");
    }
    let stack = sarcoscope::nifti::read(&read("nifti", "labels.nii.gz")).expect("gzipped NIfTI");
    assert_eq!((stack.columns, stack.rows, stack.slices), (8, 6, 1));
    let weights = read("model", "weights");
    let card = targets::small_card(&weights).expect("card");
    card.load(&weights, &sarcoscope_network::Device::flex())
        .expect("the seed weights load into the small network");
    sarcoscope_network::model::ModelCard::parse(&read("model", "card.json")).expect("card seed");
    for name in ["cohort.csv", "semicolons.csv"] {
        let table = sarcoscope::survival::table::CohortTable::from_bytes(&read("tables", name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(table.rows() >= 2, "{name}");
    }
    let labs = String::from_utf8(read("tables", "labs.csv")).expect("text");
    let scored = sarcoscope::clinical::table::score_table(&labs, Default::default(), None)
        .expect("the labs seed scores");
    assert_eq!(
        (scored.rows, scored.errors.len()),
        (1, 0),
        "{:?}",
        scored.errors
    );
    for target in targets::NAMES {
        let run = targets::by_name(target).expect("target");
        for entry in std::fs::read_dir(dir.join(target))
            .into_iter()
            .flatten()
            .flatten()
        {
            run(&std::fs::read(entry.path()).expect("seed"));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
