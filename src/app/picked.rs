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

/// The files of a folder input (`webkitdirectory`) that raised `ev`, each with its path
/// under the chosen folder (as `sarcoscope` names files under a folder it is given); the
/// input cleared.
pub fn picked_folder(ev: &leptos::ev::Event) -> (Vec<File>, Vec<String>) {
    let files = picked_files(ev);
    let names = files
        .iter()
        .map(|f| {
            let path = js_sys::Reflect::get(f, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| f.name());
            path.split_once('/')
                .map_or(path.clone(), |(_, rest)| rest.to_owned())
        })
        .collect();
    (files, names)
}

/// The whole text of a small file (a model file, a report), or why not, naming it.
pub async fn text_of(file: &File) -> Result<String, String> {
    JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| format!("{}: the browser could not read the file", file.name()))
}
