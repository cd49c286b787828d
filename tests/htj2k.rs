//! High-Throughput JPEG 2000 (HTJ2K, transfer syntaxes 1.2.840.10008.1.2.4.201–203),
//! checked against an independent codec: a real CT slice of the shared series is encoded
//! by OpenJPH (`ojph_compress`, Debian's `openjph-tools`, installed by
//! `scripts/bootstrap`), wrapped in a DICOM file, and decoded by the app's path (the
//! pure-Rust `openjp2` through dicom-rs); the lossless syntaxes must give back the
//! stored values exactly, the lossy one what OpenJPEG's C decoder (`opj_decompress`,
//! the library behind the reference decoder's pylibjpeg-openjpeg) gives, and an image as
//! close to the original as OpenJPH's own decoder (`ojph_expand`) gives.
//!
//! The files are made at test time: none of the corpus's files is HTJ2K, and nothing
//! from the shared data is committed.

mod common;

use std::path::Path;
use std::process::Command;

use common::{read, say, shared_dir, slice_path, SERIES_DIR};
use dicom_core::value::{PixelFragmentSequence, Value};
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::FileMetaTableBuilder;
use sarcoscope::dicom::{self, pixels, DicomError};

const LOSSLESS: &str = "1.2.840.10008.1.2.4.201";
const LOSSLESS_RPCL: &str = "1.2.840.10008.1.2.4.202";
const LOSSY: &str = "1.2.840.10008.1.2.4.203";

/// The two codecs' tools (OpenJPH's and OpenJPEG's), or `None` (after saying so) where
/// they are not installed; with `SARCOSCOPE_REQUIRE_DATA=1` (CI) their absence is a
/// failure, as the bootstrap installs them.
fn openjph() -> Option<()> {
    let missing: Vec<&str> = ["ojph_compress", "opj_decompress"]
        .into_iter()
        .filter(|tool| Command::new(tool).output().is_err())
        .collect();
    if missing.is_empty() {
        return Some(());
    }
    let what = format!(
        "{} not found (Debian's openjph-tools and libopenjp2-tools; scripts/bootstrap installs them)",
        missing.join(" and ")
    );
    if std::env::var("SARCOSCOPE_REQUIRE_DATA").is_ok_and(|v| v == "1") {
        panic!("{what}");
    }
    say(&format!("SKIPPED: {what}"));
    None
}

/// A real CT slice: its bytes, size and stored (signed 16-bit) values.
struct Slice {
    bytes: Vec<u8>,
    rows: usize,
    columns: usize,
    stored: Vec<i32>,
}

fn real_slice() -> Option<Slice> {
    let dir = shared_dir(SERIES_DIR)?;
    let bytes = read(&slice_path(&dir, 50));
    let stored = decode(&bytes).expect("the uncompressed slice decodes");
    Some(Slice {
        rows: stored.rows,
        columns: stored.columns,
        stored: stored.values,
        bytes,
    })
}

fn decode(bytes: &[u8]) -> Result<pixels::StoredFrames, DicomError> {
    let instance = dicom::read_instance(bytes)?;
    let parsed = dicom::open(bytes)?;
    pixels::decode_stored(&parsed, &instance)
}

fn run(tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The slice's values encoded by OpenJPH, and OpenJPH's own decoding of that stream.
fn encode(slice: &Slice, dir: &Path, reversible: bool) -> (Vec<u8>, Vec<i32>) {
    let raw = dir.join("slice.rawl");
    let stream = dir.join("slice.j2c");
    let back = dir.join("back.rawl");
    let values: Vec<u8> = slice
        .stored
        .iter()
        .flat_map(|&v| (v as i16).to_le_bytes())
        .collect();
    std::fs::write(&raw, values).expect("writing the raw slice");
    let dims = format!("{{{},{}}}", slice.columns, slice.rows);
    let mut args = vec![
        "-i",
        path(&raw),
        "-o",
        path(&stream),
        "-dims",
        &dims,
        "-num_comps",
        "1",
        "-signed",
        "true",
        "-bit_depth",
        "16",
        "-downsamp",
        "{1,1}",
    ];
    if reversible {
        args.extend(["-reversible", "true"]);
    } else {
        args.extend(["-reversible", "false", "-qstep", "0.0005"]);
    }
    run("ojph_compress", &args);
    run("ojph_expand", &["-i", path(&stream), "-o", path(&back)]);
    (read(&stream), samples(&back))
}

/// Signed 16-bit little-endian samples, as the two codecs' tools write raw images.
fn samples(raw: &Path) -> Vec<i32> {
    read(raw)
        .chunks_exact(2)
        .map(|b| i32::from(i16::from_le_bytes([b[0], b[1]])))
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

/// The slice's file with its pixel data replaced by `stream`, under `syntax`.
fn wrapped(slice: &Slice, stream: Vec<u8>, syntax: &str) -> Vec<u8> {
    let file = dicom_object::from_reader(&slice.bytes[128..]).expect("the slice parses");
    let (class, instance) = (
        file.meta().media_storage_sop_class_uid().to_owned(),
        file.meta().media_storage_sop_instance_uid().to_owned(),
    );
    let mut obj = file.into_inner();
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        Value::from(PixelFragmentSequence::new(Vec::<u32>::new(), vec![stream])),
    ));
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(syntax)
                .media_storage_sop_class_uid(class.trim_end_matches('\0'))
                .media_storage_sop_instance_uid(instance.trim_end_matches('\0')),
        )
        .expect("meta group");
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).expect("writing the HTJ2K file");
    bytes
}

fn temporary(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sarcoscope-htj2k-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

#[test]
fn lossless_htj2k_gives_back_the_stored_values_exactly() {
    let (Some(()), Some(slice)) = (openjph(), real_slice()) else {
        return;
    };
    let dir = temporary("lossless");
    let (stream, expanded) = encode(&slice, &dir, true);
    assert_eq!(expanded, slice.stored, "OpenJPH's own round trip is exact");
    for syntax in [LOSSLESS, LOSSLESS_RPCL] {
        let file = wrapped(&slice, stream.clone(), syntax);
        let decoded = decode(&file).unwrap_or_else(|e| panic!("{syntax}: {e}"));
        assert_eq!((decoded.rows, decoded.columns), (slice.rows, slice.columns));
        assert_eq!(decoded.values, slice.stored, "{syntax}");
        let report = sarcoscope::inspect::inspect_bytes("htj2k.dcm", &file).0;
        assert!(report.error.is_none(), "{syntax}: {:?}", report.error);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn lossy_htj2k_decodes_as_openjpeg_does() {
    let (Some(()), Some(slice)) = (openjph(), real_slice()) else {
        return;
    };
    let dir = temporary("lossy");
    let (stream, expanded) = encode(&slice, &dir, false);
    let reference = openjpeg(&dir);
    let decoded = decode(&wrapped(&slice, stream, LOSSY)).expect("lossy HTJ2K decodes");
    // The irreversible (9/7) path agrees with OpenJPEG's C library exactly: the same
    // library the reference decoder (pydicom with pylibjpeg-openjpeg) uses.
    assert_eq!(
        decoded.values, reference,
        "lossy HTJ2K differs from OpenJPEG's"
    );
    // OpenJPH's decoder reconstructs some quantised coefficients at another point of
    // their interval, so a few values differ from OpenJPEG's by up to one quantisation
    // step; both must be as close to the original slice.
    let rms = |v: &[i32]| {
        let sum: f64 = v
            .iter()
            .zip(&slice.stored)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        (sum / v.len() as f64).sqrt()
    };
    let (ours, theirs) = (rms(&decoded.values), rms(&expanded));
    let off = decoded
        .values
        .iter()
        .zip(&expanded)
        .filter(|(a, b)| a != b)
        .count();
    say(&format!(
        "lossy HTJ2K: RMS error {ours:.2} (OpenJPH's decoder {theirs:.2}); {off} of {} values \
         differ from OpenJPH's",
        expanded.len()
    ));
    assert!(
        (ours - theirs).abs() <= 0.05 * theirs && ours < 20.0,
        "RMS error {ours:.2} against OpenJPH's {theirs:.2}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `dir/slice.j2c` decoded by OpenJPEG's command-line decoder (Debian's
/// `libopenjp2-tools`).
fn openjpeg(dir: &Path) -> Vec<i32> {
    let out = dir.join("openjpeg.rawl");
    run(
        "opj_decompress",
        &["-i", path(&dir.join("slice.j2c")), "-o", path(&out)],
    );
    samples(&out)
}
