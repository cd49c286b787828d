//! The segmentation network: a small 2-D U-Net (Ronneberger et al., MICCAI 2015) sized
//! for the browser.
//!
//! Written once against Burn's backend-independent tensors: the same module runs on
//! WebGPU, on the pure-Rust CPU backend, and under autodiff for training; the device a
//! model is created on decides which. Without normalisation layers: their statistics
//! would differ between the crops it is trained on and the whole slices it is run on.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

/// The shape of the network, stored in the model card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// Always "unet"; a card naming anything else is refused.
    pub kind: ArchitectureKind,
    /// Feature maps at full resolution; doubled at each level down.
    pub base_channels: usize,
    /// Resolution levels including the bottom one (3 to 5).
    pub levels: usize,
    pub in_channels: usize,
    pub classes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchitectureKind {
    Unet,
}

impl Architecture {
    pub const DEFAULT: Architecture = Architecture {
        kind: ArchitectureKind::Unet,
        base_channels: 16,
        levels: 4,
        in_channels: 1,
        classes: sarcoscope::segment::TissueClass::COUNT,
    };

    /// Whether a model card's architecture is one this build can run.
    pub fn is_supported(&self) -> bool {
        (3..=5).contains(&self.levels)
            && (4..=64).contains(&self.base_channels)
            && self.in_channels == 1
            && self.classes == sarcoscope::segment::TissueClass::COUNT
    }

    /// Input width and height must be a multiple of this.
    pub fn granularity(&self) -> usize {
        1 << (self.levels - 1)
    }

    pub fn init(&self, device: &Device) -> UNet {
        let c = self.base_channels;
        let mut down = Vec::with_capacity(self.levels);
        let mut channels = self.in_channels;
        for level in 0..self.levels {
            down.push(DoubleConv::new(channels, c << level, device));
            channels = c << level;
        }
        let up = (0..self.levels - 1)
            .rev()
            .map(|level| DoubleConv::new((c << (level + 1)) + (c << level), c << level, device))
            .collect();
        UNet {
            down,
            up,
            head: Conv2dConfig::new([c, self.classes], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
        }
    }
}

/// Two 3×3 convolutions, each followed by a ReLU.
#[derive(Module, Debug)]
pub struct DoubleConv {
    first: Conv2d,
    second: Conv2d,
}

impl DoubleConv {
    fn new(input: usize, output: usize, device: &Device) -> DoubleConv {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        DoubleConv {
            first: conv(input, output),
            second: conv(output, output),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.second.forward(relu(self.first.forward(x))))
    }
}

#[derive(Module, Debug)]
pub struct UNet {
    down: Vec<DoubleConv>,
    up: Vec<DoubleConv>,
    head: Conv2d,
    pool: MaxPool2d,
}

impl UNet {
    /// `[batch, 1, height, width]` normalised HU to `[batch, classes, height, width]`
    /// class scores (logits). Height and width must be multiples of
    /// [`Architecture::granularity`].
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = input;
        for (level, block) in self.down.iter().enumerate() {
            if level > 0 {
                x = self.pool.forward(x);
            }
            x = block.forward(x);
            skips.push(x.clone());
        }
        skips.pop();
        for block in &self.up {
            let Some(skip) = skips.pop() else { break };
            x = block.forward(Tensor::cat(vec![upsample(x), skip], 1));
        }
        self.head.forward(x)
    }
}

/// Nearest-neighbour ×2 upsampling by broadcasting, which every backend supports alike.
fn upsample(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1])
        .expand([n, c, h, 2, w, 2])
        .reshape([n, c, h * 2, w * 2])
}
