//! `sarcoscope batch` on an archive of mixed studies: phantoms (a whole series, a slab,
//! a single slice), the real example CT, an MR study and a folder without DICOM. Each
//! study is one row — measured with the single-patient command's figures, or failed
//! with a plain reason — the table carries no identifier, and a resumed run measures
//! only what the key table does not list.

mod common;

use std::path::{Path, PathBuf};

use common::{run_cli_json, shared_dir};

const SARCOSCOPE: &str = env!("CARGO_BIN_EXE_sarcoscope");

fn run(args: &[&str]) -> serde_json::Value {
    run_cli_json(SARCOSCOPE, args)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The cohort table as (column → value) rows.
fn table(file: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(file).expect("cohort table");
    let rows = sarcoscope::csv::parse(&text).expect("CSV");
    let (header, rows) = rows.split_first().expect("a header");
    rows.iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "every row has every column");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

fn phantom(root: &Path, folder: &str, seed: &str, slices: &str) {
    let status = std::process::Command::new(SARCOSCOPE)
        .args([
            "phantom",
            path(&root.join(folder)),
            "--seed",
            seed,
            "--slices",
            slices,
        ])
        .output()
        .expect("phantom");
    assert!(status.status.success());
}

#[test]
fn an_archive_is_measured_study_by_study_and_a_resumed_run_adds_only_new_studies() {
    let (Some(ct), Some(mr)) = (
        shared_dir(common::SERIES_DIR),
        shared_dir("data/dicom/pydicom/MR_small.dcm"),
    ) else {
        return;
    };
    let root = std::env::temp_dir().join(format!("sarcoscope-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("root");
    phantom(&root, "p01", "1", "64");
    phantom(&root, "p02/study/ct", "2", "48");
    phantom(&root, "single", "3", "1");
    let real = root.join("real");
    std::fs::create_dir_all(&real).expect("folder");
    for entry in std::fs::read_dir(&ct).expect("CT").flatten() {
        std::fs::copy(entry.path(), real.join(entry.file_name())).expect("copy");
    }
    std::fs::create_dir_all(root.join("mr")).expect("folder");
    std::fs::copy(&mr, root.join("mr/MR_small.dcm")).expect("copy");
    std::fs::create_dir_all(root.join("notes")).expect("folder");
    std::fs::write(root.join("notes/readme.txt"), "not an image").expect("write");

    // The table, the key table and the masks inside the archive, as a user may put
    // them: none of them is taken for a study.
    let out = root.join("cohort.csv");
    let keys = root.join("keys.csv");
    let masks = root.join("masks");
    let args = |resume: bool| {
        let mut a = vec![
            "batch",
            path(&root),
            "--out",
            path(&out),
            "--keys",
            path(&keys),
        ];
        a.extend(["--seg-dir", path(&masks), "--device", "cpu", "--json"]);
        // A centre's own case codes.
        a.extend(["--code-prefix", "C1-"]);
        if resume {
            a.push("--resume");
        }
        a
    };
    // Two workers the first time.
    let mut first = args(false);
    first.extend(["--jobs", "2"]);
    let summary = run(&first);
    assert_eq!(summary["studies"], 6);
    assert_eq!(
        (summary["measured"].as_u64(), summary["failed"].as_u64()),
        (Some(4), Some(2))
    );
    let rows = table(&out);
    let by_folder = |folder: &str| {
        rows.iter()
            .find(|r| r["source_folder"] == folder)
            .unwrap_or_else(|| panic!("a row for {folder}"))
    };
    for (folder, l3) in [("p01", "found"), ("single", "given"), ("real", "found")] {
        let row = by_folder(folder);
        assert_eq!(
            (row["status"].as_str(), row["l3_status"].as_str()),
            ("measured", l3),
            "{folder}"
        );
    }
    assert_eq!(by_folder("p02/study/ct")["status"], "measured");
    assert_eq!(by_folder("single")["level_method"], "given");
    assert_eq!(
        by_folder("mr")["reason"],
        "no CT image series in this study (it holds MR)"
    );
    assert_eq!(
        by_folder("notes")["reason"],
        "no DICOM file in this folder could be read"
    );
    assert_eq!(by_folder("notes")["smi_cutoffs"], "carey2017");
    // The same slice and mask as the single-patient command.
    for folder in ["p01", "real"] {
        let one = run(&[
            "segment",
            path(&root.join(folder)),
            "--device",
            "cpu",
            "--json",
        ]);
        let row = by_folder(folder);
        assert_eq!(
            row["level_slice"],
            one["slice_index"].to_string(),
            "{folder}"
        );
        let muscle = one["tissues"][0]["area_cm2"].as_f64().expect("area");
        assert_eq!(row["sma_cm2"], format!("{muscle:.2}"), "{folder}");
    }
    // Each measured study's mask, as DICOM SEG and PNG under its case code.
    for row in rows.iter().filter(|r| r["status"] == "measured") {
        for ext in ["seg.dcm", "png"] {
            let file = masks.join(format!("{}.{ext}", row["case"]));
            assert!(file.is_file(), "{}", file.display());
        }
    }
    // De-identified: no UID, no date, no name from the headers in the cohort table.
    let text = std::fs::read_to_string(&out).expect("table");
    let key_rows =
        sarcoscope::csv::parse(&std::fs::read_to_string(&keys).expect("keys")).expect("CSV");
    assert_eq!(
        key_rows[0],
        [
            "case",
            "study_uid",
            "study_date",
            "source_folder",
            "patient_id"
        ]
    );
    assert!(
        key_rows[1..].iter().any(|k| !k[4].is_empty()),
        "the phantoms' PatientIDs are in the key table"
    );
    for key in &key_rows[1..] {
        for identifier in [&key[1], &key[2], &key[4]]
            .into_iter()
            .filter(|v| !v.is_empty())
        {
            assert!(
                !text.contains(identifier.as_str()),
                "{identifier} is in the cohort table"
            );
        }
    }

    // Resumed: nothing new, nothing measured twice; a new study gets the next code.
    let again = run(&args(true));
    assert_eq!(
        (
            again["skipped"].as_u64(),
            again["measured"].as_u64(),
            again["failed"].as_u64()
        ),
        (Some(6), Some(0), Some(0))
    );
    phantom(&root, "p03", "4", "64");
    let more = run(&args(true));
    assert_eq!(
        (more["skipped"].as_u64(), more["measured"].as_u64()),
        (Some(6), Some(1))
    );
    let rows = table(&out);
    assert_eq!(rows.len(), 7);
    let mut cases: Vec<&str> = rows.iter().map(|r| r["case"].as_str()).collect();
    cases.sort_unstable();
    cases.dedup();
    assert_eq!(cases.len(), 7, "no case code twice");
    assert_eq!(rows[6]["case"], "C1-0007");
    assert_eq!(rows[6]["source_folder"], "p03");
    // Resumed under another prefix, codes could repeat: refused, in words.
    let mut other = args(true);
    other.retain(|a| *a != "C1-" && *a != "--code-prefix");
    let refused = std::process::Command::new(SARCOSCOPE)
        .args(&other)
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("case C1-0"), "{error}");
    assert!(error.contains("--code-prefix it was made with"), "{error}");
    assert_eq!(table(&out).len(), 7, "the table is left as it was");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn a_root_that_cannot_be_read_is_refused_in_words() {
    let missing: PathBuf = std::env::temp_dir().join("sarcoscope-no-such-archive");
    let out = std::env::temp_dir().join(format!("sarcoscope-batch-out-{}.csv", std::process::id()));
    let output = std::process::Command::new(SARCOSCOPE)
        .args([
            "batch",
            path(&missing),
            "--out",
            path(&out),
            "--device",
            "cpu",
        ])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("cannot read"), "{error}");
}

/// One study aborts the worker process measuring it (injected: debug builds abort on the study
/// in `SARCOSCOPE_TEST_ABORT_IN`, as a file overflowing a decoder's stack would), and a
/// file nesting sequences 50,000 deep (which overflowed the stack of the whole run)
/// lies in another: the run goes on, the aborted study is a failed row saying so, and
/// every other row is what a run without either gives.
#[test]
fn a_study_that_aborts_the_program_costs_its_row_not_the_run() {
    let root = std::env::temp_dir().join(format!("sarcoscope-abort-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("root");
    for (folder, seed) in [("a", "1"), ("b", "5"), ("c", "6")] {
        phantom(&root.join("archive"), folder, seed, "40");
    }
    let archive = root.join("archive");
    let out = |name: &str| root.join(format!("{name}.csv"));
    let batch = |table: &Path, abort_in: Option<&str>, jobs: &str| {
        let mut command = std::process::Command::new(SARCOSCOPE);
        command.args(["batch", path(&archive), "--out", path(table)]);
        command.args(["--device", "cpu", "--json", "--jobs", jobs]);
        if let Some(folder) = abort_in {
            command.env("SARCOSCOPE_TEST_ABORT_IN", folder);
        }
        let output = command.output().expect("batch");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        (
            summary,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (_, _) = batch(&out("clean"), None, "2");
    // A copy of one of c's slices with 50,000 nested sequences, beside its slices.
    let slice = std::fs::read_dir(archive.join("c"))
        .expect("c")
        .flatten()
        .map(|e| e.path())
        .min()
        .expect("a slice");
    let bytes = std::fs::read(&slice).expect("slice");
    std::fs::write(
        archive.join("c/nested.dcm"),
        common::nested_sequences(&bytes, 50_000, false),
    )
    .expect("write");
    // One worker: the study after the aborted one is measured by a worker started anew.
    let (summary, log) = batch(&out("faulty"), Some("b"), "1");
    assert_eq!(summary["studies"], 3);
    let without_seconds = |rows: Vec<std::collections::HashMap<String, String>>| {
        rows.into_iter()
            .map(|mut r| {
                r.remove("seconds");
                r
            })
            .collect::<Vec<_>>()
    };
    let clean = without_seconds(table(&out("clean")));
    let faulty = without_seconds(table(&out("faulty")));
    assert_eq!(faulty.len(), 3);
    let row = |rows: &[std::collections::HashMap<String, String>], folder: &str| {
        rows.iter()
            .find(|r| r["source_folder"] == folder)
            .cloned()
            .unwrap_or_else(|| panic!("a row for {folder}"))
    };
    for folder in ["a", "c"] {
        assert_eq!(row(&faulty, folder), row(&clean, folder), "{folder}");
    }
    assert_eq!(row(&faulty, "a")["status"], "measured");
    let aborted = row(&faulty, "b");
    assert_eq!(aborted["status"], "failed");
    assert!(
        aborted["reason"].starts_with("measuring this study stopped the program (it aborted)"),
        "{}",
        aborted["reason"]
    );
    assert_eq!(aborted["case"], row(&clean, "b")["case"]);
    // The damaged file is named where the run is watched, with its reason.
    assert!(
        log.contains("c/nested.dcm") && log.contains("nests sequences"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(root);
}

/// pydicom's DICOMDIR test media (real files: a DICOMDIR tree of CT headers whose pixel
/// data was stripped, MR and CR studies, a brain CT, DICOMDIR variants and a README at
/// the top): folders holding an index (beside a README) make no failed rows, the stripped CT says what it holds, and
/// the head CT measured as a given level carries the warning that no adult L3 holds so
/// little muscle.
#[test]
fn dicomdir_media_are_read_where_the_images_lie() {
    let Some(media) = shared_dir("data/dicom/pydicom/dicomdirtests") else {
        return;
    };
    let out = std::env::temp_dir().join(format!("sarcoscope-dicomdir-{}.csv", std::process::id()));
    run(&[
        "batch",
        path(&media),
        "--out",
        path(&out),
        "--device",
        "cpu",
        "--json",
    ]);
    let rows = table(&out);
    let folders: Vec<&str> = rows.iter().map(|r| r["source_folder"].as_str()).collect();
    assert!(
        !folders.contains(&""),
        "the top folder holds only DICOMDIRs: {folders:?}"
    );
    assert!(!folders.contains(&"TINY_ALPHA"), "{folders:?}");
    let tiny = rows
        .iter()
        .find(|r| r["source_folder"].starts_with("TINY_ALPHA/"))
        .expect("the DICOMDIR tree's study");
    assert_eq!(
        tiny["reason"],
        "no CT image series in this study (it holds CT files without an image)"
    );
    let head = rows
        .iter()
        .find(|r| r["series"] == "Routine Brain")
        .expect("the brain CT");
    assert_eq!(head["l3_status"], "given");
    assert!(
        head["qc_flags"].split(';').any(|f| f == "sma_plausibility"),
        "{}",
        head["qc_flags"]
    );
    let _ = std::fs::remove_file(out);
}
