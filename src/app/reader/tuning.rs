//! The page's side of fine-tuning: the readers' masks of the last agreement run go to a
//! segmentation worker of their own (so that stopping a run, which ends that worker,
//! touches no other view), which cross-validates and trains on them and answers a new
//! model card and weights. The page shows every step, and the cross-validated figures
//! before and after, read from the card itself.

use std::rc::Rc;

use js_sys::{Int16Array, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::envelope::{pack, unpack, Attachments};
use crate::lazy_worker::{Handlers, LazyWorker};
use crate::model_choice::ModelChoice;
use crate::segment::messages::{
    FineTuneSettings, FromSegmenter, SiteCaseHeader, ToSegmenter, TrainingProgress,
};
use sarcoscope::ingest::messages::RequestId;

/// A model fine-tuned here: its card (JSON) and weights.
#[derive(Clone)]
pub struct Tuned {
    pub card: String,
    pub weights: Rc<Vec<u8>>,
}

impl Tuned {
    fn card_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.card).unwrap_or_default()
    }

    /// The model's name as its files are named.
    pub fn name(&self) -> String {
        self.card_value()["name"]
            .as_str()
            .unwrap_or("site-model")
            .to_owned()
    }

    /// "name version, weights SHA-256 …".
    pub fn describe(&self) -> String {
        let card = self.card_value();
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        format!(
            "{} {}, weights SHA-256 {}",
            text(&card["name"]),
            text(&card["version"]),
            text(&card["weights"]["sha256"])
        )
    }

    /// The cross-validation's method and its pooled figures per tissue.
    pub fn figures(&self) -> (String, Vec<TissueFigures>) {
        let card = self.card_value();
        let cv = &card["validation"]["site_cross_validation"];
        let method = cv["method"].as_str().unwrap_or_default().to_owned();
        let rows = cv["after"]
            .as_object()
            .map(|after| {
                after
                    .iter()
                    .map(|(tissue, a)| {
                        let b = &cv["before"][tissue];
                        TissueFigures {
                            tissue: tissue.clone(),
                            slices: a["slices"].as_u64().unwrap_or_default(),
                            dice: (b["dice"].as_f64(), a["dice"].as_f64()),
                            area_error: (
                                b["area_error_percent"].as_f64(),
                                a["area_error_percent"].as_f64(),
                            ),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        (method, rows)
    }
}

/// One tissue's cross-validated figures, (before, after).
pub struct TissueFigures {
    pub tissue: String,
    pub slices: u64,
    pub dice: (Option<f64>, Option<f64>),
    /// Area error, % of the reader's area.
    pub area_error: (Option<f64>, Option<f64>),
}

#[derive(Clone, Copy)]
pub struct TuningState {
    pub running: RwSignal<bool>,
    pub progress: RwSignal<Option<TrainingProgress>>,
    pub status: RwSignal<String>,
    pub tuned: RwSignal<Option<Tuned>, LocalStorage>,
}

struct Inner {
    worker: LazyWorker,
    request: u32,
}

#[derive(Clone, Copy)]
pub struct Tuning {
    pub state: TuningState,
    model: ModelChoice,
    inner: StoredValue<Inner, LocalStorage>,
}

impl Tuning {
    pub fn new(model: ModelChoice) -> Tuning {
        let this = Tuning {
            state: TuningState {
                running: RwSignal::new(false),
                progress: RwSignal::new(None),
                status: RwSignal::new(String::new()),
                tuned: RwSignal::new_local(None),
            },
            model,
            inner: StoredValue::new_local(Inner {
                worker: LazyWorker::with_preamble(
                    "./sarcoscope-segmenter_loader.js",
                    Rc::new(model),
                ),
                request: 0,
            }),
        };
        this.inner.update_value(|i| {
            i.worker.connect(Handlers::new(
                move |data| this.on_message(data),
                move |detail| {
                    this.finish(format!(
                        "The fine-tuning stopped unexpectedly ({detail}); nothing else was lost."
                    ))
                },
            ))
        });
        this
    }

    /// Fine-tunes the model in use on `cases` (header, HU, labels); `not_used` masks could
    /// not be placed.
    pub fn start(
        &self,
        cases: Vec<(SiteCaseHeader, Vec<i16>, Vec<u8>)>,
        not_used: usize,
        settings: FineTuneSettings,
    ) {
        let s = self.state;
        let mut headers = Vec::with_capacity(cases.len());
        let mut hu = Vec::new();
        let mut labels = Vec::new();
        for (header, h, l) in cases {
            headers.push(header);
            hu.extend(h);
            labels.extend(l);
        }
        s.tuned.set(None);
        s.progress.set(None);
        s.running.set(true);
        s.status.set(format!(
            "Fine-tuning on {} readers' masks: {} folds, then the model to keep…",
            headers.len(),
            settings.folds
        ));
        let message = ToSegmenter::FineTune {
            cases: headers,
            settings,
            not_used,
        };
        let attachments = Attachments {
            hu: Some(Int16Array::from(hu.as_slice())),
            labels: Some(Uint8Array::from(labels.as_slice())),
            ..Attachments::default()
        };
        let posted = self.inner.try_update_value(|i| {
            i.request += 1;
            let (value, transfer) = pack(Some(RequestId(i.request)), message, attachments);
            i.worker.post(value, transfer)
        });
        if posted != Some(true) {
            self.finish("The browser could not start the worker that trains.".into());
        }
    }

    /// Stops the run at once (its worker ends); the model in use is untouched.
    pub fn stop(&self) {
        self.inner.update_value(|i| {
            i.worker.stop(true);
            i.request += 1;
        });
        self.finish(
            "Fine-tuning stopped; nothing was kept and the model in use is unchanged.".into(),
        );
    }

    fn finish(&self, said: String) {
        self.state.running.set(false);
        self.state.status.set(said);
    }

    fn on_message(&self, data: &JsValue) {
        let Ok((envelope, attachments)) = unpack::<FromSegmenter>(data) else {
            return;
        };
        if let FromSegmenter::Ready = envelope.message {
            self.inner.update_value(|i| i.worker.ready());
            return;
        }
        let current = self
            .inner
            .with_value(|i| envelope.request == Some(RequestId(i.request)));
        let s = self.state;
        match envelope.message {
            FromSegmenter::Training(progress) if current => s.progress.set(Some(progress)),
            FromSegmenter::FineTuned { card } if current => {
                let weights = attachments.bytes.map(|b| b.to_vec()).unwrap_or_default();
                let tuned = Tuned {
                    card,
                    weights: Rc::new(weights),
                };
                self.finish(format!(
                    "Fine-tuned: {}. Its figures below are cross-validated; download it, or use it in this browser.",
                    tuned.describe()
                ));
                s.tuned.set(Some(tuned));
            }
            FromSegmenter::Failed { message } if current => {
                self.finish(format!("Fine-tuning failed: {message}"))
            }
            FromSegmenter::ModelRefused {
                message,
                generation,
            } if self.model.is_current(generation) => {
                self.finish(format!(
                    "The model to start from was refused: {message}"
                ))
            }
            FromSegmenter::Refused { detail } => self.finish(format!(
                "Internal error: the worker could not read the page's request ({detail}). Reload the page."
            )),
            _ => {}
        }
    }
}
