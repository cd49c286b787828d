//! Messages between the page and the decoding worker. The structured part travels as
//! JSON; File handles and voxel buffers travel beside it as JS values (files are
//! cloned handles, voxel buffers are transferred, never copied).

use serde::{Deserialize, Serialize};

use crate::dicom::series::Series;
use crate::dicom::Instance;
use crate::inspect::FileReport;
use crate::l3::L3Result;
use crate::volume::VolumeHeader;

#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// Read the headers of the files sent alongside; `first` is the page's index of the
    /// first of them (so results keep their place after a worker restart).
    Headers { first: usize },
    /// Decode `series` (its slices refer to the files sent alongside, 0-based, whose
    /// headers are `instances`), leaving out the files in `skip`: a decoder stopped on
    /// them before.
    Volume {
        series: Box<Series>,
        instances: Vec<Instance>,
        skip: Vec<usize>,
    },
    /// Decode every file sent alongside completely and report on each (the same report
    /// as `sarcoscope inspect --json`); `names[i]` names file `first + i`.
    Inspect { first: usize, names: Vec<String> },
    /// Make the demo case: a synthetic CT series written as DICOM files.
    Demo,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's module has started; messages sent before this would be lost.
    Ready,
    /// The worker is about to read file `index` (so a crash can be pinned on it).
    Reading {
        index: usize,
    },
    Header {
        index: usize,
        result: Result<Box<Instance>, String>,
    },
    HeadersDone,
    Progress {
        done: usize,
        total: usize,
    },
    /// The voxels (i16 HU) are the message's buffer; `failures` are (file, message);
    /// `level` is the automatic L3 search on the decoded volume, which took `level_ms`.
    Volume {
        header: Box<VolumeHeader>,
        failures: Vec<(usize, String)>,
        level: Box<L3Result>,
        level_ms: f64,
    },
    VolumeFailed {
        message: String,
    },
    Report {
        index: usize,
        report: Box<FileReport>,
    },
    InspectDone,
    /// The demo case's files travel as the message's `files`, named `names`.
    DemoFiles {
        names: Vec<String>,
    },
    DemoFailed {
        message: String,
    },
}

/// The File handles a message carries beside its JSON (either direction).
pub fn files_of(message: &wasm_bindgen::JsValue) -> Vec<web_sys::File> {
    use wasm_bindgen::JsCast;
    js_sys::Reflect::get(message, &"files".into())
        .map(|v| {
            js_sys::Array::from(&v)
                .iter()
                .filter_map(|f| f.dyn_into::<web_sys::File>().ok())
                .collect()
        })
        .unwrap_or_default()
}
