//! Every file of the shared DICOM corpus, read by our decoder and checked against the
//! reference decoder's results in `data/dicom/expected.json` (pydicom 3.0.2 with
//! pylibjpeg). Anything that differs from the reference fails, except the divergences
//! listed (and explained) below.

mod common;

use std::path::Path;

use sarcoscope::dicom::{self, pixels, syntax};
use sarcoscope::inspect::{inspect_bytes, FileReport, HuStats, StoredStats};
use serde_json::Value;

/// DICOMDIR indexes. pydicom reads them as data sets; we refuse them with an error that
/// says they are an index (their images are the other files of the folder).
const DICOMDIRS: &[&str] = &[
    "pydicom/dicomdirtests/DICOMDIR",
    "pydicom/dicomdirtests/DICOMDIR-bigEnd",
    "pydicom/dicomdirtests/DICOMDIR-empty.dcm",
    "pydicom/dicomdirtests/DICOMDIR-implicit",
    "pydicom/dicomdirtests/DICOMDIR-nopatient",
    "pydicom/dicomdirtests/DICOMDIR-reordered",
    "pydicom/dicomdirtests/TINY_ALPHA/DICOMDIR",
];

/// Files pydicom "parses" only because the reference was made with `force=True`: what
/// it returns is garbage (no SOP class, no pixel data). We give a plain error instead.
/// - no_meta.dcm, TINY_ALPHA/README: not DICOM at all (no recognisable data set);
/// - meta_missing_tsyntax.dcm: a meta group without a transfer syntax, and a data set
///   whose encoding cannot be inferred;
/// - UN_sequence.dcm: an undefined-length UN element whose content, read in the
///   declared explicit VR syntax, claims a 3.7 GB value;
/// - rtplan_truncated.dcm, DICOMDIR-nooffset: cut short inside the header.
const FORCED_GARBAGE: &[&str] = &[
    "pydicom/no_meta.dcm",
    "pydicom/dicomdirtests/TINY_ALPHA/README",
    "pydicom/meta_missing_tsyntax.dcm",
    "pydicom/UN_sequence.dcm",
    "pydicom/rtplan_truncated.dcm",
    "pydicom/dicomdirtests/DICOMDIR-nooffset",
];

/// Enhanced (multi-frame functional group) objects. Their PixelSpacing lives in the
/// Pixel Measures functional group, which we read and pydicom's top-level lookup does
/// not (the reference has none). Matched as prefixes of the file name.
const ENHANCED: &[&str] = &[
    "pydicom/liver_1frame.dcm",
    "dicomparser/encapsulated/multi-frame/CT0012.",
    "cornerstone3d/CT0012.",
];

/// Enhanced CT whose rescale (slope 1, intercept −1024) is only in the per-frame Pixel
/// Value Transformation functional group. pydicom ignores it and reports HU equal to
/// the stored values (intercept 0); we apply it. For these files our HU must equal the
/// reference's stored statistics mapped through our own (functional group) rescale.
const FUNCTIONAL_GROUP_RESCALE: &[&str] = &[
    "dicomparser/encapsulated/multi-frame/CT0012.",
    "cornerstone3d/CT0012.",
];

/// Files the reference could not decode that we do decode.
/// - JPEG-lossy.dcm holds the same 12-bit JPEG stream as JPGExtended.dcm with a flaw in
///   its scan header that libjpeg (pylibjpeg) rejects and our decoder tolerates. Its
///   result is checked against the reference's result for JPGExtended.dcm.
const DECODED_WHERE_REFERENCE_REFUSED: &[(&str, &str)] =
    &[("pydicom/JPEG-lossy.dcm", "pydicom/JPGExtended.dcm")];

/// Lossy decoding tolerance, in stored values. JPEG's inverse DCT is rounded
/// differently by each decoder (libjpeg vs ours / jpeg-decoder): single pixels differ
/// by ±1, the largest difference measured on this corpus is 2, and means move by at
/// most a few hundredths.
const LOSSY_MIN_MAX: f64 = 2.0;
const LOSSY_MEAN: f64 = 0.05;
/// Lossless decoding must reproduce the reference's HU (the reference rounds means to
/// four decimals).
const HU_EXACT: f64 = 1e-3;

fn listed(list: &[&str], file: &str) -> bool {
    list.contains(&file)
}

fn prefixed(list: &[&str], file: &str) -> bool {
    list.iter().any(|p| file.starts_with(p))
}

#[derive(Default)]
struct Tally {
    files: usize,
    exact: usize,
    lossy_within_tolerance: usize,
    plain_errors: usize,
    decoded_where_reference_refused: usize,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, file: &str, message: impl AsRef<str>) {
        self.failures.push(format!("{file}: {}", message.as_ref()));
    }
}

#[test]
fn corpus_matches_reference_decoder() {
    let Some(expected_path) = common::shared_dir("data/dicom/expected.json") else {
        return;
    };
    let root = expected_path.parent().unwrap().to_path_buf();
    let expected: Value =
        serde_json::from_slice(&common::read(&expected_path)).expect("expected.json is JSON");
    let references = expected["files"]
        .as_array()
        .expect("expected.json has a files list");
    assert!(
        references.len() > 100,
        "expected.json lists only {} files",
        references.len()
    );

    let mut tally = Tally::default();
    let mut ours_by_name = std::collections::HashMap::new();
    for reference in references {
        let name = reference["file"]
            .as_str()
            .expect("every entry names its file");
        let path = root.join(name);
        if !path.is_file() {
            tally.fail(
                name,
                format!("listed in expected.json but missing at {}", path.display()),
            );
            continue;
        }
        let bytes = common::read(&path);
        let Ok((report, _)) = std::panic::catch_unwind(|| inspect_bytes(name, &bytes)) else {
            tally.fail(name, "inspect_bytes panicked");
            continue;
        };
        tally.files += 1;
        check_file(name, reference, &report, &mut tally);
        ours_by_name.insert(name.to_owned(), report);
    }

    for (file, twin) in DECODED_WHERE_REFERENCE_REFUSED {
        let twin_reference = references.iter().find(|r| r["file"] == *twin);
        match (ours_by_name.get(*file), twin_reference) {
            (Some(ours), Some(twin_reference)) => match (&ours.stored, stored_of(twin_reference)) {
                (Some(stored), Some(reference)) => {
                    if let Err(e) = compare_lossy(stored, &reference) {
                        tally.fail(
                            file,
                            format!("differs from the reference for {twin} beyond tolerance: {e}"),
                        );
                    }
                }
                _ => tally.fail(
                    file,
                    format!("expected decoded values comparable with {twin}"),
                ),
            },
            _ => tally.fail(
                file,
                format!("missing, or its twin {twin} is missing from the reference"),
            ),
        }
    }

    common::say(&format!(
        "corpus: {} files, {} exact, {} lossy within tolerance, {} plain errors, {} decoded where the reference could not",
        tally.files, tally.exact, tally.lossy_within_tolerance, tally.plain_errors, tally.decoded_where_reference_refused
    ));
    assert!(
        tally.failures.is_empty(),
        "{} difference(s) from the reference decoder:\n  {}",
        tally.failures.len(),
        tally.failures.join("\n  ")
    );
    assert!(
        tally.exact > 50,
        "only {} files decoded exactly",
        tally.exact
    );
}

fn check_file(name: &str, reference: &Value, ours: &FileReport, tally: &mut Tally) {
    if let Some(error) = &ours.error {
        match common::plain_language_problem(error) {
            Some(problem) => tally.fail(name, format!("error message {problem}: {error:?}")),
            None => tally.plain_errors += 1,
        }
    }
    if ours.stored.is_none() && ours.error.is_none() {
        tally.fail(name, "nothing decoded and no error given");
    }

    if listed(DICOMDIRS, name) {
        if !ours
            .error
            .as_deref()
            .is_some_and(|e| e.contains("DICOMDIR"))
        {
            tally.fail(
                name,
                format!(
                    "a DICOMDIR must be refused as an index, got {:?}",
                    ours.error
                ),
            );
        }
        return;
    }
    if listed(FORCED_GARBAGE, name) {
        if ours.error.is_none() || ours.stored.is_some() {
            tally.fail(
                name,
                "pydicom reads garbage here only by force; we must give an error",
            );
        }
        return;
    }

    let reference_parses =
        reference["parses"].as_bool() == Some(true) && reference.get("parse_error").is_none();
    if reference_parses {
        if !ours.parses {
            tally.fail(
                name,
                format!(
                    "the reference parses this file, we do not: {:?}",
                    ours.error
                ),
            );
        } else {
            check_header(name, reference, ours, tally);
        }
    }

    let reference_stored = stored_of(reference);
    let lossy = reference["lossy"].as_bool() == Some(true);
    match (&reference_stored, &ours.stored) {
        (Some(expected), Some(stored)) if !lossy => {
            if stored.shape != expected.shape || stored.sha256_i32le != expected.sha256_i32le {
                tally.fail(
                    name,
                    format!(
                        "lossless decode differs: shape {:?} vs {:?}, min/max/mean {}/{}/{:.4} vs {}/{}/{:.4}",
                        stored.shape,
                        expected.shape,
                        stored.min,
                        stored.max,
                        stored.mean,
                        expected.min,
                        expected.max,
                        expected.mean
                    ),
                );
                return;
            }
            match check_hu(name, reference, ours, expected, false) {
                Ok(()) => tally.exact += 1,
                Err(e) => tally.fail(name, e),
            }
        }
        (Some(expected), Some(stored)) => {
            let within = compare_lossy(stored, expected)
                .and_then(|()| check_hu(name, reference, ours, expected, true));
            match within {
                Ok(()) => tally.lossy_within_tolerance += 1,
                Err(e) => tally.fail(name, format!("lossy decode beyond tolerance: {e}")),
            }
        }
        (Some(_), None) => tally.fail(
            name,
            format!(
                "the reference decodes this file, we do not: {:?}",
                ours.error
            ),
        ),
        (None, Some(_)) => {
            if DECODED_WHERE_REFERENCE_REFUSED
                .iter()
                .any(|(f, _)| *f == name)
            {
                tally.decoded_where_reference_refused += 1;
            } else {
                tally.fail(
                    name,
                    "we decode a file the reference could not, and it is not a listed exception",
                );
            }
        }
        (None, None) => {
            if ours.error.is_none() {
                tally.fail(
                    name,
                    "neither decoder decodes this file and we give no error",
                );
            }
        }
    }

    // JPEG processes 6/8 and 10/12 are not supported: the error must name them.
    let transfer_syntax = reference["transfer_syntax"].as_str().unwrap_or_default();
    if matches!(
        transfer_syntax,
        "1.2.840.10008.1.2.4.53" | "1.2.840.10008.1.2.4.55"
    ) {
        let syntax_name = syntax::info(transfer_syntax).name;
        if !ours
            .error
            .as_deref()
            .is_some_and(|e| e.contains(syntax_name))
        {
            tally.fail(
                name,
                format!(
                    "the error should name {syntax_name:?}, got {:?}",
                    ours.error
                ),
            );
        }
    }
}

/// Header facts must equal the reference's. Where the reference has no value (the
/// attribute is absent, as in files without an image), we must report it absent too:
/// `None`, or the zero / empty value our report uses for a missing attribute.
fn check_header(name: &str, reference: &Value, ours: &FileReport, tally: &mut Tally) {
    let uint = |v: Option<u64>| v.unwrap_or(0);
    let fields: [(&str, Value); 9] = [
        ("rows", ours.rows.map(u64::from).into()),
        ("columns", ours.columns.map(u64::from).into()),
        ("frames", ours.frames.map(u64::from).into()),
        ("bits_allocated", ours.bits_allocated.map(u64::from).into()),
        ("bits_stored", ours.bits_stored.map(u64::from).into()),
        (
            "pixel_representation",
            ours.pixel_representation.map(u64::from).into(),
        ),
        ("photometric", ours.photometric.clone().into()),
        ("transfer_syntax", ours.transfer_syntax.clone().into()),
        ("has_pixel_data", ours.has_pixel_data.into()),
    ];
    for (field, value) in fields {
        let expected = &reference[field];
        let same = match (expected, &value) {
            (Value::Null, Value::Null) => true,
            (Value::Null, Value::Number(n)) => n.as_u64() == Some(0),
            (Value::Null, Value::String(s)) => s.is_empty(),
            (Value::Number(e), Value::Number(o)) => uint(e.as_u64()) == uint(o.as_u64()),
            (e, o) => e == o,
        };
        if !same {
            tally.fail(name, format!("{field}: reference {expected}, ours {value}"));
        }
    }

    let spacing = reference["pixel_spacing"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>());
    if prefixed(ENHANCED, name) {
        if ours.pixel_spacing.is_none() {
            tally.fail(
                name,
                "enhanced object: pixel spacing should come from its functional groups",
            );
        }
    } else {
        let same = match (&spacing, ours.pixel_spacing) {
            (None, None) => true,
            (Some(e), Some(o)) => {
                e.len() == 2 && (e[0] - o[0]).abs() < 1e-9 && (e[1] - o[1]).abs() < 1e-9
            }
            _ => false,
        };
        if !same {
            tally.fail(
                name,
                format!(
                    "pixel_spacing: reference {spacing:?}, ours {:?}",
                    ours.pixel_spacing
                ),
            );
        }
    }

    if !prefixed(FUNCTIONAL_GROUP_RESCALE, name) {
        for (field, value) in [
            ("rescale_slope", ours.rescale_slope),
            ("rescale_intercept", ours.rescale_intercept),
        ] {
            let expected = reference[field].as_f64();
            let same = match (expected, value) {
                (Some(e), Some(o)) => (e - o).abs() < 1e-9,
                (None, None) => true,
                _ => false,
            };
            if !same {
                tally.fail(
                    name,
                    format!("{field}: reference {expected:?}, ours {value:?}"),
                );
            }
        }
    }
}

/// Our HU against the reference's: exactly (up to the reference's rounding), or for
/// `lossy` files within the lossy tolerance in stored values, times the slope. For the functional-group rescale exception, against the
/// reference's stored statistics mapped through our rescale.
fn check_hu(
    name: &str,
    reference: &Value,
    ours: &FileReport,
    reference_stored: &StoredStats,
    lossy: bool,
) -> Result<(), String> {
    let reference_hu = hu_of(reference);
    let (expected, slope) = if prefixed(FUNCTIONAL_GROUP_RESCALE, name) {
        let slope = ours.rescale_slope.ok_or("no rescale slope reported")?;
        let intercept = ours
            .rescale_intercept
            .ok_or("no rescale intercept reported")?;
        if intercept != -1024.0 || slope != 1.0 {
            return Err(format!(
                "functional-group rescale should be 1 / -1024, is {slope} / {intercept}"
            ));
        }
        let Some(reference_hu) = reference_hu else {
            return Err("the reference has no HU".into());
        };
        let map = |v: f64| v * slope + intercept;
        // The reference's centre pixel is the stored value (it applied no rescale).
        let expected = HuStats {
            min: map(reference_stored.min as f64),
            max: map(reference_stored.max as f64),
            mean: map(reference_stored.mean),
            center_pixel: map(reference_hu.center_pixel),
        };
        (Some(expected), slope)
    } else {
        (
            reference_hu,
            reference["rescale_slope"].as_f64().unwrap_or(1.0),
        )
    };
    match (expected, &ours.hu) {
        (None, None) => Ok(()),
        (Some(e), Some(o)) => {
            let (exact, mean) = if lossy {
                (LOSSY_MIN_MAX * slope.abs(), LOSSY_MEAN * slope.abs())
            } else {
                (HU_EXACT, HU_EXACT)
            };
            for (what, e, o, tolerance) in [
                ("min", e.min, o.min, exact),
                ("max", e.max, o.max, exact),
                ("mean", e.mean, o.mean, mean),
                ("center_pixel", e.center_pixel, o.center_pixel, exact),
            ] {
                if (e - o).abs() > tolerance {
                    return Err(format!(
                        "HU {what}: expected {e}, ours {o} (tolerance {tolerance})"
                    ));
                }
            }
            Ok(())
        }
        (e, o) => Err(format!(
            "HU given by one decoder only: expected {e:?}, ours {o:?}"
        )),
    }
}

fn compare_lossy(ours: &StoredStats, reference: &StoredStats) -> Result<(), String> {
    if ours.shape != reference.shape {
        return Err(format!("shape {:?} vs {:?}", ours.shape, reference.shape));
    }
    let (dmin, dmax) = (
        (ours.min - reference.min).abs() as f64,
        (ours.max - reference.max).abs() as f64,
    );
    let dmean = (ours.mean - reference.mean).abs();
    if dmin > LOSSY_MIN_MAX || dmax > LOSSY_MIN_MAX || dmean > LOSSY_MEAN {
        return Err(format!(
            "min/max/mean {}/{}/{:.4} vs {}/{}/{:.4}",
            ours.min, ours.max, ours.mean, reference.min, reference.max, reference.mean
        ));
    }
    Ok(())
}

fn stored_of(reference: &Value) -> Option<StoredStats> {
    serde_json::from_value(reference.get("stored")?.clone()).ok()
}

fn hu_of(reference: &Value) -> Option<HuStats> {
    serde_json::from_value(reference.get("hu")?.clone()).ok()
}

/// The corpus has more files than expected.json lists (licences, read-mes): each of them
/// must also be read without a panic.
#[test]
fn unlisted_files_never_panic() {
    let Some(root) = common::shared_dir("data/dicom") else {
        return;
    };
    let mut pending = vec![root.clone()];
    let mut count = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable corpus folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if is_unlisted(&root, &path) {
                let bytes = common::read(&path);
                let (report, _) = inspect_bytes("unlisted", &bytes);
                assert!(
                    report.stored.is_some() || report.error.is_some(),
                    "{}: no result",
                    path.display()
                );
                count += 1;
            }
        }
    }
    assert!(
        count > 0,
        "the corpus should hold files expected.json does not list"
    );
}

fn is_unlisted(root: &Path, path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    path.parent() == Some(root) && name == "expected.json"
        || name.ends_with(".md")
        || name.ends_with(".txt")
        || name == "LICENSE"
}

/// A series' usual uncompressed CT files are decoded straight from their bytes
/// (`pixels::native_images`, skipping dicom-rs's copy of the pixel data): for every file
/// of the corpus where that applies, exactly the stored values of the full decode. A file
/// cut short, or with anything after its pixel data, takes the full decode, which says
/// what is wrong.
#[test]
fn native_files_decoded_from_their_bytes_equal_the_full_decode() {
    let Some(root) = common::shared_dir("data/dicom") else {
        return;
    };
    let mut pending = vec![root];
    let (mut straight, mut in_16_bits) = (Vec::new(), 0);
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable corpus folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = common::read(&path);
            let Ok(instance) = dicom::read_instance(&bytes) else {
                continue;
            };
            let Some(fast) = pixels::native_images(&bytes, &instance) else {
                continue;
            };
            let full = dicom::open(&bytes).and_then(|p| pixels::decode_stored(&p, &instance));
            let full = full.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(fast.frames(), full.frames, "{}", path.display());
            let value = fast.stored_value();
            let narrow = fast.narrow_stored_value();
            for k in 0..full.frames {
                let mut samples = vec![0; full.frame_len()];
                let values: Option<Vec<i32>> = fast
                    .frame_samples(k, &mut samples)
                    .map(|len| samples[..len].iter().map(|&s| value(s)).collect());
                assert_eq!(
                    values.as_deref(),
                    full.frame(k),
                    "{} frame {k}",
                    path.display()
                );
                if let Some(narrow) = narrow {
                    let narrowed: Vec<i32> =
                        samples.iter().map(|&s| i32::from(narrow(s))).collect();
                    assert_eq!(values, Some(narrowed), "{} in 16 bits", path.display());
                    in_16_bits += 1;
                }
            }
            straight.push((bytes, instance));
        }
    }
    assert!(
        straight.len() >= 10,
        "only {} files decoded straight from their bytes",
        straight.len()
    );
    assert!(in_16_bits >= 10, "only {in_16_bits} frames in 16 bits");
    common::say(&format!(
        "{} corpus files decoded straight from their bytes, as the full decode ({in_16_bits} frames in 16 bits too)",
        straight.len()
    ));
    let (bytes, instance) = &straight[0];
    let cut = &bytes[..bytes.len() - 2];
    assert!(pixels::native_images(cut, instance).is_none(), "cut short");
    let longer = [bytes.as_slice(), &[0, 0, 0, 0]].concat();
    assert!(
        pixels::native_images(&longer, instance).is_none(),
        "bytes after the pixels"
    );
}
