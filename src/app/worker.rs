//! The decoding worker: reads files with `FileReaderSync` (synchronous, allowed in
//! workers), parses headers, decodes series into HU volumes, and reports each step.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

use super::protocol::{files_of, FromWorker, ToWorker};
use crate::dicom::{self, DicomError, Instance};
use crate::inspect::{self, FileReport};
use crate::l3;
use crate::phantom::{Phantom, PhantomParams};
use crate::volume;

pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle(&reply_scope, &event.data());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&scope, &FromWorker::Ready, None);
}

fn handle(scope: &DedicatedWorkerGlobalScope, data: &JsValue) {
    let Some(json) = Reflect::get(data, &"json".into())
        .ok()
        .and_then(|v| v.as_string())
    else {
        return;
    };
    let files = files_of(data);
    match serde_json::from_str::<ToWorker>(&json) {
        Ok(ToWorker::Headers { first }) => read_headers(scope, &files, first),
        Ok(ToWorker::Volume {
            series,
            instances,
            skip,
        }) => decode_volume(scope, &files, &series, &instances, &skip),
        Ok(ToWorker::Inspect { first, names }) => inspect_files(scope, &files, first, &names),
        Ok(ToWorker::Demo) => make_demo(scope),
        Err(e) => post(
            scope,
            &FromWorker::VolumeFailed {
                message: format!("internal message error: {e}"),
            },
            None,
        ),
    }
}

fn read_headers(scope: &DedicatedWorkerGlobalScope, files: &[File], first: usize) {
    for (offset, file) in files.iter().enumerate() {
        let index = first + offset;
        post(scope, &FromWorker::Reading { index }, None);
        let result = read_header(file).map(Box::new).map_err(|e| e.to_string());
        post(scope, &FromWorker::Header { index, result }, None);
    }
    post(scope, &FromWorker::HeadersDone, None);
}

fn inspect_files(
    scope: &DedicatedWorkerGlobalScope,
    files: &[File],
    first: usize,
    names: &[String],
) {
    for (offset, file) in files.iter().enumerate() {
        let index = first + offset;
        post(scope, &FromWorker::Reading { index }, None);
        let name = names.get(offset).cloned().unwrap_or_else(|| file.name());
        let report = match read_file(file) {
            Ok(bytes) => inspect::inspect_bytes(&name, &bytes).0,
            Err(e) => FileReport {
                file: name,
                error: Some(e.to_string()),
                ..Default::default()
            },
        };
        post(
            scope,
            &FromWorker::Report {
                index,
                report: Box::new(report),
            },
            None,
        );
    }
    post(scope, &FromWorker::InspectDone, None);
}

fn decode_volume(
    scope: &DedicatedWorkerGlobalScope,
    files: &[File],
    series: &dicom::series::Series,
    instances: &[Instance],
    skip: &[usize],
) {
    let loaded = volume::load(
        series,
        instances,
        |i| {
            if skip.contains(&i) {
                return Err(DicomError::DecoderFault);
            }
            post(scope, &FromWorker::Reading { index: i }, None);
            files
                .get(i)
                .ok_or_else(|| {
                    DicomError::Unreadable(
                        "internal error: the file was not passed to the worker".into(),
                    )
                })
                .and_then(|f| read_file(f))
        },
        |done, total| post(scope, &FromWorker::Progress { done, total }, None),
    );
    match loaded {
        Ok((vol, failures)) => {
            let started = js_sys::Date::now();
            let level = Box::new(l3::locate(&vol));
            let level_ms = js_sys::Date::now() - started;
            let buffer = js_sys::Int16Array::from(vol.hu.as_slice()).buffer();
            let failures = failures
                .into_iter()
                .map(|f| (f.file, f.error.to_string()))
                .collect();
            post(
                scope,
                &FromWorker::Volume {
                    header: Box::new(vol.header),
                    failures,
                    level,
                    level_ms,
                },
                Some(buffer.into()),
            );
        }
        Err(error) => post(
            scope,
            &FromWorker::VolumeFailed {
                message: error.to_string(),
            },
            None,
        ),
    }
}

/// A large file's header is read from its first bytes only; small files, and headers
/// that do not fit, are read whole (which also catches files cut short).
fn read_header(file: &File) -> Result<Instance, DicomError> {
    if file.size() > dicom::HEADER_PREFIX_BYTES as f64 {
        let prefix = file
            .slice_with_f64_and_f64(0.0, dicom::HEADER_PREFIX_BYTES as f64)
            .ok()
            .and_then(|blob| read_file(&blob).ok());
        if let Some(instance) = prefix.and_then(|p| dicom::read_instance_from_prefix(&p)) {
            return Ok(instance);
        }
    }
    read_file(file).and_then(|bytes| dicom::read_instance(&bytes))
}

fn read_file(file: &Blob) -> Result<Vec<u8>, DicomError> {
    let reader = FileReaderSync::new()
        .map_err(|_| DicomError::Unreadable("the browser could not read the file".into()))?;
    let buffer = reader.read_as_array_buffer(file).map_err(|_| {
        DicomError::Unreadable(
            "the browser could not read the file (was it moved or deleted?)".into(),
        )
    })?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The demo case: the default phantom (an average adult, see `phantom`) written as a
/// DICOM series, handed to the page as files so it takes the same path as real ones.
fn make_demo(scope: &DedicatedWorkerGlobalScope) {
    let phantom = Phantom::generate(&PhantomParams::default());
    let made = phantom
        .dicom_files()
        .map_err(|e| e.to_string())
        .and_then(|files| {
            let array = Array::new();
            let mut names = Vec::with_capacity(files.len());
            for (k, bytes) in files.iter().enumerate() {
                let name = format!("sarcoscope-demo/slice{k:04}.dcm");
                let parts = Array::of1(&Uint8Array::from(bytes.as_slice()));
                let file = File::new_with_u8_array_sequence(&parts, &name)
                    .map_err(|_| "the browser could not make the demo files".to_string())?;
                array.push(&file);
                names.push(name);
            }
            Ok((array, names))
        });
    match made {
        Ok((files, names)) => {
            let Ok(json) = serde_json::to_string(&FromWorker::DemoFiles { names }) else {
                return;
            };
            let object = Object::new();
            let _ = Reflect::set(&object, &"json".into(), &json.into());
            let _ = Reflect::set(&object, &"files".into(), &files);
            let _ = scope.post_message(&object);
        }
        Err(message) => post(scope, &FromWorker::DemoFailed { message }, None),
    }
}

fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker, buffer: Option<JsValue>) {
    let Ok(json) = serde_json::to_string(message) else {
        return;
    };
    let object = Object::new();
    let _ = Reflect::set(&object, &"json".into(), &json.into());
    match buffer {
        Some(buffer) => {
            let _ = Reflect::set(&object, &"buffer".into(), &buffer);
            let _ = scope.post_message_with_transfer(&object, &Array::of1(&buffer));
        }
        None => {
            let _ = scope.post_message(&object);
        }
    }
}
