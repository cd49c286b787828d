//! Transfer syntaxes: their names as people know them, and which decoder handles each.

use serde::{Deserialize, Serialize};

/// Which code path decodes a transfer syntax's pixel data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decoder {
    /// Uncompressed (little/big endian, deflated): read as stored.
    Native,
    /// dicom-rs codecs: RLE, JPEG 8-bit and lossless, JPEG 2000 and High-Throughput
    /// JPEG 2000 (pure-Rust openjp2, whose port of OpenJPEG 2.5 includes the HT block
    /// decoder).
    DicomRs,
    /// JPEG-LS through the pure-Rust `pure_jpegls` crate (CharLS cannot build for wasm).
    JpegLs,
    /// JPEG extended, process 2/4; 12-bit samples go to our own decoder.
    JpegExtended,
    Unsupported,
}

pub struct SyntaxInfo {
    pub name: &'static str,
    pub lossy: bool,
    pub decoder: Decoder,
}

/// Looks a transfer syntax UID up; unknown UIDs are reported as unsupported by name.
pub fn info(uid: &str) -> SyntaxInfo {
    use Decoder::*;
    let (name, lossy, decoder) = match uid {
        "1.2.840.10008.1.2" => ("Implicit VR Little Endian", false, Native),
        "1.2.840.10008.1.2.1" => ("Explicit VR Little Endian", false, Native),
        "1.2.840.10008.1.2.1.99" => ("Deflated Explicit VR Little Endian", false, Native),
        "1.2.840.10008.1.2.2" => ("Explicit VR Big Endian", false, Native),
        "1.2.840.10008.1.2.5" => ("RLE Lossless", false, DicomRs),
        "1.2.840.10008.1.2.4.50" => ("JPEG Baseline (8-bit)", true, DicomRs),
        "1.2.840.10008.1.2.4.51" => ("JPEG Extended (12-bit)", true, JpegExtended),
        "1.2.840.10008.1.2.4.53" => ("JPEG Spectral Selection (process 6/8)", true, Unsupported),
        "1.2.840.10008.1.2.4.55" => ("JPEG Full Progression (process 10/12)", true, Unsupported),
        "1.2.840.10008.1.2.4.57" => ("JPEG Lossless (process 14)", false, DicomRs),
        "1.2.840.10008.1.2.4.70" => ("JPEG Lossless SV1", false, DicomRs),
        "1.2.840.10008.1.2.4.80" => ("JPEG-LS Lossless", false, JpegLs),
        "1.2.840.10008.1.2.4.81" => ("JPEG-LS Near-Lossless", true, JpegLs),
        "1.2.840.10008.1.2.4.90" => ("JPEG 2000 Lossless", false, DicomRs),
        "1.2.840.10008.1.2.4.91" => ("JPEG 2000", true, DicomRs),
        "1.2.840.10008.1.2.4.201" => ("HTJ2K Lossless", false, DicomRs),
        "1.2.840.10008.1.2.4.202" => ("HTJ2K Lossless RPCL", false, DicomRs),
        "1.2.840.10008.1.2.4.203" => ("HTJ2K", true, DicomRs),
        "1.2.840.10008.1.2.4.100" | "1.2.840.10008.1.2.4.101" => {
            ("MPEG-2 video", true, Unsupported)
        }
        "1.2.840.10008.1.2.4.102" | "1.2.840.10008.1.2.4.103" => {
            ("MPEG-4 video", true, Unsupported)
        }
        _ => ("an unknown transfer syntax", false, Unsupported),
    };
    SyntaxInfo {
        name,
        lossy,
        decoder,
    }
}
