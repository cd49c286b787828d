//! Readers' masks read from real files: the shared TotalSegmentator label map (NIfTI)
//! must give, slice by slice, the pixel counts an independent reading (numpy, in
//! `tests/read_nifti.py`) gives at the same positions; the shared CT volume, which is no
//! label map, must be refused with a reason.

mod common;

use sarcoscope::agree::reference::{self, Format, Numbering, Placement};
use sarcoscope::agree::tag::TagNumbers;
use sarcoscope::segment::TissueClass;
use serde_json::Value;

/// The four trunk muscles of the TotalSegmentator "total" map (v2 numbering): autochthon
/// and iliopsoas, both sides.
const TRUNK_MUSCLES: [u8; 4] = [86, 87, 88, 89];

fn read_with_numpy(path: &std::path::Path, numbers: &[u8]) -> Option<Value> {
    let list: Vec<String> = numbers.iter().map(u8::to_string).collect();
    let list = std::ffi::OsString::from(list.join(","));
    common::python_json("read_nifti.py", &[path.as_os_str(), &list])
}

#[test]
fn a_totalsegmentator_label_map_gives_the_areas_numpy_reads() {
    let Some(dir) = common::shared_dir("data/ct/totalseg-example") else {
        return;
    };
    let path = dir.join("total-labels.nii.gz");
    assert_eq!(Format::of(&path, b""), Some(Format::Nifti));
    let numbering = Numbering {
        numbers: TagNumbers {
            muscle: TRUNK_MUSCLES.to_vec(),
            imat: vec![],
            vat: vec![],
            sat: vec![],
        },
        ..Numbering::default()
    };
    let masks = reference::read(Format::Nifti, &common::read(&path), &numbering).expect("labels");
    let Some(independent) = read_with_numpy(&path, &TRUNK_MUSCLES) else {
        return;
    };
    let expected: Vec<(f64, usize)> = independent["slices"]
        .as_array()
        .expect("slices")
        .iter()
        .map(|s| {
            let z = s["z_mm"].as_f64().expect("z");
            (z, s["count"].as_u64().expect("count") as usize)
        })
        .filter(|&(_, count)| count > 0)
        .collect();
    assert!(expected.len() > 20, "the trunk muscles span the series");
    assert_eq!(
        masks.len(),
        expected.len(),
        "one mask per slice with muscle"
    );
    let spacing: Vec<f64> = independent["pixel_spacing"]
        .as_array()
        .expect("spacing")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    for (mask, (z, count)) in masks.iter().zip(&expected) {
        let Placement::At { z_mm, .. } = mask.placement else {
            panic!("a NIfTI slice is placed by position");
        };
        assert!((z_mm - z).abs() < 1e-3, "slice at {z_mm} mm, numpy {z} mm");
        let muscle = mask
            .mask
            .labels()
            .iter()
            .filter(|&&l| l == TissueClass::SkeletalMuscle.label())
            .count();
        assert_eq!(muscle, *count, "muscle pixels at z = {z} mm");
        let read: Vec<f64> = mask
            .pixel_spacing
            .expect("spacing")
            .iter()
            .map(|mm| mm.0)
            .collect();
        assert_eq!(read, spacing);
    }
    // The label map was made from the DICOM series: its first pixel lies where the
    // series' does, across the body.
    let series = dir.join("series-dicom");
    let first = std::fs::read_dir(&series)
        .expect("series folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_file())
        .expect("a DICOM file");
    let instance = sarcoscope::dicom::read_instance(&common::read(&first)).expect("CT header");
    let [x, y, _] = instance.frame_geometry[0]
        .position
        .expect("ImagePositionPatient");
    let [mx, my] = masks[0].origin_mm.expect("a NIfTI says where it lies");
    assert!(
        (mx - x).abs() < 0.01 && (my - y).abs() < 0.01,
        "label map's first pixel at ({mx}, {my}) mm, the series' at ({x}, {y}) mm"
    );
}

#[test]
fn a_ct_volume_is_not_taken_for_a_label_map() {
    let Some(dir) = common::shared_dir("data/ct/totalseg-example") else {
        return;
    };
    let bytes = common::read(&dir.join("ct.nii.gz"));
    let e = reference::read(Format::Nifti, &bytes, &Numbering::default())
        .expect_err("HU are no labels");
    assert!(e.to_string().contains("not a label map"), "{e}");
}
