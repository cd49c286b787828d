//! One envelope for everything the page and its workers say to each other: the message
//! as JSON, the request it belongs to, and typed attachments beside it — file handles
//! (cloned, they are only handles) and files' bytes, voxel or label buffers (transferred,
//! never copied). The transfer list is decided here and nowhere else.

use js_sys::{Array, Int16Array, Object, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::File;

use sarcoscope::ingest::messages::RequestId;

/// A message and the request it answers or makes (`None` for "ready").
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<M> {
    pub request: Option<RequestId>,
    pub message: M,
}

/// What travels beside a message.
#[derive(Default)]
pub struct Attachments {
    pub files: Vec<File>,
    /// Files read whole by the page: an `ArrayBuffer` each, `null` where a file could not
    /// be read.
    pub buffers: Option<Array>,
    /// Hounsfield units: a slice, or a whole volume.
    pub hu: Option<Int16Array>,
    /// One tissue label per pixel.
    pub labels: Option<Uint8Array>,
    /// Other bytes: a model's weights.
    pub bytes: Option<Uint8Array>,
}

/// A message that arrived but could not be read, with the request it named if that
/// much could be read.
#[derive(Debug)]
pub struct Undecodable {
    pub request: Option<RequestId>,
    pub detail: String,
}

/// The value to post and the buffers to transfer with it.
pub fn pack<M: Serialize>(
    request: Option<RequestId>,
    message: M,
    attachments: Attachments,
) -> (JsValue, Array) {
    let envelope = Envelope { request, message };
    // Serialising plain data cannot fail; an empty object is refused on arrival.
    let json = serde_json::to_string(&envelope).unwrap_or_default();
    let object = Object::new();
    let transfer = Array::new();
    let _ = Reflect::set(&object, &"json".into(), &json.into());
    let files: Array = attachments.files.iter().collect();
    let _ = Reflect::set(&object, &"files".into(), &files);
    if let Some(buffers) = attachments.buffers {
        buffers
            .iter()
            .filter(|b| b.is_instance_of::<js_sys::ArrayBuffer>())
            .for_each(|b| {
                transfer.push(&b);
            });
        let _ = Reflect::set(&object, &"buffers".into(), &buffers);
    }
    if let Some(hu) = attachments.hu {
        transfer.push(&hu.buffer());
        let _ = Reflect::set(&object, &"hu".into(), &hu);
    }
    if let Some(labels) = attachments.labels {
        transfer.push(&labels.buffer());
        let _ = Reflect::set(&object, &"labels".into(), &labels);
    }
    if let Some(bytes) = attachments.bytes {
        transfer.push(&bytes.buffer());
        let _ = Reflect::set(&object, &"bytes".into(), &bytes);
    }
    (object.into(), transfer)
}

/// Reads what [`pack`] made.
pub fn unpack<M: DeserializeOwned>(
    data: &JsValue,
) -> Result<(Envelope<M>, Attachments), Undecodable> {
    let json = Reflect::get(data, &"json".into())
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| Undecodable {
            request: None,
            detail: "no message text".into(),
        })?;
    let envelope = serde_json::from_str::<Envelope<M>>(&json).map_err(|e| {
        #[derive(Deserialize)]
        struct JustTheRequest {
            request: Option<RequestId>,
        }
        Undecodable {
            request: serde_json::from_str::<JustTheRequest>(&json)
                .ok()
                .and_then(|r| r.request),
            detail: e.to_string(),
        }
    })?;
    let get = |key: &str| Reflect::get(data, &key.into()).ok();
    let files = get("files")
        .map(|v| {
            Array::from(&v)
                .iter()
                .filter_map(|f| f.dyn_into::<File>().ok())
                .collect()
        })
        .unwrap_or_default();
    let attachments = Attachments {
        files,
        buffers: get("buffers").and_then(|v| v.dyn_into::<Array>().ok()),
        hu: get("hu").and_then(|v| v.dyn_into::<Int16Array>().ok()),
        labels: get("labels").and_then(|v| v.dyn_into::<Uint8Array>().ok()),
        bytes: get("bytes").and_then(|v| v.dyn_into::<Uint8Array>().ok()),
    };
    Ok((envelope, attachments))
}
