//! JPEG-LS (lossless .80 and near-lossless .81) through the pure-Rust `pure_jpegls`
//! crate: CharLS, which dicom-rs uses, is C++ and cannot be built for the browser.

use crate::dicom::DicomError;

/// Decodes one single-component frame to unsigned samples, checking its size.
pub fn decode(codestream: &[u8], columns: u32, rows: u32) -> Result<Vec<u16>, DicomError> {
    let (samples, width, height) =
        jpegls::decode(codestream, columns, rows).map_err(|e| DicomError::Decode {
            codec: "JPEG-LS".into(),
            detail: e.to_string(),
        })?;
    if width != columns || height != rows || samples.len() != (rows as usize) * (columns as usize) {
        return Err(DicomError::Decode {
            codec: "JPEG-LS".into(),
            detail: format!("the stream is {width}×{height}, the header says {columns}×{rows}"),
        });
    }
    Ok(samples)
}
