//! The segmentation model this browser runs: the shipped one, or one a site chose — a
//! model made by `sarcoscope train --labels`, or fine-tuned on this page. The choice is
//! kept in the browser's database (a reload keeps it; nothing leaves the computer),
//! checked by its SHA-256 before it is kept and again by every worker that loads it, and
//! named with every mask it makes. Every segmentation worker is told the model before
//! its first request and whenever the choice changes ([`Preamble`]).

use std::rc::Rc;

use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::envelope::{pack, Attachments};
use crate::lazy_worker::Preamble;
use crate::segment::messages::ToSegmenter;
use crate::store;

/// The key of the chosen model in the browser's database.
const KEPT: &str = "chosen-model";

/// A chosen model as the page names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenModel {
    pub name: String,
    pub version: String,
    pub sha256: String,
    /// The whole card (JSON), sent to the workers and offered for download.
    pub card: String,
}

impl ChosenModel {
    /// The card's name, version and weights' SHA-256, if `weights` are the ones it names.
    fn check(card: &str, weights: &[u8]) -> Result<ChosenModel, String> {
        let value: serde_json::Value =
            serde_json::from_str(card).map_err(|e| format!("the model card is not JSON ({e})"))?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        if text(&value["format"]).as_deref() != Some("sarcoscope-model/1") {
            return Err(
                "the file is not a Sarcoscope model card (format sarcoscope-model/1)".into(),
            );
        }
        let (Some(name), Some(version), Some(sha256)) = (
            text(&value["name"]),
            text(&value["version"]),
            text(&value["weights"]["sha256"]),
        ) else {
            return Err("the model card names no model, version or weights".into());
        };
        let actual = sarcoscope::digest::sha256_hex(weights);
        if actual != sha256 {
            return Err(format!(
                "the weights are not the ones the card names (their SHA-256 is {}…, the card's {}…): choose the .weights file made with this card",
                actual.get(..12).unwrap_or_default(),
                sha256.get(..12).unwrap_or_default()
            ));
        }
        Ok(ChosenModel {
            name,
            version,
            sha256,
            card: card.to_owned(),
        })
    }
}

/// The page's model choice (`Copy`, like a signal).
#[derive(Clone, Copy)]
pub struct ModelChoice {
    pub chosen: RwSignal<Option<ChosenModel>>,
    /// What the last choice did, in words (kept, refused and why).
    pub said: RwSignal<String>,
    weights: StoredValue<Option<Rc<Vec<u8>>>, LocalStorage>,
    generation: StoredValue<u32>,
}

impl ModelChoice {
    /// The choice, restored from the browser's database when one is kept.
    pub fn new() -> ModelChoice {
        let this = ModelChoice {
            chosen: RwSignal::new(None),
            said: RwSignal::new(String::new()),
            weights: StoredValue::new_local(None),
            generation: StoredValue::new(0),
        };
        wasm_bindgen_futures::spawn_local(async move {
            let Some(kept) = store::load_value(KEPT).await else {
                return;
            };
            let card = Reflect::get(&kept, &"card".into())
                .ok()
                .and_then(|c| c.as_string());
            let weights = Reflect::get(&kept, &"weights".into())
                .ok()
                .and_then(|w| w.dyn_into::<Uint8Array>().ok())
                .map(|w| w.to_vec());
            let restored = match (card, weights) {
                (Some(card), Some(weights)) => {
                    ChosenModel::check(&card, &weights).map(|model| (model, weights))
                }
                _ => Err("it is incomplete".into()),
            };
            match restored {
                Ok((model, weights)) => this.set(Some((model, weights))),
                Err(why) => this.said.set(format!(
                    "The model chosen earlier in this browser could not be restored ({why}); the shipped model is used."
                )),
            }
        });
        this
    }

    fn set(&self, chosen: Option<(ChosenModel, Vec<u8>)>) {
        let (model, weights) = chosen.map_or((None, None), |(m, w)| (Some(m), Some(Rc::new(w))));
        self.weights.set_value(weights);
        self.generation.update_value(|g| *g = g.wrapping_add(1));
        self.chosen.set(model);
    }

    /// Uses `card` and `weights` from now on in every view, and keeps them in this browser.
    pub async fn choose(&self, card: String, weights: Vec<u8>) -> Result<ChosenModel, String> {
        let model = ChosenModel::check(&card, &weights)?;
        let record = Object::new();
        let _ = Reflect::set(&record, &"card".into(), &card.as_str().into());
        let _ = Reflect::set(
            &record,
            &"weights".into(),
            &Uint8Array::from(weights.as_slice()),
        );
        let kept = store::save_value(KEPT, record.into()).await;
        self.set(Some((model.clone(), weights)));
        self.said.set(match kept {
            Ok(()) => format!(
                "{} {} is used for every segmentation in this browser from now on (weights SHA-256 {}…).",
                model.name,
                model.version,
                model.sha256.get(..12).unwrap_or_default()
            ),
            Err(_) => format!(
                "{} {} is used until this page is closed: the browser's database would not keep it.",
                model.name, model.version
            ),
        });
        Ok(model)
    }

    /// Uses the model card and weights among `files` (a `.json` and a `.weights`).
    pub async fn choose_files(&self, files: Vec<File>) {
        let find = |ending: &str| files.iter().find(|f| f.name().ends_with(ending)).cloned();
        let (Some(card), Some(weights)) = (find(".json"), find(".weights")) else {
            self.said.set(
                "Choose both files of a model: its card (.json) and its weights (.weights).".into(),
            );
            return;
        };
        let card = crate::picked::text_of(&card).await;
        let weights = match JsFuture::from(weights.array_buffer()).await {
            Ok(buffer) => Ok(Uint8Array::new(&buffer).to_vec()),
            Err(_) => Err(format!(
                "{}: the browser could not read the file",
                weights.name()
            )),
        };
        let chosen = match (card, weights) {
            (Ok(card), Ok(weights)) => self.choose(card, weights).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        if let Err(why) = chosen {
            self.said.set(format!(
                "That model was not chosen: {why}. The model in use stays."
            ));
        }
    }

    /// Goes back to the shipped model at once, and says so once the browser's database
    /// has forgotten the chosen one (before that, a reload would bring it back).
    pub async fn forget(&self) {
        self.set(None);
        self.said.set(match store::forget_json(KEPT).await {
            Ok(()) => "The shipped model is used from now on.".into(),
            Err(_) => "The shipped model is used until this page is closed: the browser's database would not forget the chosen model, which may come back after a reload.".into(),
        });
    }

    /// Whether a worker's answer about the model of choice `generation` concerns the
    /// model chosen now: the refusal of a model chosen before must not overwrite what a
    /// newer choice said. (The generation travels in the message, not as its request id,
    /// which each client numbers for its own requests.)
    pub fn is_current(&self, generation: u32) -> bool {
        generation == self.generation.get_value()
    }

    /// A worker told of a model it refused (a damaged or incompatible card); ignored when
    /// another model has been chosen since.
    pub fn refused(&self, generation: u32, message: &str) {
        if self.is_current(generation) {
            self.said.set(format!(
                "The segmentation worker refused the chosen model: {message}. It runs the model it had."
            ));
        }
    }
}

impl Preamble for ModelChoice {
    fn generation(&self) -> u32 {
        self.generation.get_value()
    }

    fn message(&self) -> (JsValue, Array) {
        let card = self
            .chosen
            .with_untracked(|c| c.as_ref().map(|c| c.card.clone()));
        let bytes = card
            .as_ref()
            .and(self.weights.get_value())
            .map(|w| Uint8Array::from(w.as_slice()));
        pack(
            None,
            ToSegmenter::UseModel {
                card,
                generation: self.generation(),
            },
            Attachments {
                bytes,
                ..Attachments::default()
            },
        )
    }
}
