//! Running a model on a slice: prepare on the CPU, score on the model's device, finish
//! on the CPU. Split in three so the browser can await the device between the steps.

use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use crate::unet::UNet;
use crate::{ModelCard, ModelError};
use sarcoscope::segment::grid::{self, Placement};
use sarcoscope::segment::{
    AxialSlice, Cleanup, HuWindows, LeftOut, TissueClass, TissueMask, Trunk,
};

/// What happens after the network; defaults are the Alberta windows and
/// [`Cleanup::default`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PostProcess {
    pub windows: HuWindows,
    pub cleanup: Cleanup,
}

/// A model ready to run on one device.
#[derive(Debug)]
pub struct Segmenter {
    pub card: ModelCard,
    model: UNet,
    device: Device,
}

/// A slice on the model grid, with where it came from.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub placement: Placement,
    pub input: Vec<f32>,
    /// The network sees the trunk alone; its answer outside the trunk is dropped too.
    pub trunk: Trunk,
}

/// A finished segmentation: the mask, and what was left out beside the trunk.
#[derive(Debug, Clone)]
pub struct Segmentation {
    pub mask: TissueMask,
    pub left_out: LeftOut,
}

impl Segmenter {
    pub fn new(card: ModelCard, weights: &[u8], device: Device) -> Result<Segmenter, ModelError> {
        let model = card.load(weights, &device)?;
        Ok(Segmenter {
            card,
            model,
            device,
        })
    }

    /// Wraps a network already in memory (during training and evaluation).
    pub fn from_network(card: ModelCard, model: UNet, device: Device) -> Segmenter {
        Segmenter {
            card,
            model,
            device,
        }
    }

    pub fn prepare(&self, slice: &AxialSlice) -> Prepared {
        let spec = &self.card.input;
        let trunk = Trunk::find(slice);
        let hu = trunk.only_trunk(slice.hu);
        let trunk_only = AxialSlice { hu: &hu, ..*slice };
        let placement = Placement::on_body(&trunk_only, spec);
        let input = grid::to_model_grid(&trunk_only, spec, &placement);
        Prepared {
            placement,
            input,
            trunk,
        }
    }

    /// Class scores on the model grid, still on the device.
    pub fn scores(&self, prepared: &Prepared) -> Tensor<4> {
        let size = self.card.input.size;
        let data = TensorData::new(prepared.input.clone(), [1, 1, size, size]);
        self.model.forward(Tensor::from_data(data, &self.device))
    }

    /// The final mask from the scores read back from the device.
    pub fn finish(
        &self,
        scores: &[f32],
        prepared: &Prepared,
        slice: &AxialSlice,
        post: &PostProcess,
    ) -> Segmentation {
        let labels = grid::to_slice_labels(
            scores,
            TissueClass::COUNT,
            &prepared.placement,
            slice.columns,
            slice.rows,
        );
        let mut mask = TissueMask::from_labels(slice.columns, slice.rows, labels)
            .unwrap_or_else(|| TissueMask::empty(slice.columns, slice.rows));
        for i in 0..slice.hu.len() {
            if !prepared.trunk.contains(i) {
                mask.set(i, TissueClass::Background);
            }
        }
        post.cleanup.apply(
            &mut mask,
            slice.pixel_spacing[0].0 * slice.pixel_spacing[1].0,
        );
        post.windows.apply(&mut mask, slice.hu);
        Segmentation {
            mask,
            left_out: prepared.trunk.left_out.clone(),
        }
    }

    /// All three steps, reading back synchronously (native only; the browser awaits).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn segment(&self, slice: &AxialSlice, post: &PostProcess) -> Segmentation {
        let prepared = self.prepare(slice);
        let scores = self
            .scores(&prepared)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        self.finish(&scores, &prepared, slice, post)
    }

    pub async fn segment_async(
        &self,
        slice: &AxialSlice<'_>,
        post: &PostProcess,
    ) -> Result<Segmentation, ModelError> {
        let prepared = self.prepare(slice);
        let data = self
            .scores(&prepared)
            .into_data_async()
            .await
            .map_err(|e| ModelError::Device(format!("{e:?}")))?;
        let scores = data
            .try_to_vec::<f32>()
            .map_err(|e| ModelError::Device(format!("{e:?}")))?;
        Ok(self.finish(&scores, &prepared, slice, post))
    }
}
