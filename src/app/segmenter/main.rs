//! The segmentation worker: loads the model (the shipped one from this origin, SHA-256
//! checked, kept in the browser's Cache Storage, or the one the page says was chosen),
//! runs it on WebGPU when the browser offers an adapter and on the CPU otherwise, and
//! answers with the mask, the measurements, which path ran and how long it took. It
//! also fine-tunes the model on a site's masks (cross-validated first), reporting every
//! step; the page stops a run by ending the worker. A module of its own, so the page and the decoder never wait for
//! the network's code to download — and a crate of its own, so that only this module
//! carries Burn (the page's crate, `sarcoscope-web`, does not depend on the network).

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::rc::Rc;

use burn::prelude::Device;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

use sarcoscope::ingest::messages::RequestId;
use sarcoscope::segment::site::SiteCase;
use sarcoscope::segment::{AxialSlice, TissueMask};
use sarcoscope::units::Millimetres;
use sarcoscope_network::finetune::{self, Progress, SiteSummary};
use sarcoscope_network::model::{self, Packaged, Provenance};
use sarcoscope_network::train::TrainConfig;
use sarcoscope_network::{ModelCard, ModelError, PostProcess, Segmenter};
use sarcoscope_web::envelope::{pack, unpack, Attachments};
use sarcoscope_web::segment::messages::{
    Backend, FineTuneSettings, FromSegmenter, SegmentationReport, SiteCaseHeader, ToSegmenter,
    TrainingProgress,
};

/// The model on each path, made on first use.
#[derive(Default)]
struct Models {
    /// The verified card and weights, shared (not copied) by every request.
    card: Option<Rc<(ModelCard, Vec<u8>)>>,
    /// The card is the one the page chose, not the shipped one.
    chosen: bool,
    gpu: Option<Rc<Segmenter>>,
    /// The WebGPU device, made once (segmenting and training share it).
    gpu_device: Option<Device>,
    /// What the WebGPU adapter is, as the panel names it.
    gpu_adapter: Option<String>,
    /// Set once WebGPU was tried and is not available (why, in words).
    gpu_missing: Option<String>,
    cpu: Option<Rc<Segmenter>>,
}

thread_local! {
    static MODELS: RefCell<Models> = RefCell::new(Models::default());
}

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let scope = reply_scope.clone();
        let data = event.data();
        wasm_bindgen_futures::spawn_local(async move { handle(&scope, &data).await });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&scope, None, FromSegmenter::Ready, Attachments::default());
}

async fn handle(scope: &DedicatedWorkerGlobalScope, data: &JsValue) {
    let (envelope, attachments) = match unpack::<ToSegmenter>(data) {
        Ok(received) => received,
        Err(e) => {
            web_sys::console::error_1(
                &format!("segmentation worker: unreadable request: {e:?}").into(),
            );
            let refused = FromSegmenter::Refused { detail: e.detail };
            post(scope, e.request, refused, Attachments::default());
            return;
        }
    };
    let request = envelope.request;
    let (columns, rows, pixel_spacing, slice, force_cpu) = match envelope.message {
        ToSegmenter::Segment {
            columns,
            rows,
            pixel_spacing,
            slice,
            force_cpu,
        } => (columns, rows, pixel_spacing, slice, force_cpu),
        ToSegmenter::UseModel { card, generation } => {
            let weights = attachments.bytes.map(|b| b.to_vec());
            if let Err(e) = use_model(card, weights) {
                let refused = FromSegmenter::ModelRefused {
                    message: e.to_string(),
                    generation,
                };
                post(scope, request, refused, Attachments::default());
            }
            return;
        }
        ToSegmenter::FineTune {
            cases,
            settings,
            not_used,
        } => {
            let hu = attachments.hu.map(|a| a.to_vec()).unwrap_or_default();
            let labels = attachments.labels.map(|a| a.to_vec()).unwrap_or_default();
            let site = Site {
                headers: &cases,
                hu: &hu,
                labels: &labels,
                not_used,
            };
            let answer = match fine_tune(scope, request, &site, &settings).await {
                Ok((card, weights)) => {
                    let bytes = Attachments {
                        bytes: Some(Uint8Array::from(weights.as_slice())),
                        ..Attachments::default()
                    };
                    post(scope, request, FromSegmenter::FineTuned { card }, bytes);
                    return;
                }
                Err(message) => FromSegmenter::Failed { message },
            };
            post(scope, request, answer, Attachments::default());
            return;
        }
    };
    let hu = attachments.hu.map(|a| a.to_vec()).unwrap_or_default();
    let input = Input {
        slice,
        hu: &hu,
        columns,
        rows,
        pixel_spacing,
        force_cpu,
    };
    match segment(scope, &input).await {
        Ok((labels, done)) => {
            let labels = Attachments {
                labels: Some(Uint8Array::from(labels.as_slice())),
                ..Attachments::default()
            };
            post(scope, request, done, labels);
        }
        Err(message) => post(
            scope,
            request,
            FromSegmenter::Failed { message },
            Attachments::default(),
        ),
    }
}

/// One request, as received.
struct Input<'a> {
    slice: usize,
    hu: &'a [i16],
    columns: usize,
    rows: usize,
    pixel_spacing: [f64; 2],
    force_cpu: bool,
}

async fn segment(
    scope: &DedicatedWorkerGlobalScope,
    input: &Input<'_>,
) -> Result<(Vec<u8>, FromSegmenter), String> {
    let force_cpu = input.force_cpu;
    let slice = AxialSlice::new(
        input.hu,
        input.columns,
        input.rows,
        input.pixel_spacing.map(Millimetres),
    )
    .map_err(|e| e.to_string())?;
    let started = js_sys::Date::now();
    let (segmenter, backend) = model(scope, force_cpu).await.map_err(|e| e.to_string())?;
    let loaded = js_sys::Date::now();
    let post_process = PostProcess::default();
    let (segmentation, backend) = match segmenter.segment_async(&slice, &post_process).await {
        Ok(segmentation) => (segmentation, backend),
        Err(e) if backend != Backend::Cpu => {
            // WebGPU failed mid-way (a lost device, a driver limit): the CPU still can.
            let (cpu, _) = model(scope, true).await.map_err(|e| e.to_string())?;
            let segmentation = cpu
                .segment_async(&slice, &post_process)
                .await
                .map_err(|e| e.to_string())?;
            MODELS.with(|m| m.borrow_mut().gpu_missing = Some(e.to_string()));
            (segmentation, Backend::Cpu)
        }
        Err(e) => return Err(e.to_string()),
    };
    let finished = js_sys::Date::now();
    let (gpu_missing, gpu_adapter) = MODELS.with(|m| {
        (
            m.borrow().gpu_missing.clone(),
            m.borrow().gpu_adapter.clone(),
        )
    });
    let done = FromSegmenter::Done(Box::new(SegmentationReport {
        slice: input.slice,
        backend,
        why_cpu: if backend == Backend::Cpu {
            Some(if force_cpu {
                "CPU chosen".to_owned()
            } else {
                gpu_missing.unwrap_or_else(|| "WebGPU not available".into())
            })
        } else {
            None
        },
        adapter: (backend == Backend::WebGpu)
            .then_some(gpu_adapter)
            .flatten(),
        model: format!("{} {}", segmenter.card.name, segmenter.card.version),
        model_sha256: segmenter.card.weights.sha256.clone(),
        chosen_model: MODELS.with(|m| m.borrow().chosen),
        load_ms: loaded - started,
        segment_ms: finished - loaded,
        left_out: segmentation.left_out,
    }));
    Ok((segmentation.mask.labels().to_vec(), done))
}

/// The adapter in words: a software one (SwiftShader, for instance) is named as such,
/// because it is slower than the CPU path and the reader should know.
fn describe(info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> String {
    let name = info.name.trim();
    let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu;
    match (software, name.is_empty()) {
        (true, true) => "a software adapter, slower than the CPU path".to_owned(),
        (true, false) => format!("a software adapter, {name}, slower than the CPU path"),
        (false, true) => "this computer's graphics processor".to_owned(),
        (false, false) => name.to_owned(),
    }
}

/// Runs `card` with `weights` from now on (`None`: the shipped model, fetched when next
/// needed); a card that cannot be used leaves the model in use as it was.
fn use_model(card: Option<String>, weights: Option<Vec<u8>>) -> Result<(), ModelError> {
    let files = match card {
        Some(card) => {
            let card = ModelCard::parse(card.as_bytes())?;
            let weights = weights.unwrap_or_default();
            let actual = sarcoscope::digest::sha256_hex(&weights);
            if actual != card.weights.sha256 {
                return Err(ModelError::Checksum {
                    expected: card.weights.sha256,
                    actual,
                });
            }
            Some(Rc::new((card, weights)))
        }
        None => None,
    };
    MODELS.with(|m| {
        let mut m = m.borrow_mut();
        m.chosen = files.is_some();
        m.card = files;
        m.gpu = None;
        m.cpu = None;
    });
    Ok(())
}

/// The card and weights in use (the shipped model's fetched on first use).
async fn model_files(
    scope: &DedicatedWorkerGlobalScope,
) -> Result<Rc<(ModelCard, Vec<u8>)>, ModelError> {
    if let Some(files) = MODELS.with(|m| m.borrow().card.clone()) {
        return Ok(files);
    }
    let files = Rc::new(fetch_model(scope).await?);
    MODELS.with(|m| m.borrow_mut().card = Some(files.clone()));
    Ok(files)
}

/// The WebGPU device, made on first use; `None` (and why, kept) when there is none.
async fn gpu_device() -> Option<Device> {
    if MODELS.with(|m| m.borrow().gpu_missing.is_some()) {
        return None;
    }
    if let Some(device) = MODELS.with(|m| m.borrow().gpu_device.clone()) {
        return Some(device);
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let adapter = describe(&setup.adapter.get_info());
            MODELS.with(|m| {
                let mut m = m.borrow_mut();
                m.gpu_device = Some(device.clone());
                m.gpu_adapter = Some(adapter);
            });
            Some(device)
        }
        Err(e) => {
            // Said plainly on the panel; the backend's own words go to the console.
            web_sys::console::warn_1(&format!("WebGPU: {e}").into());
            MODELS.with(|m| {
                m.borrow_mut().gpu_missing =
                    Some("WebGPU not available: this browser offers the page no graphics adapter, so the CPU is used".into())
            });
            None
        }
    }
}

/// The model on WebGPU (unless `force_cpu` or no adapter), else on the CPU.
async fn model(
    scope: &DedicatedWorkerGlobalScope,
    force_cpu: bool,
) -> Result<(Rc<Segmenter>, Backend), ModelError> {
    let files = model_files(scope).await?;
    let (card, weights) = &*files;
    if !force_cpu {
        if let Some(gpu) = MODELS.with(|m| m.borrow().gpu.clone()) {
            return Ok((gpu, Backend::WebGpu));
        }
        if let Some(device) = gpu_device().await {
            let gpu = Rc::new(Segmenter::new(card.clone(), weights, device)?);
            MODELS.with(|m| m.borrow_mut().gpu = Some(gpu.clone()));
            return Ok((gpu, Backend::WebGpu));
        }
    }
    if let Some(cpu) = MODELS.with(|m| m.borrow().cpu.clone()) {
        return Ok((cpu, Backend::Cpu));
    }
    let cpu = Rc::new(Segmenter::new(card.clone(), weights, Device::flex())?);
    MODELS.with(|m| m.borrow_mut().cpu = Some(cpu.clone()));
    Ok((cpu, Backend::Cpu))
}

/// A fine-tuning request's masks: each case's header, and their HU and labels one case
/// after another.
#[derive(Clone, Copy)]
struct Site<'a> {
    headers: &'a [SiteCaseHeader],
    hu: &'a [i16],
    labels: &'a [u8],
    /// Masks the comparison could not place.
    not_used: usize,
}

/// Fine-tunes the model in use on the readers' masks of the request (cross-validated
/// first), telling the page every step; answers the new model's card and weights.
async fn fine_tune(
    scope: &DedicatedWorkerGlobalScope,
    request: Option<RequestId>,
    site: &Site<'_>,
    settings: &FineTuneSettings,
) -> Result<(String, Vec<u8>), String> {
    let Site {
        headers,
        hu,
        labels,
        not_used,
    } = *site;
    let mut cases = Vec::with_capacity(headers.len());
    let mut at = 0;
    for h in headers {
        let pixels = h.columns * h.rows;
        let (Some(hu), Some(labels)) = (hu.get(at..at + pixels), labels.get(at..at + pixels))
        else {
            return Err(format!(
                "the slice or the mask of {} did not arrive whole",
                h.name
            ));
        };
        at += pixels;
        let slice = AxialSlice::new(hu, h.columns, h.rows, h.pixel_spacing.map(Millimetres))
            .map_err(|e| format!("{}: {e}", h.name))?;
        let mask = TissueMask::from_labels(h.columns, h.rows, labels.to_vec())
            .ok_or_else(|| format!("the mask of {} has labels other than 0–4", h.name))?;
        cases.push(SiteCase::new(
            h.name.clone(),
            h.series.clone(),
            h.z_mm,
            &mask,
            &slice,
        ));
    }
    let files = model_files(scope).await.map_err(|e| e.to_string())?;
    let (card, weights) = &*files;
    let gpu = if settings.force_cpu {
        None
    } else {
        gpu_device().await
    };
    let on_gpu = gpu.is_some();
    let device_name = match &gpu {
        Some(_) => format!(
            "WebGPU ({}) in the browser",
            MODELS
                .with(|m| m.borrow().gpu_adapter.clone())
                .unwrap_or_default()
        ),
        None => "CPU (Burn flex) in the browser".to_owned(),
    };
    let device = gpu.unwrap_or_else(Device::flex);
    let config = TrainConfig {
        seed: settings.seed,
        steps: settings.steps,
        ..TrainConfig::fine_tune()
    };
    let tuned = finetune::fine_tune(
        &config,
        settings.folds,
        &cases,
        (card, weights),
        &device,
        &device_name,
        |progress| {
            let progress = match progress {
                Progress::Fold {
                    fold,
                    folds,
                    step,
                    steps,
                    loss,
                } => TrainingProgress {
                    fold: Some(fold),
                    folds,
                    step: Some(step),
                    steps,
                    loss: Some(loss),
                    on_gpu,
                },
                Progress::Testing { fold, folds } => TrainingProgress {
                    fold: Some(fold),
                    folds,
                    step: None,
                    steps: config.steps,
                    loss: None,
                    on_gpu,
                },
                Progress::Final { step, steps, loss } => TrainingProgress {
                    fold: None,
                    folds: settings.folds,
                    step: Some(step),
                    steps,
                    loss: Some(loss),
                    on_gpu,
                },
            };
            post(
                scope,
                request,
                FromSegmenter::Training(progress),
                Attachments::default(),
            );
            ControlFlow::Continue(())
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let summary = SiteSummary::of(&cases, not_used, &config, card);
    let Packaged {
        card: mut made,
        weights: made_weights,
    } = model::package(
        &tuned.network,
        Provenance {
            name: &settings.name,
            config: &config,
            start: Some(card),
            training: serde_json::json!({
                "command": format!("fine-tuned in the browser by Sarcoscope {} (Reader study: fine-tune on the readers' masks)", env!("CARGO_PKG_VERSION")),
                "config": config,
                "log": tuned.log,
                "data": summary.data,
            }),
            limitations: summary.limitations,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    made.validation = serde_json::json!({ "site_cross_validation": tuned.validation });
    let text = serde_json::to_string_pretty(&made).map_err(|e| e.to_string())?;
    Ok((text, made_weights))
}

/// The card, then the weights it names, from this origin. Verified weights are kept in
/// Cache Storage under their SHA-256, so a second visit reads them locally; a cached
/// copy is checked again before use.
async fn fetch_model(
    scope: &DedicatedWorkerGlobalScope,
) -> Result<(ModelCard, Vec<u8>), ModelError> {
    // Trunk copies `models/` next to the page.
    let card_url = format!("models/{}.json", sarcoscope::segment::DEFAULT_MODEL);
    let card_bytes = fetch_bytes(scope, &card_url).await?;
    let card = ModelCard::parse(&card_bytes)?;
    let url = format!(
        "models/{}?sha256={}",
        card.weights.file, card.weights.sha256
    );
    // Cache Storage exists only in secure contexts (https, or http on loopback).
    let caches = Reflect::get(scope, &"caches".into())
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::CacheStorage>().ok());
    let cache = match caches {
        Some(caches) => JsFuture::from(caches.open("sarcoscope-models"))
            .await
            .ok()
            .and_then(|c| c.dyn_into::<web_sys::Cache>().ok()),
        None => None,
    };
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(&url)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                if let Ok(bytes) = response_bytes(&response).await {
                    if sarcoscope::digest::sha256_hex(&bytes) == card.weights.sha256 {
                        return Ok((card, bytes));
                    }
                }
            }
        }
    }
    let weights = fetch_bytes(scope, &format!("models/{}", card.weights.file)).await?;
    let actual = sarcoscope::digest::sha256_hex(&weights);
    if actual != card.weights.sha256 {
        return Err(ModelError::Checksum {
            expected: card.weights.sha256,
            actual,
        });
    }
    if let Some(cache) = &cache {
        let body = Uint8Array::from(weights.as_slice());
        if let Ok(response) = Response::new_with_opt_buffer_source(Some(&body)) {
            let _ = JsFuture::from(cache.put_with_str(&url, &response)).await;
        }
    }
    Ok((card, weights))
}

async fn fetch_bytes(scope: &DedicatedWorkerGlobalScope, url: &str) -> Result<Vec<u8>, ModelError> {
    let fail = |what: String| ModelError::Fetch(format!("{url}: {what}"));
    let response = JsFuture::from(scope.fetch_with_str(url))
        .await
        .map_err(|e| fail(format!("{e:?}")))?
        .dyn_into::<Response>()
        .map_err(|_| fail("not a response".into()))?;
    if !response.ok() {
        return Err(fail(format!(
            "the server answered {} (is the models/ folder missing from the build?)",
            response.status()
        )));
    }
    response_bytes(&response).await.map_err(fail)
}

async fn response_bytes(response: &Response) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn post(
    scope: &DedicatedWorkerGlobalScope,
    request: Option<RequestId>,
    message: FromSegmenter,
    attachments: Attachments,
) {
    let (value, transfer) = pack(request, message, attachments);
    let _ = scope.post_message_with_transfer(&value, &transfer);
}
