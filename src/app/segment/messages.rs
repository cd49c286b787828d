//! What the page and the segmentation worker say to each other. The slice's HU travel
//! beside the request and the mask's labels beside the answer (`envelope`).

use serde::{Deserialize, Serialize};

use sarcoscope::report::SegmentationFacts;
use sarcoscope::segment::LeftOut;

/// Which path ran the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    WebGpu,
    Cpu,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ToSegmenter {
    /// Segment the attached HU of volume slice `slice` (echoed in the answer).
    Segment {
        slice: usize,
        columns: usize,
        rows: usize,
        pixel_spacing: [f64; 2],
        /// Run on the CPU even when WebGPU is there (for comparison).
        force_cpu: bool,
    },
    /// Run this model from now on: a card (JSON) with its weights attached (`bytes`),
    /// or `None` for the shipped model. Sent before anything else to every new worker.
    UseModel {
        card: Option<String>,
        /// The page's count of model choices, echoed in a refusal so that the page can
        /// tell a refusal of an older choice from one of the choice it shows.
        generation: u32,
    },
    /// Fine-tune the model in use on these readers' masks: each case's HU and labels are
    /// attached one after another (`hu`, `labels`), in this order.
    FineTune {
        cases: Vec<SiteCaseHeader>,
        settings: FineTuneSettings,
        /// Masks the comparison could not place (counted in the card, not sent).
        not_used: usize,
    },
}

/// One reader's mask for fine-tuning, as the page sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteCaseHeader {
    pub name: String,
    pub series: String,
    pub z_mm: Option<f64>,
    pub columns: usize,
    pub rows: usize,
    pub pixel_spacing: [f64; 2],
}

/// What the person chose for a fine-tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FineTuneSettings {
    pub name: String,
    pub folds: usize,
    /// Steps per training (each fold's and the final one).
    pub steps: usize,
    pub seed: u64,
    /// Train on the CPU even when WebGPU is there.
    pub force_cpu: bool,
}

/// Where a fine-tuning run is, for the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainingProgress {
    /// The fold being trained or tested (from 1); `None` for the final model.
    pub fold: Option<usize>,
    pub folds: usize,
    /// Steps done of this training; `None` while a fold's model is tested.
    pub step: Option<usize>,
    pub steps: usize,
    pub loss: Option<f64>,
    /// It trains on WebGPU (else on the CPU).
    pub on_gpu: bool,
}

impl TrainingProgress {
    /// Share of the whole run done (k folds and the final model, alike in length).
    pub fn fraction(&self) -> f64 {
        let trainings = (self.folds + 1) as f64;
        let index = self.fold.map_or(self.folds, |f| f.saturating_sub(1)) as f64;
        let within = match self.step {
            Some(step) => (step + 1) as f64 / self.steps.max(1) as f64,
            None => 1.0,
        };
        ((index + within) / trainings).clamp(0.0, 1.0)
    }

    pub fn describe(&self) -> String {
        let place = if self.on_gpu { "WebGPU" } else { "the CPU" };
        match (self.fold, self.step) {
            (Some(fold), Some(step)) => format!(
                "Cross-validation: fold {fold} of {}, step {} of {} on {place}{}",
                self.folds,
                step + 1,
                self.steps,
                self.loss.map_or(String::new(), |l| format!(" (loss {l:.3})"))
            ),
            (Some(fold), None) => format!(
                "Cross-validation: testing fold {fold} of {} (the model before and after, on the fold's own cases)",
                self.folds
            ),
            (None, step) => format!(
                "The model to keep, on every case: step {} of {} on {place}{}",
                step.map_or(self.steps, |s| s + 1),
                self.steps,
                self.loss.map_or(String::new(), |l| format!(" (loss {l:.3})"))
            ),
        }
    }
}

/// What a finished segmentation says besides its mask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationReport {
    pub slice: usize,
    pub backend: Backend,
    /// Why the CPU ran, when it did.
    pub why_cpu: Option<String>,
    /// The WebGPU adapter, when WebGPU ran.
    pub adapter: Option<String>,
    pub model: String,
    pub model_sha256: String,
    /// The model was chosen in this browser (a site's), not the one shipped.
    #[serde(default)]
    pub chosen_model: bool,
    /// Fetching, verifying and building the model (first use only).
    pub load_ms: f64,
    /// Pre-processing, network and post-processing.
    pub segment_ms: f64,
    /// Arms and objects beside the trunk, left out before and after the network.
    pub left_out: LeftOut,
}

impl SegmentationReport {
    /// Which path ran, in words — the one description the panel, the report and the
    /// CSV use: "WebGPU (adapter)" or "CPU".
    pub fn path(&self) -> String {
        match self.backend {
            Backend::WebGpu => format!(
                "WebGPU ({})",
                self.adapter
                    .as_deref()
                    .unwrap_or("this computer's graphics processor")
            ),
            Backend::Cpu => "CPU".into(),
        }
    }

    /// What a report (and a cohort row) says of the mask: the model, its weights' seal
    /// and the path that ran, and whether and how much a person changed it.
    pub fn facts(&self, reviewed: bool, edited_pixels: usize) -> SegmentationFacts {
        SegmentationFacts {
            model: self.model.clone(),
            model_sha256: self.model_sha256.clone(),
            path: self.path(),
            reviewed,
            edited_pixels,
            left_out: self.left_out.clone(),
        }
    }
}

/// The answer; `Done` has the label map attached (one TissueClass label per pixel).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromSegmenter {
    Ready,
    Done(Box<SegmentationReport>),
    Failed {
        message: String,
    },
    /// The worker could not read the request; `detail` says why.
    Refused {
        detail: String,
    },
    /// The model asked for by `UseModel` cannot be used; the one before stays.
    ModelRefused {
        message: String,
        /// That of the `UseModel` refused.
        generation: u32,
    },
    Training(TrainingProgress),
    /// The fine-tuned model: its card (JSON, with the cross-validated figures) here and
    /// its weights attached (`bytes`).
    FineTuned {
        card: String,
    },
}
