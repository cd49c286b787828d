//! Files the user picked in a file input, and a small file's text: what every view's
//! "Choose…" button needs. The input is cleared, so picking the same file again (after
//! correcting it) is seen as a new choice.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, HtmlInputElement};

/// The files of the input that raised `ev`, the input cleared.
pub fn picked_files(ev: &leptos::ev::Event) -> Vec<File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = input
        .files()
        .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
        .unwrap_or_default();
    input.set_value("");
    files
}

/// The whole text of a small file (a model file, a report), or why not, naming it.
pub async fn text_of(file: &File) -> Result<String, String> {
    JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| format!("{}: the browser could not read the file", file.name()))
}
