//! Headers read from the first 64 KiB of a large file (as the browser does, to avoid
//! reading every image twice) must equal headers read from the whole file.

mod common;

use sarcoscope::dicom::{read_instance, read_instance_from_prefix, HEADER_PREFIX_BYTES};

#[test]
fn prefix_headers_equal_whole_file_headers() {
    let Some(corpus) = common::shared_dir("data/dicom") else {
        return;
    };
    let mut compared = 0;
    for name in [
        "cornerstone3d/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm",
        "cornerstone3d/CTImage.dcm_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm",
        "cornerstone3d/CTImage.dcm_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm",
        "cornerstone3d/CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm",
        "dicomparser/encapsulated/multi-frame/CT0012.not_fragmented_bot_rle.dcm",
    ] {
        let bytes = std::fs::read(corpus.join(name)).expect("corpus file");
        assert!(
            bytes.len() > HEADER_PREFIX_BYTES,
            "{name} is meant to be large"
        );
        let whole = read_instance(&bytes).expect("whole file");
        let from_prefix = read_instance_from_prefix(&bytes[..HEADER_PREFIX_BYTES])
            .unwrap_or_else(|| panic!("{name}: header not found in the prefix"));
        assert_eq!(from_prefix, whole, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 5);
}

#[test]
fn a_prefix_without_the_pixel_data_tag_is_not_trusted() {
    let Some(corpus) = common::shared_dir("data/dicom") else {
        return;
    };
    // Deflated: the data set, pixel data tag included, is compressed.
    let bytes = std::fs::read(corpus.join(
        "cornerstone3d/CTImage.dcm_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm",
    ))
    .expect("corpus file");
    let cut = bytes.len().min(HEADER_PREFIX_BYTES) / 2;
    assert_eq!(read_instance_from_prefix(&bytes[..cut]), None);
    // A text file.
    assert_eq!(read_instance_from_prefix(b"not a DICOM file at all"), None);
}
