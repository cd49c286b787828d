//! A cohort's masks kept on this browser's disk (`js/disk.js`), two files per measured
//! study — written as the run goes, replaced when a reader corrects the study — and the
//! ZIP of them all made as a `Blob` of those files with the ZIP's headers between them:
//! the browser streams it to the download from disk, so memory does not grow with the
//! cohort (each file passes through memory once, alone, for its checksum).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::said::said;
use sarcoscope::batch::masks::MaskFiles;
use sarcoscope::zip::{self, Entry};

#[wasm_bindgen(module = "/js/disk.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = keepFile)]
    async fn keep_file(folder: &str, name: &str, bytes: Uint8Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = listFiles)]
    async fn list_files(folder: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = forgetFolder)]
    async fn forget_folder(folder: &str) -> Result<JsValue, JsValue>;
}

const FOLDER: &str = "cohort-masks";

/// Keeps study `code`'s mask files (replacing any kept before).
pub async fn keep(code: &str, masks: &MaskFiles) -> Result<(), String> {
    for (name, bytes) in masks.named(code) {
        keep_file(FOLDER, &name, Uint8Array::from(bytes))
            .await
            .map_err(said)?;
    }
    Ok(())
}

/// Deletes every kept mask (a new run, or the run forgotten).
pub async fn forget() -> Result<(), String> {
    forget_folder(FOLDER).await.map(drop).map_err(said)
}

/// The ZIP of every kept mask, and the names of the files in it.
pub async fn zip() -> Result<(web_sys::Blob, Vec<String>), String> {
    let files: Vec<File> = Array::from(&list_files(FOLDER).await.map_err(said)?)
        .iter()
        .filter_map(|f| f.dyn_into().ok())
        .collect();
    let mut entries = Vec::with_capacity(files.len());
    for file in &files {
        let bytes = JsFuture::from(file.array_buffer()).await.map_err(said)?;
        entries.push(Entry::of(&file.name(), &Uint8Array::new(&bytes).to_vec()));
    }
    let frame = zip::stored(&entries).map_err(|e| e.to_string())?;
    let parts = Array::new();
    for (header, file) in frame.headers.iter().zip(&files) {
        parts.push(&Uint8Array::from(header.as_slice()));
        parts.push(file);
    }
    parts.push(&Uint8Array::from(frame.end.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/zip");
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(said)?;
    Ok((blob, entries.into_iter().map(|e| e.name).collect()))
}
