//! Saving a file the page made: a Blob and a temporary link, nothing sent anywhere.

use wasm_bindgen::{JsCast, JsValue};

fn save(name: &str, mime: &str, parts: &js_sys::Array) -> Result<(), JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &options)?;
    save_blob(name, &blob)
}

/// Saves `blob` as a download (a Blob of files on disk is read from there as it goes).
pub fn save_blob(name: &str, blob: &web_sys::Blob) -> Result<(), JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}

pub fn save_text(name: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    save_bytes(name, mime, text.as_bytes())
}

pub fn save_bytes(name: &str, mime: &str, bytes: &[u8]) -> Result<(), JsValue> {
    let array = js_sys::Uint8Array::from(bytes);
    save(name, mime, &js_sys::Array::of1(&array))
}

/// A file made in the page (a joined table handed to another view), never saved anywhere.
pub fn text_file(name: &str, mime: &str, text: &str) -> Result<web_sys::File, JsValue> {
    let options = web_sys::FilePropertyBag::new();
    options.set_type(mime);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(text.as_bytes()));
    web_sys::File::new_with_u8_array_sequence_and_options(&parts, name, &options)
}
