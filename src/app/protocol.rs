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

/// Which path ran the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    WebGpu,
    Cpu,
}

/// Page to segmentation worker. The slice's HU travel beside the JSON as `hu`
/// (an Int16Array).
#[derive(Debug, Serialize, Deserialize)]
pub enum ToSegmenter {
    Segment {
        /// Echoed in the answer, so an answer to an older request can be told apart.
        request: u32,
        /// The volume slice the HU come from (echoed).
        slice: usize,
        columns: usize,
        rows: usize,
        pixel_spacing: [f64; 2],
        /// Run on the CPU even when WebGPU is there (for comparison).
        force_cpu: bool,
    },
}

/// What a finished segmentation says besides its mask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationReport {
    pub request: u32,
    pub slice: usize,
    pub backend: Backend,
    /// Why the CPU ran, when it did.
    pub why_cpu: Option<String>,
    /// The WebGPU adapter, when WebGPU ran.
    pub adapter: Option<String>,
    pub model: String,
    pub model_sha256: String,
    /// Fetching, verifying and building the model (first use only).
    pub load_ms: f64,
    /// Pre-processing, network and post-processing.
    pub segment_ms: f64,
}

/// Segmentation worker to page. `Done` carries the label map as `labels` (a
/// Uint8Array, one TissueClass label per pixel).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromSegmenter {
    Ready,
    Done(Box<SegmentationReport>),
    Failed { request: u32, message: String },
}

/// Starts the worker module whose loader is at `url`, sending its messages to
/// `on_message` and a crash (an uncaught error, a WebAssembly abort) to `on_crash`.
pub fn spawn_worker(
    url: &str,
    on_message: fn(&wasm_bindgen::JsValue),
    on_crash: fn(&str),
) -> Option<web_sys::Worker> {
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{ErrorEvent, MessageEvent};
    let worker = web_sys::Worker::new(url).ok()?;
    let message =
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| on_message(&e.data()));
    worker.set_onmessage(Some(message.as_ref().unchecked_ref()));
    message.forget();
    let error = Closure::<dyn FnMut(ErrorEvent)>::new(move |e: ErrorEvent| on_crash(&e.message()));
    worker.set_onerror(Some(error.as_ref().unchecked_ref()));
    error.forget();
    Some(worker)
}
