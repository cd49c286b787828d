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
}
