//! Training the network (native): cross-entropy on random crops of phantom and real
//! slices, Adam with a warm-up and cosine decay, everything drawn from one seed.
//!
//! Reproducible: the same seed, configuration and device give the same weights. Crops
//! (128² of the 256² grid by default) cut the cost per example by four; the network is
//! fully convolutional, so it runs on whole slices afterwards.

use std::ops::ControlFlow;
use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use crate::model::ModelCard;
use crate::unet::{Architecture, UNet};
use sarcoscope::rng::Rng;
use sarcoscope::segment::dataset::{self, Augment, LabelledSlice, PhantomRange, Sample, IGNORE};
use sarcoscope::segment::{InputSpec, TissueClass};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub seed: u64,
    pub steps: usize,
    pub batch: usize,
    /// Side of the square crops trained on (a multiple of the architecture's
    /// granularity, at most the input size).
    pub crop: usize,
    pub learning_rate: f64,
    pub architecture: Architecture,
    pub input: InputSpec,
    /// Distinct phantom slices generated (each is re-used with fresh augmentation).
    pub phantoms: usize,
    pub phantom_range: PhantomRange,
    /// Share of crops drawn from real reference slices when there are any.
    pub real_share: f64,
    /// Of those, the share drawn from fully labelled slices (the rest from partially
    /// labelled ones); `None` draws every real slice alike. Full labels are the only
    /// real ones that teach the lateral wall and where organs end, so they may be
    /// weighted above their number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_share: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> TrainConfig {
        TrainConfig {
            seed: 1,
            steps: 600,
            batch: 8,
            crop: 128,
            learning_rate: 2e-3,
            architecture: Architecture::DEFAULT,
            input: InputSpec::DEFAULT,
            phantoms: 160,
            phantom_range: PhantomRange::default(),
            real_share: 0.3,
            full_share: None,
        }
    }
}

impl TrainConfig {
    /// Fine-tuning a trained model on a site's slices: fewer, gentler steps (a quarter
    /// of the learning rate, so the weights move from where they are rather than start
    /// over), mostly the site's slices, and enough phantoms that the anatomy the site's
    /// slices lack is not forgotten.
    pub fn fine_tune() -> TrainConfig {
        TrainConfig {
            steps: 200,
            learning_rate: 5e-4,
            phantoms: 40,
            real_share: 0.8,
            ..TrainConfig::default()
        }
    }
}

/// What happened during training, for the model card.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainLog {
    pub device: String,
    pub seconds: f64,
    pub phantom_seconds: f64,
    /// Mean loss over each tenth of the run.
    pub loss_curve: Vec<f64>,
    pub real_slices: usize,
}

/// Why training could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("crop {crop} must be a multiple of {grain} and at most {size}")]
    Crop {
        crop: usize,
        grain: usize,
        size: usize,
    },
    #[error("batch and steps must be at least 1")]
    Empty,
    #[error("no training slices")]
    NoSlices,
    #[error("{0} cannot be resampled")]
    Resample(String),
    #[error("the model to start from cannot be used: {0}")]
    Start(String),
    #[error("training was stopped")]
    Cancelled,
}

/// Trains from scratch, or on from `start` (a model of the same architecture, as its card
/// and weights: fine-tuning). `real` are reference slices to mix in (already split:
/// never pass held-out slices); `progress` hears (step, loss) after every step and may
/// stop the run.
pub fn train(
    config: &TrainConfig,
    real: &[LabelledSlice],
    start: Option<(&ModelCard, &[u8])>,
    device: &Device,
    device_name: &str,
    mut progress: impl FnMut(usize, f64) -> ControlFlow<()>,
) -> Result<(UNet, TrainLog), TrainError> {
    let grain = config.architecture.granularity();
    if config.crop == 0 || !config.crop.is_multiple_of(grain) || config.crop > config.input.size {
        return Err(TrainError::Crop {
            crop: config.crop,
            grain,
            size: config.input.size,
        });
    }
    if config.batch == 0 || config.steps == 0 {
        return Err(TrainError::Empty);
    }
    let started = Instant::now();
    let trunk_only = |slice: &LabelledSlice| {
        slice
            .trunk_only()
            .ok_or_else(|| TrainError::Resample(slice.name.clone()))
    };
    let phantoms = (0..config.phantoms as u64)
        .map(|i| {
            trunk_only(&dataset::phantom_slice(
                config.seed,
                i,
                &config.phantom_range,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let real = real.iter().map(trunk_only).collect::<Result<Vec<_>, _>>()?;
    let (full, partial): (Vec<_>, Vec<_>) = real.iter().partition(|s| !s.labels.contains(&IGNORE));
    let phantom_seconds = started.elapsed().as_secs_f64();
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let mut model = match start {
        Some((card, _)) if card.architecture != config.architecture => {
            return Err(TrainError::Start(format!(
                "{} has another architecture than the one asked for",
                card.name
            )))
        }
        Some((card, weights)) => card
            .load(weights, &device)
            .map_err(|e| TrainError::Start(e.to_string()))?,
        None => config.architecture.init(&device),
    };
    let mut optim = AdamConfig::new().init();
    let mut rng = Rng::stream(config.seed, 7);
    let mut losses = Vec::with_capacity(config.steps);
    for step in 0..config.steps {
        let mut inputs = Vec::with_capacity(config.batch * config.crop * config.crop);
        let mut targets = Vec::with_capacity(inputs.capacity());
        for _ in 0..config.batch {
            let from_real = !real.is_empty() && rng.unit() < config.real_share;
            let source = if from_real || phantoms.is_empty() {
                match config.full_share {
                    Some(share) if !full.is_empty() && !partial.is_empty() => {
                        if rng.unit() < share {
                            pick(&full, &mut rng).copied()
                        } else {
                            pick(&partial, &mut rng).copied()
                        }
                    }
                    _ => pick(&real, &mut rng),
                }
            } else {
                pick(&phantoms, &mut rng)
            };
            let Some(source) = source else {
                return Err(TrainError::NoSlices);
            };
            let sample = dataset::sample(source, &config.input, Augment::draw(&mut rng))
                .ok_or_else(|| TrainError::Resample(source.name.clone()))?;
            let (input, target) = crop(&sample, config.input.size, config.crop, &mut rng);
            inputs.extend(input);
            targets.extend(target);
        }
        let lr = schedule(config, step);
        let loss = loss(&model, inputs, &targets, config.batch, config.crop, &device);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
        losses.push(value);
        if progress(step, value).is_break() {
            return Err(TrainError::Cancelled);
        }
    }
    let tenth = (losses.len() / 10).max(1);
    let loss_curve = losses
        .chunks(tenth)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let log = TrainLog {
        device: device_name.to_owned(),
        seconds: started.elapsed().as_secs_f64(),
        phantom_seconds,
        loss_curve,
        real_slices: real.len(),
    };
    Ok((model.valid(), log))
}

/// One of `pool` at random; `None` when it is empty.
fn pick<'a, T>(pool: &'a [T], rng: &mut Rng) -> Option<&'a T> {
    pool.get((rng.next_u64() % pool.len().max(1) as u64) as usize)
}

/// Linear warm-up over the first 5 % of steps, then cosine decay to 1 % of the peak.
fn schedule(config: &TrainConfig, step: usize) -> f64 {
    let warm = (config.steps / 20).max(1);
    let peak = config.learning_rate;
    if step < warm {
        return peak * (step + 1) as f64 / warm as f64;
    }
    let t = (step - warm) as f64 / (config.steps - warm).max(1) as f64;
    peak * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// A random square crop that shows some of the body (tries a few places).
fn crop(sample: &Sample, size: usize, side: usize, rng: &mut Rng) -> (Vec<f32>, Vec<u8>) {
    let span = size - side;
    let mut best = (0, 0, 0usize);
    for _ in 0..4 {
        let x = (rng.next_u64() % (span as u64 + 1)) as usize;
        let y = (rng.next_u64() % (span as u64 + 1)) as usize;
        let labelled = (y..y + side)
            .flat_map(|r| &sample.target[r * size + x..r * size + x + side])
            .filter(|&&l| l != 0 && l != IGNORE)
            .count();
        if labelled >= best.2 {
            best = (x, y, labelled);
        }
        if labelled * 5 > side * side {
            break;
        }
    }
    let (x, y, _) = best;
    let mut input = Vec::with_capacity(side * side);
    let mut target = Vec::with_capacity(side * side);
    for r in y..y + side {
        input.extend_from_slice(&sample.input[r * size + x..r * size + x + side]);
        target.extend_from_slice(&sample.target[r * size + x..r * size + x + side]);
    }
    (input, target)
}

/// Mean cross-entropy over the labelled pixels.
fn loss(
    model: &UNet,
    inputs: Vec<f32>,
    targets: &[u8],
    batch: usize,
    side: usize,
    device: &Device,
) -> Tensor<1> {
    let classes = TissueClass::COUNT;
    let plane = side * side;
    let mut one_hot = vec![0f32; batch * classes * plane];
    let mut labelled = 0usize;
    for (i, &t) in targets.iter().enumerate() {
        if usize::from(t) < classes {
            let (b, p) = (i / plane, i % plane);
            one_hot[(b * classes + usize::from(t)) * plane + p] = 1.0;
            labelled += 1;
        }
    }
    let x = Tensor::<4>::from_data(TensorData::new(inputs, [batch, 1, side, side]), device);
    let y = Tensor::<4>::from_data(
        TensorData::new(one_hot, [batch, classes, side, side]),
        device,
    );
    let log_p = log_softmax(model.forward(x), 1);
    (log_p * y).sum().neg() / (labelled.max(1) as f64)
}
