//! The browser's folder picker (Chromium's `showDirectoryPicker`): the chosen folder's
//! handle is kept with the run in this browser (IndexedDB), so that after a reload the
//! run goes on from the same folder with one click and the user's permission, instead of
//! the folder being looked for again.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::File;

use crate::said::said;
use crate::store;

#[wasm_bindgen(module = "/js/disk.js")]
extern "C" {
    #[wasm_bindgen(js_name = canPickFolder)]
    fn can_pick_folder() -> bool;
    #[wasm_bindgen(catch, js_name = pickFolder)]
    async fn pick_folder() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = mayRead)]
    async fn may_read(handle: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = filesOf)]
    async fn files_of(handle: &JsValue) -> Result<JsValue, JsValue>;
}

/// The kept handle's key in the browser's database.
const KEPT: &str = "cohort-folder";

/// A folder chosen with the picker: its handle, and every file below it with its path.
pub struct Chosen {
    pub handle: JsValue,
    pub files: Vec<File>,
    pub names: Vec<String>,
}

pub fn can_pick() -> bool {
    can_pick_folder()
}

/// The folder the user picks; `Ok(None)` when they cancel the picker.
pub async fn pick() -> Result<Option<Chosen>, String> {
    match pick_folder().await {
        Ok(handle) => read(handle).await.map(Some),
        Err(e)
            if Reflect::get(&e, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .as_deref()
                == Some("AbortError") =>
        {
            Ok(None)
        }
        Err(e) => Err(said(e)),
    }
}

/// Every file below `handle`'s folder, once the user allows reading it.
pub async fn read(handle: JsValue) -> Result<Chosen, String> {
    let allowed = may_read(&handle).await.map_err(said)?;
    if allowed.as_bool() != Some(true) {
        return Err("reading the folder was not allowed".into());
    }
    let found = files_of(&handle).await.map_err(said)?;
    let list = |key: &str| Array::from(&Reflect::get(&found, &key.into()).unwrap_or_default());
    let files = list("files")
        .iter()
        .filter_map(|f| f.dyn_into().ok())
        .collect();
    let names = list("names").iter().filter_map(|n| n.as_string()).collect();
    Ok(Chosen {
        handle,
        files,
        names,
    })
}

/// The folder's name, as the page shows it.
pub fn name(handle: &JsValue) -> String {
    Reflect::get(handle, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default()
}

pub async fn keep(handle: JsValue) -> Result<(), String> {
    store::save_value(KEPT, handle).await.map_err(said)
}

pub async fn kept() -> Option<JsValue> {
    store::load_value(KEPT).await
}

pub async fn forget() {
    let _ = store::forget_json(KEPT).await;
}
