//! Bad input never panics and always explains itself: `inspect_bytes` must return for
//! any bytes, and whenever it cannot give decoded values it must give a plain error.

mod common;

use std::time::{Duration, Instant};

use sarcoscope::inspect::{inspect_bytes, FileReport};

/// Real files cut short: an uncompressed CT slice and files of each codec family (each
/// parsed by different code), small and large.
const TRUNCATED_SOURCES: &[&str] = &[
    "data/ct/totalseg-example/series-dicom/slice0050.dcm",
    "data/dicom/pydicom/MR_small_jpeg_ls_lossless.dcm",
    "data/dicom/pydicom/MR_small_jp2klossless.dcm",
    "data/dicom/pydicom/MR_small_RLE.dcm",
    "data/dicom/dicomparser/encapsulated/single-frame/CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm",
    "data/dicom/cornerstone3d/CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm",
    "data/dicom/cornerstone3d/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm",
];

/// Real files with one byte changed. Each damaged copy is decoded in full, so these are
/// the small images (a 122×101 CT slice, 64×64 MR images) to keep the test fast.
const CORRUPTED_SOURCES: &[&str] = &[
    "data/ct/totalseg-example/series-dicom/slice0050.dcm",
    "data/dicom/pydicom/MR_small_jpeg_ls_lossless.dcm",
    "data/dicom/pydicom/MR_small_jp2klossless.dcm",
    "data/dicom/pydicom/MR_small_RLE.dcm",
];

/// Reads `bytes` and returns a description of what is wrong with the outcome, if
/// anything: a panic, no values and no error, or an error that is not plain language.
fn problem_with(label: &str, bytes: &[u8]) -> Option<String> {
    let outcome = std::panic::catch_unwind(|| inspect_bytes(label, bytes));
    let Ok((report, _)) = outcome else {
        return Some(format!("{label}: panicked"));
    };
    problem_in_report(label, &report)
}

fn problem_in_report(label: &str, report: &FileReport) -> Option<String> {
    match &report.error {
        Some(error) => {
            common::plain_language_problem(error).map(|p| format!("{label}: error {p}: {error:?}"))
        }
        None if report.stored.is_none() => Some(format!("{label}: no values and no error")),
        None => None,
    }
}

/// A real CT slice (uncompressed, explicit VR) to damage or pack; `None` (said) without
/// the shared data.
fn ct_slice() -> Option<Vec<u8>> {
    common::shared_dir("data/ct/totalseg-example/series-dicom/slice0050.dcm")
        .map(|path| common::read(&path))
}

fn error_of(bytes: &[u8]) -> String {
    let (report, _) = inspect_bytes("input", bytes);
    report.error.expect("an error")
}

fn assert_no_problems(problems: Vec<String>, tried: usize) {
    assert!(
        problems.is_empty(),
        "{} of {tried} damaged inputs went wrong:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn empty_input_is_not_dicom() {
    assert_eq!(problem_with("empty", &[]), None);
    assert!(error_of(&[]).contains("not a DICOM file"));
}

#[test]
fn random_bytes_are_refused() {
    let mut rng = common::Lcg::new(0x0bad_5eed);
    let mut problems = Vec::new();
    let mut tried = 0;
    for len in [1, 7, 128, 131, 132, 500, 4096, 65_536] {
        for variant in 0..4 {
            let mut bytes = rng.bytes(len);
            // Half of them get a DICOM preamble marker, so that they reach the parser.
            if variant % 2 == 1 && len >= 132 {
                bytes[128..132].copy_from_slice(b"DICM");
            }
            tried += 1;
            problems.extend(problem_with(
                &format!("random {len} bytes #{variant}"),
                &bytes,
            ));
        }
    }
    assert_no_problems(problems, tried);
}

#[test]
fn text_file_is_not_dicom() {
    let text = b"Patient list\nname, date of birth\n(nothing to see here)\n".repeat(20);
    let error = error_of(&text);
    assert!(error.contains("not a DICOM file"), "{error}");
    assert_eq!(problem_with("text", &text), None);
}

#[test]
fn dicomdir_is_named() {
    let Some(path) = common::shared_dir("data/dicom/pydicom/dicomdirtests/DICOMDIR") else {
        return;
    };
    let error = error_of(&common::read(&path));
    assert!(error.contains("DICOMDIR"), "{error}");
}

/// A CT slice left packed, as PACS exports and e-mailed studies come: each file is named
/// for what it is (not "not DICOM"), so that the reader knows the images are inside.
#[test]
fn archives_and_compressed_files_are_named_for_what_they_are() {
    use std::io::Write;

    let Some(slice) = ct_slice() else {
        return;
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("export/slice0050.dcm", stored).unwrap();
    zip.write_all(&slice).unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&slice).unwrap();
    let gzip = gzip.finish().unwrap();
    let signed = |signature: &[u8]| [signature, &slice].concat();
    let mut tar = vec![0; 512];
    tar[..14].copy_from_slice(b"slice0050.dcm\0");
    tar[257..263].copy_from_slice(b"ustar\0");
    tar.extend_from_slice(&slice);
    let cases = [
        (
            "ZIP",
            zip,
            "this is a ZIP archive, not a DICOM file: unpack it",
        ),
        (
            "gzip",
            gzip,
            "this is a gzip-compressed file, not a DICOM file",
        ),
        (
            "7-Zip",
            signed(b"7z\xbc\xaf\x27\x1c\x00\x04"),
            "this is a 7-Zip archive",
        ),
        (
            "RAR",
            signed(b"Rar!\x1a\x07\x01\x00"),
            "this is a RAR archive",
        ),
        ("tar", tar, "this is a tar archive"),
        (
            "xz",
            signed(b"\xfd7zXZ\x00"),
            "this is an xz-compressed file",
        ),
    ];
    for (label, bytes, expected) in cases {
        let error = error_of(&bytes);
        assert!(error.starts_with(expected), "{label}: {error}");
        assert_eq!(problem_with(label, &bytes), None);
    }
    // The slice itself still reads, and a ZIP's signature inside a DICOM file's preamble
    // (where anything may stand) changes nothing.
    let (report, _) = inspect_bytes("slice", &[b"PK\x03\x04", &slice[4..]].concat());
    assert_eq!(report.error, None);
}

#[test]
fn truncated_files_say_so() {
    let mut problems = Vec::new();
    let mut tried = 0;
    for source in TRUNCATED_SOURCES {
        let Some(path) = common::shared_dir(source) else {
            continue;
        };
        let bytes = common::read(&path);
        let (whole, _) = inspect_bytes(source, &bytes);
        assert!(
            whole.stored.is_some(),
            "{source} decodes when whole: {:?}",
            whole.error
        );
        for len in (0..bytes.len()).step_by(997) {
            tried += 1;
            let label = format!("{source} cut to {len} bytes");
            let (report, _) =
                match std::panic::catch_unwind(|| inspect_bytes(&label, &bytes[..len])) {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        problems.push(format!("{label}: panicked"));
                        continue;
                    }
                };
            problems.extend(problem_in_report(&label, &report));
            // A file cut inside its pixel data must not look complete.
            if len + 1024 < bytes.len() && report.stored.is_some() {
                problems.push(format!("{label}: decoded although cut short"));
            }
        }
    }
    assert_no_problems(problems, tried);
}

#[test]
fn corrupted_bytes_never_panic() {
    let mut problems = Vec::new();
    let mut tried = 0;
    for source in CORRUPTED_SOURCES {
        let Some(path) = common::shared_dir(source) else {
            continue;
        };
        let original = common::read(&path);
        // Dense over the header (first 1.5 kB), then spread over the rest of the file.
        let mut offsets: Vec<usize> = (0..1536).step_by(7).collect();
        offsets.extend((0..24).map(|i| 1536 + i * original.len().saturating_sub(1536) / 24));
        offsets.push(original.len() - 1);
        offsets.retain(|&at| at < original.len());
        offsets.dedup();
        let t = Instant::now();
        let n = offsets.len();
        for at in offsets {
            for flip in [0xFF, 0x80, 0x01] {
                let mut bytes = original.clone();
                bytes[at] ^= flip;
                tried += 1;
                problems.extend(problem_with(
                    &format!("{source} byte {at} ^ {flip:#04x}"),
                    &bytes,
                ));
            }
        }
        common::say(&format!("TIMING {source} {n} offsets {:?}", t.elapsed()));
    }
    assert_no_problems(problems, tried);
}

/// A damaged length field (or a damaged VR that turns a short length into a long one)
/// must be handled from the bytes at hand: the parser would otherwise reserve and
/// zero-fill the claimed length, gigabytes, before failing (half a minute per file).
#[test]
fn huge_length_fails_fast() {
    const HUGE: [u8; 4] = [0xFE, 0xFF, 0xFF, 0xF0];
    let Some(original) = ct_slice() else {
        return;
    };
    assert_eq!(&original[128..132], b"DICM");
    // (0002,0002) UI right after (0002,0001) OB: an unknown VR makes its 16-bit length
    // and the first value bytes read as reserved bytes and a 32-bit length (~775 MB).
    assert_eq!(&original[158..164], &[2, 0, 2, 0, b'U', b'I']);
    let mut meta = original.clone();
    meta[162..164].copy_from_slice(b"XX");
    // The first data set element, after the meta group (whose length is at 140),
    // rewritten as a long-form UN element that claims nearly 4 GB.
    let first = 144 + u32::from_le_bytes(original[140..144].try_into().unwrap()) as usize;
    assert_eq!(
        &original[first..first + 2],
        &[8, 0],
        "group 0008 follows the meta group"
    );
    let mut data_set = original.clone();
    data_set[first + 4..first + 8].copy_from_slice(&[b'U', b'N', 0, 0]);
    data_set[first + 8..first + 12].copy_from_slice(&HUGE);

    for (label, bytes, must_fail) in [
        ("meta group VR", meta, false),
        ("data set length", data_set, true),
    ] {
        let started = Instant::now();
        assert_eq!(problem_with(label, &bytes), None);
        let took = started.elapsed();
        // About a millisecond; unguarded, 1.5 s (meta group) and over 30 s (data set).
        assert!(took < Duration::from_secs(1), "{label}: took {took:?}");
        let (report, _) = inspect_bytes(label, &bytes);
        if must_fail {
            assert!(report.error.is_some(), "{label}: an error");
        }
    }
}

#[test]
fn a_frame_count_beyond_the_compressed_frames_is_refused_not_filled_with_zeros() {
    // Mutation testing found JPEG baseline and lossless files with NumberOfFrames raised
    // to 1,000 reported as decoded: 998 invented empty frames (2.5 GB, 9 s).
    for name in [
        "CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm",
        "CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm",
    ] {
        let Some(path) = common::shared_dir(&format!("data/dicom/cornerstone3d/{name}")) else {
            return;
        };
        let original = common::read(&path);
        // NumberOfFrames (0028,0008) IS "1000", put before Rows (0028,0010) in the
        // explicit little-endian data set (elements stay in tag order).
        let rows: [u8; 6] = [0x28, 0, 0x10, 0, b'U', b'S'];
        let at = original
            .windows(rows.len())
            .position(|w| w == rows)
            .expect("Rows in the file");
        let frames = [0x28, 0, 0x08, 0, b'I', b'S', 4, 0, b'1', b'0', b'0', b'0'];
        let bytes = [&original[..at], &frames[..], &original[at..]].concat();
        let started = Instant::now();
        let (report, _) = inspect_bytes(name, &bytes);
        assert!(report.stored.is_none(), "{name}: frames were invented");
        let error = report.error.expect("an error");
        assert!(error.contains("1000 frames"), "{name}: {error}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{name}: before decoding"
        );
    }
}

#[test]
fn an_rle_header_claiming_impossible_segments_is_refused_before_allocating() {
    // Mutation testing: 0xFFFFFFFF segments made the decoder ask for 17 GB and abort.
    let Some(path) = common::shared_dir("data/dicom/pydicom/MR_small_RLE.dcm") else {
        return;
    };
    let original = common::read(&path);
    let pixel_data = original
        .windows(4)
        .rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00])
        .expect("pixel data");
    // After the tag, VR OB, two reserved bytes and an undefined length: the offset
    // table item, then the first fragment, whose data begins with the segment count.
    let item = |at: usize| {
        assert_eq!(
            &original[at..at + 4],
            &[0xFE, 0xFF, 0x00, 0xE0],
            "an item at {at}"
        );
        u32::from_le_bytes(original[at + 4..at + 8].try_into().expect("4 bytes")) as usize
    };
    let table = pixel_data + 12;
    let fragment = table + 8 + item(table);
    item(fragment);
    let count = fragment + 8;
    assert_eq!(
        &original[count..count + 4],
        &[2, 0, 0, 0],
        "two segments (a 16-bit MR)"
    );
    for claim in [[0xFF; 4], [16, 0, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0]] {
        let mut bytes = original.clone();
        bytes[count..count + 4].copy_from_slice(&claim);
        let error = error_of(&bytes);
        assert!(error.contains("segments"), "{claim:?}: {error}");
    }
}

#[test]
fn sequences_nested_thousands_deep_are_refused_not_a_stack_overflow() {
    // Mutation testing: 50,000 nested sequences overflowed the stack in dicom-rs's
    // recursive reader, which aborts the program (natively) or the worker (browser).
    let Some(original) = ct_slice() else {
        return;
    };
    let limit = sarcoscope::dicom::MAX_SEQUENCE_DEPTH;
    for defined in [false, true] {
        let at_limit = common::nested_sequences(&original, limit, defined);
        let (report, _) = inspect_bytes("at the limit", &at_limit);
        assert_eq!(report.error, None, "defined lengths {defined}");
        let (plain, _) = inspect_bytes("plain", &original);
        assert_eq!(report.stored, plain.stored, "the image is read as before");
        for depth in [limit + 1, 50_000] {
            let error = error_of(&common::nested_sequences(&original, depth, defined));
            assert!(error.contains("nests sequences"), "{depth}: {error}");
            assert_eq!(common::plain_language_problem(&error), None);
        }
    }
}

#[test]
fn a_compressed_frame_claiming_more_pixels_than_the_header_is_refused_before_decoding() {
    // Mutation testing: a JPEG whose SOF claimed 32768 × 32768 had the decoder allocate
    // 1.2 GB before it failed. Each family's frame header, raised in a real file.
    let sources = [
        ("data/dicom/dicomparser/encapsulated/multi-frame/IM00001.fragmented_no_bot_jpeg_baseline.50.dcm", 240, 320),
        ("data/dicom/cornerstone3d/CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm", 512, 512),
        ("data/dicom/cornerstone3d/CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm", 512, 512),
        ("data/dicom/cornerstone3d/CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm", 512, 512),
    ];
    for (source, rows, columns) in sources {
        let Some(path) = common::shared_dir(source) else {
            return;
        };
        let original = common::read(&path);
        let (plain, _) = inspect_bytes("plain", &original);
        assert_eq!(plain.error, None, "{source} decodes as it is");
        let mut bytes = original.clone();
        let be16 = |b: &[u8], at: usize| usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
        let be32 = |b: &[u8], at: usize| {
            u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
        };
        let at = (0..original.len() - 24).find(|&i| {
            let b = &original;
            let sof = b[i] == 0xFF
                && matches!(b[i + 1], 0xC0 | 0xC1 | 0xC3 | 0xF7)
                && be16(b, i + 5) == rows
                && be16(b, i + 7) == columns;
            let siz = b[i..i + 4] == [0xFF, 0x4F, 0xFF, 0x51] && be32(b, i + 8) == columns;
            sof || siz
        });
        let at = at.unwrap_or_else(|| panic!("{source}: no frame header"));
        if original[at + 1] == 0x4F {
            bytes[at + 8..at + 16].copy_from_slice(&[0, 0, 0x80, 0, 0, 0, 0x80, 0]);
        } else {
            bytes[at + 5..at + 9].copy_from_slice(&[0x80, 0, 0x80, 0]);
        }
        let error = error_of(&bytes);
        assert!(
            error.contains(&format!(
                "claims 32768 × 32768 pixels where the header says {columns} × {rows}"
            )),
            "{source}: {error}"
        );
        assert_eq!(common::plain_language_problem(&error), None);
    }
}
