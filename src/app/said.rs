//! What the browser said of a call that failed, in its own words: an `Error` or
//! `DOMException` (its message), a thrown string, or nothing usable.

use wasm_bindgen::{JsCast, JsValue};

pub fn said(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "the browser gave no reason".into())
}
