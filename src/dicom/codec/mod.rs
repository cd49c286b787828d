//! Codecs dicom-rs has no pure-Rust path for, and the splitting of encapsulated pixel
//! data into frames that they need.

pub mod fragments;
pub mod frame_size;
pub mod jpeg_extended;
pub mod jpeg_ls;
