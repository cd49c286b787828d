//! DICOM files made here, in memory, run through the whole ingest path: natively under
//! `cargo test`, and in a browser Web Worker (headless Chromium) under
//! `cargo test --target wasm32-unknown-unknown`, where the app really decodes.
//! No shared data is needed, so these always run.

use dicom_core::value::{PixelFragmentSequence, Value};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use sarcoscope::dicom::series::{self, SeriesKind, SeriesWarning};
use sarcoscope::dicom::{read_instance, Instance};
use sarcoscope::inspect::inspect_bytes;
use sarcoscope::volume;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

const ROWS: u16 = 24;
const COLUMNS: u16 = 32;
const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";

/// Stored values of slice `z`: a ramp that differs per slice, so order errors show.
fn stored_slice(z: usize) -> Vec<u16> {
    (0..usize::from(ROWS) * usize::from(COLUMNS))
        .map(|i| (i % 700 + 300 * z + 24) as u16)
        .collect()
}

/// A CT slice at height `z_mm`, uncompressed or JPEG-LS encoded.
fn ct_file(z_index: usize, z_mm: f64, jpeg_ls: bool) -> Vec<u8> {
    ct_file_with(z_index, z_mm, jpeg_ls, |_| {})
}

/// [`ct_file`], with the header changed by `tweak` before writing.
fn ct_file_with(
    z_index: usize,
    z_mm: f64,
    jpeg_ls: bool,
    tweak: impl FnOnce(&mut InMemDicomObject),
) -> Vec<u8> {
    let mut obj = InMemDicomObject::new_empty();
    let text = |tag, vr, value: &str| DataElement::new(tag, vr, PrimitiveValue::from(value));
    let uid = format!("2.25.1234.{z_index}");
    obj.put(text(tags::SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE));
    obj.put(text(tags::SOP_INSTANCE_UID, VR::UI, &uid));
    obj.put(text(tags::STUDY_INSTANCE_UID, VR::UI, "2.25.1"));
    obj.put(text(tags::SERIES_INSTANCE_UID, VR::UI, "2.25.2"));
    obj.put(text(tags::MODALITY, VR::CS, "CT"));
    obj.put(text(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\AXIAL"));
    obj.put(text(tags::PATIENT_SEX, VR::CS, "F"));
    obj.put(text(tags::PATIENT_SIZE, VR::DS, "1.62"));
    obj.put(text(
        tags::IMAGE_POSITION_PATIENT,
        VR::DS,
        &format!("-100\\-120\\{z_mm}"),
    ));
    obj.put(text(
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        "1\\0\\0\\0\\1\\0",
    ));
    obj.put(text(tags::PIXEL_SPACING, VR::DS, "0.8\\0.7"));
    obj.put(text(tags::SLICE_THICKNESS, VR::DS, "2.5"));
    obj.put(text(tags::RESCALE_INTERCEPT, VR::DS, "-1024"));
    obj.put(text(tags::RESCALE_SLOPE, VR::DS, "1"));
    obj.put(text(
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "MONOCHROME2",
    ));
    for (tag, value) in [
        (tags::ROWS, ROWS),
        (tags::COLUMNS, COLUMNS),
        (tags::SAMPLES_PER_PIXEL, 1),
        (tags::BITS_ALLOCATED, 16),
        (tags::BITS_STORED, 12),
        (tags::HIGH_BIT, 11),
        (tags::PIXEL_REPRESENTATION, 0),
    ] {
        obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    }
    let stored = stored_slice(z_index);
    let syntax = if jpeg_ls {
        let mut stream = Vec::new();
        jpegls::encode(&stored, u32::from(COLUMNS), u32::from(ROWS), &mut stream)
            .expect("JPEG-LS encoding");
        obj.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OB,
            Value::from(PixelFragmentSequence::new(Vec::<u32>::new(), vec![stream])),
        ));
        uids::JPEGLS_LOSSLESS
    } else {
        obj.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::U16(stored.into()),
        ));
        uids::EXPLICIT_VR_LITTLE_ENDIAN
    };
    tweak(&mut obj);
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(syntax)
                .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
                .media_storage_sop_instance_uid(&uid),
        )
        .expect("meta group");
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).expect("writing the file");
    bytes
}

/// Five slices 2.5 mm apart, given in scrambled order; `missing` leaves one out.
fn study(jpeg_ls: bool, missing: Option<usize>) -> Vec<(usize, Vec<u8>)> {
    [3, 0, 4, 1, 2]
        .into_iter()
        .filter(|z| Some(*z) != missing)
        .map(|z| (z, ct_file(z, 40.0 + 2.5 * z as f64, jpeg_ls)))
        .collect()
}

fn check_volume(jpeg_ls: bool) {
    let files = study(jpeg_ls, None);
    let instances: Vec<Instance> = files
        .iter()
        .map(|(_, b)| read_instance(b).expect("header"))
        .collect();
    let studies = series::build(&instances);
    assert_eq!(studies.len(), 1);
    let s = &studies[0].series[0];
    assert_eq!(s.kind, SeriesKind::CtAxial);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let geometry = s.geometry.as_ref().expect("geometry");
    assert_eq!(geometry.pixel_spacing, Some([0.8, 0.7]));
    assert!((geometry.slice_spacing.unwrap_or_default() - 2.5).abs() < 1e-9);
    assert_eq!(series::choose_ct(&studies, &instances), Some((0, 0)));
    // Ordered by position, not by file order: slice k is the file made for z index k.
    let order: Vec<usize> = s.slices.iter().map(|sl| files[sl.file].0).collect();
    assert_eq!(order, vec![0, 1, 2, 3, 4]);
    let (vol, failures) =
        volume::load(s, &instances, |i| Ok(files[i].1.clone()), |_, _| {}).expect("volume");
    assert!(failures.is_empty());
    for z in 0..5 {
        let expected = stored_slice(z);
        for (column, row) in [(0, 0), (5, 7), (31, 23)] {
            let stored = expected[row * usize::from(COLUMNS) + column];
            let hu = vol.hu_at(column, row, z).expect("voxel").0;
            assert_eq!(
                hu,
                f64::from(stored) - 1024.0,
                "slice {z} ({column}, {row})"
            );
        }
    }
    assert_eq!(instances[0].patient.height_m, Some(1.62));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn uncompressed_series_loads_in_anatomical_order_with_exact_hu() {
    check_volume(false);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn jpeg_ls_series_decodes_losslessly() {
    check_volume(true);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_missing_slice_is_reported_as_a_gap() {
    let files = study(false, Some(2));
    let instances: Vec<Instance> = files
        .iter()
        .map(|(_, b)| read_instance(b).expect("header"))
        .collect();
    let studies = series::build(&instances);
    let warnings = &studies[0].series[0].warnings;
    assert!(
        warnings
            .iter()
            .any(|w| matches!(w, SeriesWarning::Gap { gap_mm, .. } if (gap_mm - 5.0).abs() < 1e-9)),
        "{warnings:?}"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn damaged_files_give_plain_errors_without_panicking() {
    let good = ct_file(0, 0.0, true);
    for cut in (0..good.len()).step_by(97) {
        let (report, _) = inspect_bytes("cut.dcm", &good[..cut]);
        if report.stored.is_none() {
            assert!(
                report.error.as_deref().is_some_and(|e| !e.is_empty()),
                "cut at {cut}"
            );
        }
    }
    let mut flipped = good.clone();
    let last = flipped.len() - 40;
    flipped[last] ^= 0xFF;
    let _ = inspect_bytes("flipped.dcm", &flipped);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn absurd_header_sizes_are_refused_in_words_before_allocating() {
    let absurd = |tag, vr, value: &'static str| {
        ct_file_with(0, 0.0, false, move |obj| {
            obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
        })
    };
    for bytes in [
        absurd(tags::NUMBER_OF_FRAMES, VR::IS, "2000000000"),
        absurd(tags::NUMBER_OF_FRAMES, VR::IS, "4294967296"),
    ] {
        let error = read_instance(&bytes).expect_err("refused");
        assert!(
            error.to_string().contains("more than a browser can hold"),
            "{error}"
        );
        let (report, instance) = inspect_bytes("absurd.dcm", &bytes);
        assert!(instance.is_none());
        assert!(report.error.is_some());
    }
    // A damaged PatientAge never takes the page down.
    let bytes = ct_file_with(0, 0.0, false, |obj| {
        let text = |tag, vr, value: &str| DataElement::new(tag, vr, PrimitiveValue::from(value));
        obj.put(text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100"));
        // A multi-byte character last: the age's unit must not be cut mid-character.
        obj.put(text(tags::PATIENT_AGE, VR::AS, "63\u{e9}"));
    });
    let instance = read_instance(&bytes).expect("header");
    assert_eq!(instance.patient.age_years(), None);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_deflated_data_set_claiming_gigabytes_is_refused_quickly() {
    use std::io::Write;
    // A few bytes of deflate whose data set declares a 4 GB private value.
    let mut dataset = Vec::new();
    dataset.extend_from_slice(&[0x08, 0x00, 0x60, 0x00, b'C', b'S', 2, 0, b'C', b'T']);
    dataset.extend_from_slice(&[0x11, 0x00, 0x10, 0x00, b'O', b'B', 0, 0]);
    dataset.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    dataset.extend_from_slice(&[0; 64]);
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(&dataset).expect("deflate");
    let compressed = deflater.finish().expect("deflate");
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)
        .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
        .media_storage_sop_instance_uid("2.25.99")
        .build()
        .expect("meta");
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    meta.write(&mut bytes).expect("meta group");
    bytes.extend_from_slice(&compressed);
    let (report, _) = inspect_bytes("bomb.dcm", &bytes);
    let error = report.error.expect("refused");
    assert!(error.contains("claims"), "{error}");
}
