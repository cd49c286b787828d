//! The mask as DICOM SEG, read back by an independent reader (pydicom): per-tissue pixel
//! counts must equal the command line's, the grid the slice's, and the default export
//! must carry no reference to the patient's study; `--identified` must reference it.

mod common;

use serde_json::Value;

fn read_with_pydicom(path: &std::path::Path) -> Option<Value> {
    common::python_json("read_seg.py", &[path.as_os_str()])
}

#[test]
fn the_seg_reads_back_in_pydicom_with_the_same_pixels() {
    let Some(dir) = common::shared_dir("data/ct/totalseg-example/series-dicom") else {
        return;
    };
    let tmp = std::env::temp_dir().join(format!("sarcoscope-seg-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let plain = tmp.join("plain.dcm");
    let identified = tmp.join("identified.dcm");
    let folder = dir.to_str().expect("path");
    let segment = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["segment", folder, "--json", "--device", "cpu", "--seg-out"];
        args.push(out.to_str().expect("path"));
        args.extend(extra);
        common::run_cli_json(env!("CARGO_BIN_EXE_sarcoscope"), &args)
    };
    let report = segment(&plain, &[]);
    segment(&identified, &["--identified"]);
    let Some(seg) = read_with_pydicom(&plain) else {
        return;
    };
    assert_eq!(seg["sop_class"], "1.2.840.10008.5.1.4.1.1.66.4");
    assert_eq!(seg["modality"], "SEG");
    assert_eq!(seg["segmentation_type"], "BINARY");
    assert_eq!(seg["frames"], 4);
    assert_eq!(seg["overlap"], 0, "a pixel in two tissues");
    let tissues = report["tissues"].as_array().expect("tissues");
    for (i, t) in tissues.iter().enumerate() {
        assert_eq!(
            seg["pixels"][i],
            t["pixels"],
            "segment {} pixel count",
            i + 1
        );
    }
    assert_eq!(
        seg["labels"],
        serde_json::json!([
            "skeletal muscle",
            "intermuscular fat (IMAT)",
            "visceral fat (VAT)",
            "subcutaneous fat (SAT)"
        ])
    );
    assert_eq!(seg["algorithm"][0], "AUTOMATIC");
    assert_eq!(seg["pixel_spacing"], report["pixel_spacing_mm"]);
    // De-identified: no patient fields, no reference, a study UID of its own.
    assert_eq!(seg["patient_name"], "");
    assert_eq!(seg["patient_id"], "");
    assert_eq!(seg["referenced_series"], serde_json::json!([]));
    let source = common::instance_of(&common::read(&common::slice_path(&dir, 0)));
    assert_ne!(seg["study_uid"], source.study_uid.as_str());
    let Some(linked) = read_with_pydicom(&identified) else {
        return;
    };
    assert_eq!(linked["study_uid"], source.study_uid.as_str());
    assert_eq!(
        linked["referenced_series"],
        serde_json::json!([source.series_uid])
    );
    assert_eq!(linked["pixels"], seg["pixels"]);
    let _ = std::fs::remove_dir_all(&tmp);
}
