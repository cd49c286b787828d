//! `sarcoscope agree` as a reader would use it: CT images and Slice-O-Matic `.tag` files
//! in two folders. The tags are written here from the documented layout (a text header
//! of `key: value` fields, a form feed, then rows × columns bytes, Alberta numbering),
//! from the phantoms' own truth labels, so the reference areas can be read independently;
//! a tag that does not match its header and one without its CT image must each be a
//! failed case with a reason while the others are compared. Sarcoscope's PNG label maps
//! and a NIfTI label map of a whole series (written here from the format's layout) are
//! compared the same way, the NIfTI's slices placed by their position along the body.
//! DICOM Segmentations written by pydicom (`tests/write_seg.py`, binary and fractional,
//! on the shared real CT) must give the areas pydicom's arrays hold, their segments
//! named by code, by label or by the user, and serve as `--auto` masks.

mod common;

use std::path::Path;
use std::process::Command;

use sarcoscope::phantom::{Phantom, PhantomParams};
use serde_json::Value;

/// The phantom labels 1–4 (muscle, IMAT, VAT, SAT) as Alberta tag numbers (1, 2, 5, 7).
fn alberta(label: u8) -> u8 {
    [0, 1, 2, 5, 7]
        .get(usize::from(label))
        .copied()
        .unwrap_or(0)
}

fn tag_file(columns: usize, rows: usize, spacing_mm: f64, pixels: &[u8]) -> Vec<u8> {
    let header = format!(
        "x: {columns} y: {rows} z: 1 type: BYTE org_x: 0.0 org_y: 0.0 org_z: 0.0\n\
         inc_x: {spacing_mm} inc_y: {spacing_mm} epais: 4.0\n\
         dir_h_x: 1 dir_h_y: 0 dir_h_z: 0 dir_v_x: 0 dir_v_y: 1 dir_v_z: 0\n"
    );
    let mut bytes = header.into_bytes();
    bytes.push(0x0C);
    bytes.extend_from_slice(pixels);
    bytes
}

#[test]
fn compares_readers_tags_with_the_automatic_masks() {
    let dir = std::env::temp_dir().join(format!("sarcoscope-agree-{}", std::process::id()));
    let (ct, tags) = (dir.join("ct"), dir.join("tags"));
    std::fs::create_dir_all(&ct).expect("ct folder");
    std::fs::create_dir_all(&tags).expect("tags folder");
    let mut reference_muscle_cm2 = Vec::new();
    let mut first = None;
    for seed in 1..=4u64 {
        let phantom = Phantom::generate(&PhantomParams {
            seed,
            muscle_scale: 0.8 + 0.1 * seed as f64,
            ..PhantomParams::default()
        });
        let l3 = phantom.l3_slice().expect("the phantom covers L3");
        let files = phantom.dicom_files().expect("DICOM");
        let name = format!("case{seed}.dcm");
        std::fs::write(ct.join(&name), &files[l3]).expect("CT image");
        let grid = phantom.grid();
        let labels: Vec<u8> = phantom
            .axial_labels(l3)
            .expect("labels")
            .iter()
            .map(|&l| alberta(l))
            .collect();
        let pixel_cm2 = grid.pixel_spacing.0 * grid.pixel_spacing.0 / 100.0;
        reference_muscle_cm2.push(labels.iter().filter(|&&n| n == 1).count() as f64 * pixel_cm2);
        std::fs::write(
            tags.join(format!("{name}.tag")),
            tag_file(grid.columns, grid.rows, grid.pixel_spacing.0, &labels),
        )
        .expect("tag");
        first.get_or_insert((grid.columns, grid.rows, labels));
    }
    // A tag cut short, and a tag whose CT image is not there.
    let whole = std::fs::read(tags.join("case1.dcm.tag")).expect("tag");
    std::fs::write(tags.join("case4.dcm.tag"), &whole[..whole.len() - 100]).expect("cut tag");
    std::fs::write(tags.join("missing.dcm.tag"), &whole).expect("orphan tag");
    // A tag of another pixel size than its image (traced on something else).
    std::fs::copy(ct.join("case1.dcm"), ct.join("other.dcm")).expect("copy");
    let (columns, rows, labels) = first.expect("case 1");
    std::fs::write(
        tags.join("other.dcm.tag"),
        tag_file(columns, rows, 0.9, &labels),
    )
    .expect("other tag");

    let report = agree(&ct, &tags);

    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(
        cases.len(),
        3 * 4,
        "three cases compared, four tissues each: {report}"
    );
    for (k, expected) in reference_muscle_cm2.iter().take(3).enumerate() {
        let case = format!("case{}.dcm.tag", k + 1);
        let row = |tissue: &str| {
            cases
                .iter()
                .find(|r| r["case"] == case.as_str() && r["tissue"] == tissue)
                .unwrap_or_else(|| panic!("no {tissue} row for {case}"))
        };
        let muscle = row("muscle");
        let area = muscle["area_ref_cm2"].as_f64().expect("reference area");
        assert!(
            (area - expected).abs() < 1e-9,
            "{case}: reference muscle {area} cm², truth {expected}"
        );
        let dice = muscle["dice"].as_f64().expect("Dice");
        assert!(dice > 0.85, "{case}: muscle Dice {dice} on a phantom");
        let hd95 = muscle["hd95_mm"].as_f64().expect("HD95");
        assert!((0.0..20.0).contains(&hd95), "{case}: HD95 {hd95} mm");
        for tissue in ["imat", "vat", "sat"] {
            let d = row(tissue)["jaccard"].as_f64().expect("Jaccard");
            assert!((0.0..=1.0).contains(&d));
        }
    }
    let sma = &report["sma"];
    assert_eq!(sma["cases"], 3);
    for key in [
        "bias",
        "loa_lower",
        "loa_upper",
        "icc_2_1",
        "icc_2_1_lower",
        "icc_2_1_upper",
        "ccc",
    ] {
        assert!(sma[key].is_f64(), "sma.{key}: {sma}");
    }
    assert!(sma["loa_lower"].as_f64() < sma["loa_upper"].as_f64());
    // The kappa, or why not (three cases may all get one call): never both, never neither.
    assert_ne!(
        report["sarcopenia_kappa"].is_null(),
        report["sarcopenia_kappa_unavailable"].is_null(),
        "{report}"
    );

    let failed = report["failed"].as_array().expect("failed");
    let reason = |case: &str| {
        failed
            .iter()
            .find(|f| f["case"] == case)
            .and_then(|f| f["reason"].as_str())
            .unwrap_or_else(|| panic!("{case} is not among the failed: {failed:?}"))
            .to_owned()
    };
    assert!(
        reason("case4.dcm.tag").contains("cut short"),
        "{}",
        reason("case4.dcm.tag")
    );
    assert!(
        reason("missing.dcm.tag").contains("no CT image named missing.dcm"),
        "{}",
        reason("missing.dcm.tag")
    );
    assert!(
        reason("other.dcm.tag").contains("traced on another image"),
        "{}",
        reason("other.dcm.tag")
    );
    assert_eq!(failed.len(), 3);

    // Too few cases for the aggregate: null, and the reason in words.
    let one = dir.join("one");
    std::fs::create_dir_all(&one).expect("folder");
    std::fs::copy(tags.join("case2.dcm.tag"), one.join("case2.dcm.tag")).expect("copy");
    let report = agree(&ct, &one);
    assert!(report["sma"].is_null());
    assert_eq!(
        report["sma_unavailable"],
        "3 cases with both measurements are needed, 1 given"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compares_png_and_nifti_label_maps() {
    let dir = std::env::temp_dir().join(format!("sarcoscope-agree-maps-{}", std::process::id()));
    let (ct, maps) = (dir.join("ct"), dir.join("maps"));
    std::fs::create_dir_all(&ct).expect("ct folder");
    std::fs::create_dir_all(&maps).expect("maps folder");
    let phantom = Phantom::generate(&PhantomParams::default());
    let l3 = phantom.l3_slice().expect("the phantom covers L3");
    for (k, bytes) in phantom.dicom_files().expect("DICOM").iter().enumerate() {
        std::fs::write(ct.join(format!("slice{k:04}.dcm")), bytes).expect("CT image");
    }
    let grid = phantom.grid();
    let mm = grid.pixel_spacing.0;
    let truth = |k: usize| phantom.axial_labels(k).expect("labels").to_vec();
    let muscle_cm2 = |labels: &[u8], muscle: u8| {
        labels.iter().filter(|&&l| l == muscle).count() as f64 * mm * mm / 100.0
    };
    // Sarcoscope's PNG of the slice below L3 (its four tissues; the phantom's other
    // structures are background), named after its CT image.
    let below: Vec<u8> = truth(l3 - 1)
        .iter()
        .map(|&l| if l <= 4 { l } else { 0 })
        .collect();
    std::fs::write(
        maps.join(format!("slice{:04}.png", l3 - 1)),
        sarcoscope::png::grey8(grid.columns, grid.rows, &below),
    )
    .expect("PNG");
    // A label map of the whole series, Alberta numbers, traced on L3 and two slices up.
    let positions = sarcoscope::ingest::folder::load_ct(&ct)
        .expect("the phantom series")
        .volume
        .header
        .slice_positions_mm;
    let traced = [l3, l3 + 2];
    let planes: Vec<Vec<u8>> = (0..grid.slices)
        .map(|k| match traced.contains(&k) {
            true => truth(k).iter().map(|&l| alberta(l)).collect(),
            false => vec![0; grid.columns * grid.rows],
        })
        .collect();
    let dz = grid.slice_spacing.0;
    let first = std::fs::read(ct.join("slice0000.dcm")).expect("first CT image");
    let instance = sarcoscope::dicom::read_instance(&first).expect("CT header");
    let [x, y, _] = instance.frame_geometry[0]
        .position
        .expect("ImagePositionPatient");
    let nifti = |origin: [f64; 2], z0: f64| {
        common::nifti::labels(grid.columns, grid.rows, mm, origin, z0, dz, &planes)
    };
    std::fs::write(maps.join("labels.nii"), nifti([x, y], positions[0])).expect("NIfTI");
    // A label map of another series: its slices lie above this one's.
    let above = positions[grid.slices - 1] + 100.0;
    std::fs::write(maps.join("elsewhere.nii"), nifti([x, y], above)).expect("NIfTI elsewhere");
    // One of this series cut from a field of view 10 mm to the side.
    std::fs::write(maps.join("shifted.nii"), nifti([x + 10.0, y], positions[0]))
        .expect("NIfTI shifted");

    let report = agree(&ct, &maps);

    let cases = report["cases"].as_array().expect("cases");
    let area = |case: &str| {
        cases
            .iter()
            .find(|r| r["case"] == case && r["tissue"] == "muscle")
            .and_then(|r| r["area_ref_cm2"].as_f64())
            .unwrap_or_else(|| panic!("no muscle row for {case}: {report}"))
    };
    let png = format!("slice{:04}.png", l3 - 1);
    assert!((area(&png) - muscle_cm2(&below, 1)).abs() < 1e-9);
    for k in traced {
        let expected = muscle_cm2(&truth(k), 1);
        let read = area(&format!("labels.nii slice {k}"));
        assert!(
            (read - expected).abs() < 1e-9,
            "slice {k}: {read} cm², truth {expected}"
        );
    }
    assert_eq!(
        cases.len(),
        3 * 4,
        "three slices, four tissues each: {report}"
    );
    assert_eq!(report["sma"]["cases"], 3);
    let failed = report["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 4, "{failed:?}");
    for f in failed {
        let reason = f["reason"].as_str().expect("reason");
        let case = f["case"].as_str().expect("case");
        if case.starts_with("elsewhere.nii slice ") {
            assert!(reason.starts_with("no CT slice at z = "), "{reason}");
        } else {
            assert!(case.starts_with("shifted.nii slice "), "{case}");
            assert!(reason.contains("it is shifted"), "{reason}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compares_dicom_segmentations_written_by_another_tool() {
    let Some(series) = common::shared_dir(common::SERIES_DIR) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("sarcoscope-agree-seg-{}", std::process::id()));
    let (ct, segs, auto) = (dir.join("ct"), dir.join("segs"), dir.join("auto"));
    for folder in [&ct, &segs, &auto] {
        std::fs::create_dir_all(folder).expect("folder");
    }
    for k in 39..=42 {
        let name = format!("slice{k:04}.dcm");
        std::fs::copy(series.join(&name), ct.join(&name)).expect("CT image");
    }
    let traced = [40, 41].map(|k| common::slice_path(&series, k).into_os_string());
    let mut args = vec![segs.as_os_str()];
    args.extend(traced.iter().map(|p| p.as_os_str()));
    let Some(written) = common::python_json("write_seg.py", &args) else {
        return;
    };
    // What pydicom wrote, plane by plane: (case, tissue) → cm².
    let mut expected = Vec::new();
    for (file, planes) in [
        ("binary.dcm", &written["binary"]),
        ("fractional.dcm", &written["fractional"]),
    ] {
        for (k, plane) in planes.as_array().expect("planes").iter().enumerate() {
            let mm2 = plane["pixel_mm2"].as_f64().expect("pixel size");
            for tissue in ["muscle", "imat", "vat", "sat"] {
                let pixels = plane["pixels"][tissue].as_f64().expect("pixels");
                expected.push((format!("{file} slice {k}"), tissue, pixels * mm2 / 100.0));
            }
        }
    }

    let report = agree_with(&ct, &segs, &["--segments", "Segment_2=imat,*=ignore"]);
    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), expected.len(), "{report}");
    for (case, tissue, cm2) in &expected {
        let row = cases
            .iter()
            .find(|r| r["case"] == case.as_str() && r["tissue"] == *tissue)
            .unwrap_or_else(|| panic!("no {tissue} row for {case}: {report}"));
        let read = row["area_ref_cm2"].as_f64().expect("area");
        assert!(
            (read - cm2).abs() < 1e-9,
            "{case} {tissue}: {read} cm², pydicom {cm2}"
        );
    }
    let failed = report["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["case"], "unknown.dcm");
    let reason = failed[0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("none of its segments is a tissue"),
        "{reason}"
    );

    // Without the user's word the unnamed segments are refused, with their labels.
    let strict = agree_with(&ct, &segs, &[]);
    let binary = strict["failed"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["case"] == "binary.dcm"))
        .unwrap_or_else(|| panic!("binary.dcm must fail: {strict}"));
    let reason = binary["reason"].as_str().expect("reason");
    assert!(
        reason.contains("“Segment_2”") && reason.contains("“Liver”"),
        "{reason}"
    );

    // --auto: the fractional SEG (placed by position) as the automatic mask of the slice
    // the binary one names by UID: the same pixels, so every Dice is 1; the binary SEG's
    // other slice has no automatic mask.
    std::fs::rename(segs.join("fractional.dcm"), auto.join("fractional.dcm")).expect("move");
    let mut with_auto = vec!["--segments", "Segment_2=imat,*=ignore", "--auto"];
    let auto_arg = auto.to_string_lossy().into_owned();
    with_auto.push(&auto_arg);
    let report = agree_with(&ct, &segs, &with_auto);
    let rows = report["cases"].as_array().expect("cases");
    assert_eq!(rows.len(), 4, "{report}");
    for row in rows {
        assert_eq!(row["dice"], 1.0, "{row}");
    }
    let failed = report["failed"].as_array().expect("failed");
    assert!(
        failed.iter().any(|f| f["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no automatic mask of its CT slice"))),
        "{failed:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn places_readers_slices_against_the_automatic_l3_and_writes_the_exports() {
    let Some(series) = common::shared_dir(common::SERIES_DIR) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("sarcoscope-agree-l3-{}", std::process::id()));
    let segs = dir.join("segs");
    std::fs::create_dir_all(&segs).expect("folder");
    // The labels place L3's centre at slice 74; the readers traced 74 and 72.
    let traced = [72, 74].map(|k| common::slice_path(&series, k).into_os_string());
    let mut args = vec![segs.as_os_str()];
    args.extend(traced.iter().map(|p| p.as_os_str()));
    let Some(written) = common::python_json("write_seg.py", &args) else {
        return;
    };
    std::fs::remove_file(segs.join("unknown.dcm")).expect("one failure is tested elsewhere");
    let (csv, html) = (dir.join("cases.csv"), dir.join("report.html"));
    let (csv_arg, html_arg) = (csv.to_string_lossy(), html.to_string_lossy());
    let report = agree_with(
        &series,
        &segs,
        &[
            "--segments",
            "Segment_2=imat,*=ignore",
            "--csv",
            &csv_arg,
            "--report",
            &html_arg,
        ],
    );
    let level = &report["level"];
    assert_eq!(level["cases"], 3, "{report}");
    // binary.dcm's planes in UID order, then fractional.dcm's (slice 72).
    let z: Vec<f64> = written["binary"]
        .as_array()
        .expect("planes")
        .iter()
        .map(|p| p["z_mm"].as_f64().expect("z"))
        .collect();
    let step = (z[0] - z[1]).abs() / 2.0;
    let text = std::fs::read_to_string(&csv).expect("CSV written");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let mut muscle_rows = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields[column("tissue")] != "muscle" {
            continue;
        }
        muscle_rows += 1;
        let case = fields[column("case")];
        let plane = if case == "fractional.dcm slice 0" {
            &written["fractional"][0]
        } else {
            let k: usize = case
                .trim_start_matches("binary.dcm slice ")
                .parse()
                .expect("slice");
            &written["binary"][k]
        };
        // Slice 74 is the automatic L3 here; 72 lies two slices below it.
        let slices: i64 = fields[column("level_difference_slices")]
            .parse()
            .expect("slices");
        let plane_z = plane["z_mm"].as_f64().expect("z");
        let expected = if (plane_z - z.iter().cloned().fold(f64::MIN, f64::max)).abs() < step {
            0
        } else {
            -2
        };
        assert_eq!(slices, expected, "{case} at z = {plane_z}");
        let hu: f64 = fields[column("muscle_hu_ref")].parse().expect("HU");
        let numpy = plane["muscle_hu"].as_f64().expect("numpy HU");
        assert!(
            (hu - numpy).abs() < 1e-9,
            "{case}: muscle {hu} HU, numpy {numpy}"
        );
    }
    assert_eq!(muscle_rows, 3);
    let page = std::fs::read_to_string(&html).expect("report written");
    assert!(page.contains("Bland–Altman plot of Skeletal muscle area"));
    assert!(page.contains("Over 3 cases the reader's slice was the automatic L3 in 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sarcoscope agree CT --reference MASKS --json` on the CPU with the shipped model.
fn agree(ct: &Path, masks: &Path) -> Value {
    agree_with(ct, masks, &[])
}

fn agree_with(ct: &Path, masks: &Path, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
        .arg("agree")
        .arg(ct)
        .arg("--reference")
        .arg(masks)
        .args(extra)
        .args(["--json", "--device", "cpu", "--model"])
        .arg(common::repository().join("models/sarcoscope-l3-unet.json"))
        .output()
        .expect("run sarcoscope agree");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sarcoscope agree failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}
