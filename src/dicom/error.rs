//! What can go wrong with one file, worded for the person who dropped it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a file could not be read or its image decoded. Every variant is shown to users
/// as is, so each message says what happened in plain language and, where it helps,
/// what to do about it.
/// Serialisable, so the decoding worker hands the page the error itself, not its words.
#[derive(Debug, Error, Clone, PartialEq, Serialize, Deserialize)]
pub enum DicomError {
    #[error("not a DICOM file (no DICOM header was found); it was skipped")]
    NotDicom,
    #[error("this is a DICOMDIR index: it lists images but holds none; the images are read from the other files in the folder")]
    Dicomdir,
    /// An archive or a compressed file (a PACS export packed as ZIP, say), named for what
    /// it is: "not DICOM" would not tell the reader that the images are inside.
    #[error(
        "this is {what}, not a DICOM file: unpack it and choose the files it holds; it was skipped"
    )]
    Packed { what: String },
    #[error("the DICOM header could not be read ({0}); the file may be damaged or incomplete")]
    Unreadable(String),
    #[error("this file holds no image (for example a report, a plan or a structured document)")]
    NoPixelData,
    #[error("the file's header does not say how its pixels are encoded (no Transfer Syntax UID), so the image cannot be decoded safely")]
    NoTransferSyntax,
    #[error("the image is compressed as {name} ({uid}), which this tool cannot decode yet")]
    UnsupportedTransferSyntax { uid: String, name: String },
    #[error(
        "the file ends before its image is complete; it was probably cut short during copying"
    )]
    EndsEarly,
    #[error("the image is incomplete: {have} bytes of pixel data where {need} are needed; the file was probably cut short during copying")]
    Truncated { have: usize, need: usize },
    #[error("the {codec} image could not be decoded ({detail}); the file may be damaged")]
    Decode {
        codec: Cow<'static, str>,
        detail: String,
    },
    #[error("the image layout is not supported: {0}")]
    UnsupportedLayout(String),
    /// A decoder (ours or a dependency's) panicked; `detail` is where and why, for a
    /// report upstream.
    #[error(
        "the decoder failed unexpectedly on this file ({detail}); the file is probably damaged"
    )]
    DecoderFault { detail: String },
    #[error("the file nests sequences more than {limit} levels deep, which no real DICOM object does; it is refused as damaged")]
    NestedTooDeep { limit: usize },
}

impl DicomError {
    /// Whether the file is worth naming in an archive's run: damaged DICOM, or images
    /// packed in an archive that were not read — unlike a file that is not DICOM at all
    /// (a report, a note) or a DICOMDIR index, which any archive may hold.
    pub fn is_worth_naming(&self) -> bool {
        !matches!(self, DicomError::NotDicom | DicomError::Dicomdir)
    }
}
