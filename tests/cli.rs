//! The command-line tool, run as a user would: `inspect --json` on the shared corpus and
//! `l3 --json` on the real series, checking the documented fields and values.

mod common;

use serde_json::Value;

fn run(args: &[&str]) -> Value {
    common::run_cli_json(env!("CARGO_BIN_EXE_sarcoscope"), args)
}

#[test]
fn inspect_json_uses_the_reference_field_names_and_values() {
    let Some(corpus) = common::shared_dir("data/dicom/pydicom") else {
        return;
    };
    let Some(expected) = common::shared_dir("data/dicom/expected.json") else {
        return;
    };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(expected).expect("expected.json")).expect("JSON");
    let ours = run(&["inspect", corpus.to_str().expect("path"), "--json"]);
    let files = ours["files"].as_array().expect("files");
    let find = |list: &[Value], name: &str| list.iter().find(|f| f["file"] == name).cloned();
    let reference = expected["files"].as_array().expect("files");
    for name in [
        "CT_small.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "JPGExtended.dcm",
    ] {
        let o = find(files, name).unwrap_or_else(|| panic!("{name} not reported"));
        let e = find(reference, &format!("pydicom/{name}")).expect("in expected.json");
        for field in ["parses", "transfer_syntax", "rows", "columns", "frames"] {
            assert_eq!(o[field], e[field], "{name}: {field}");
        }
        assert_eq!(o["stored"]["shape"], e["stored"]["shape"], "{name}");
        if e["lossy"] == false {
            assert_eq!(
                o["stored"]["sha256_i32le"], e["stored"]["sha256_i32le"],
                "{name}"
            );
        }
    }
    let truncated = find(files, "MR_truncated.dcm").expect("reported");
    assert!(truncated["error"]
        .as_str()
        .is_some_and(|e| e.contains("cut short")));
    assert!(ours["studies"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn a_decoder_panic_is_reported_in_the_files_error_not_on_standard_error() {
    // One byte of the RLE header's second segment offset panics dicom-rs's RLE decoder
    // (a dependency bug, as in the viewer e2e): the file's error names where it failed,
    // and standard error, which carries the other files' reports, stays clean.
    let Some(rle) = common::shared_dir(
        "data/dicom/cornerstone3d/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm",
    ) else {
        return;
    };
    let mut bytes = common::read(&rle);
    bytes[7065] ^= 0xff;
    let dir = std::env::temp_dir().join(format!("sarcoscope-quiet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("folder");
    std::fs::write(dir.join("broken-rle.dcm"), &bytes).expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
        .args(["inspect", dir.to_str().expect("path"), "--json"])
        .output()
        .expect("the sarcoscope binary runs");
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let error = report["files"][0]["error"].as_str().expect("an error");
    assert!(
        error.starts_with("the decoder failed unexpectedly on this file (")
            && error.contains(".rs:"),
        "{error}"
    );
}

#[test]
fn l3_json_has_the_documented_fields_and_finds_l3() {
    let Some(series) = common::shared_dir("data/ct/totalseg-example/series-dicom") else {
        return;
    };
    let found = run(&["l3", series.to_str().expect("path"), "--json"]);
    let slice = found["slice_index"].as_u64().expect("slice_index");
    assert!(
        (73..=74).contains(&slice),
        "L3 at slice {slice}; reference centroid 73.5"
    );
    assert_eq!(found["status"], "found");
    assert!(found["z_mm"].is_number() && found["confidence"].is_number());
    let names: Vec<&str> = found["vertebrae"]
        .as_array()
        .expect("vertebrae")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for name in ["L1", "L2", "L3", "L4", "L5"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for v in found["vertebrae"].as_array().expect("vertebrae") {
        for field in ["slice_first", "slice_last", "z_mm_centre"] {
            assert!(v[field].is_number(), "{field} in {v}");
        }
    }
    assert!(found["evidence"]["sacrum_seen"].is_boolean());
}

#[test]
fn a_slice_beyond_any_series_is_refused_in_words_not_a_panic() {
    // Mutation testing found `--slice 18446744073709551615` overflowing in Volume::axial.
    let dir = std::env::temp_dir().join(format!("sarcoscope-slice-{}", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_sarcoscope");
    let made = std::process::Command::new(bin)
        .args(["phantom", dir.to_str().expect("path"), "--slices", "8"])
        .output()
        .expect("phantom");
    assert!(made.status.success());
    for slice in ["8", "18446744073709551615"] {
        let out = std::process::Command::new(bin)
            .args([
                "segment",
                dir.to_str().expect("path"),
                "--slice",
                slice,
                "--device",
                "cpu",
            ])
            .output()
            .expect("segment");
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "slice {slice}");
        assert!(!error.contains("panicked"), "{error}");
        assert!(error.contains(&format!("slice {slice}")), "{error}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
