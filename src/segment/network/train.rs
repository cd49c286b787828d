//! Training the network (native): cross-entropy on random crops of phantom and real
//! slices, Adam with a warm-up and cosine decay, everything drawn from one seed.
//!
//! Reproducible: the same seed, configuration and device give the same weights. Crops
//! (128² of the 256² grid by default) cut the cost per example by four; the network is
//! fully convolutional, so it runs on whole slices afterwards.

use std::ops::ControlFlow;

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};
use web_time::Instant;

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
    #[error("the graphics device failed while training: {0}")]
    Device(String),
}

/// A training run, one step at a time: each step leaves its loss on the device, so the
/// caller reads it back as its platform allows (natively at once, in the browser by
/// awaiting the GPU) and may stop between steps.
pub struct Trainer {
    config: TrainConfig,
    phantoms: Vec<LabelledSlice>,
    real: Vec<LabelledSlice>,
    /// Indices into `real` of fully and partially labelled slices.
    full: Vec<usize>,
    partial: Vec<usize>,
    device: Device,
    /// Taken and put back by every step (the optimiser consumes the model).
    model: Option<UNet>,
    optim: ModuleOptimizer,
    rng: Rng,
    losses: Vec<f64>,
    started: Instant,
    phantom_seconds: f64,
}

impl Trainer {
    /// From scratch, or on from `start` (a model of the same architecture, as its card
    /// and weights: fine-tuning). `real` are reference slices to mix in (already split:
    /// never pass held-out slices).
    pub fn new(
        config: &TrainConfig,
        real: &[LabelledSlice],
        start: Option<(&ModelCard, &[u8])>,
        device: &Device,
    ) -> Result<Trainer, TrainError> {
        let grain = config.architecture.granularity();
        if config.crop == 0 || !config.crop.is_multiple_of(grain) || config.crop > config.input.size
        {
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
        let (full, partial): (Vec<usize>, Vec<usize>) =
            (0..real.len()).partition(|&i| !real[i].labels.contains(&IGNORE));
        let phantom_seconds = started.elapsed().as_secs_f64();
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let model = match start {
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
        Ok(Trainer {
            config: config.clone(),
            phantoms,
            real,
            full,
            partial,
            device,
            model: Some(model),
            optim: AdamConfig::new().init(),
            rng: Rng::stream(config.seed, 7),
            losses: Vec::with_capacity(config.steps),
            started,
            phantom_seconds,
        })
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.losses.len()
    }

    /// Whether every step of the configuration has been taken.
    pub fn done(&self) -> bool {
        self.losses.len() >= self.config.steps
    }

    /// One step: a batch of crops, the loss, its gradients and the optimiser's update.
    /// The loss comes back still on the device; hand its value to [`Trainer::record`].
    pub fn step(&mut self) -> Result<Tensor<1>, TrainError> {
        let config = &self.config;
        let rng = &mut self.rng;
        let mut inputs = Vec::with_capacity(config.batch * config.crop * config.crop);
        let mut targets = Vec::with_capacity(inputs.capacity());
        for _ in 0..config.batch {
            let from_real = !self.real.is_empty() && rng.unit() < config.real_share;
            let source = if from_real || self.phantoms.is_empty() {
                let index = match config.full_share {
                    Some(share) if !self.full.is_empty() && !self.partial.is_empty() => {
                        if rng.unit() < share {
                            pick(&self.full, rng).copied()
                        } else {
                            pick(&self.partial, rng).copied()
                        }
                    }
                    _ => pick_index(self.real.len(), rng),
                };
                index.and_then(|i| self.real.get(i))
            } else {
                pick(&self.phantoms, rng)
            };
            let Some(source) = source else {
                return Err(TrainError::NoSlices);
            };
            let sample = dataset::sample(source, &config.input, Augment::draw(rng))
                .ok_or_else(|| TrainError::Resample(source.name.clone()))?;
            let (input, target) = crop(&sample, config.input.size, config.crop, rng);
            inputs.extend(input);
            targets.extend(target);
        }
        let lr = schedule(config, self.losses.len());
        let model = self.model.take().ok_or(TrainError::NoSlices)?;
        let loss = loss(
            &model,
            inputs,
            &targets,
            config.batch,
            config.crop,
            &self.device,
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(lr, model, grads));
        Ok(loss)
    }

    /// The loss of the step just taken, read back.
    pub fn record(&mut self, loss: f64) {
        self.losses.push(loss);
    }

    /// The trained network and what happened, for the model card.
    pub fn finish(self, device_name: &str) -> Result<(UNet, TrainLog), TrainError> {
        let tenth = (self.losses.len() / 10).max(1);
        let loss_curve = self
            .losses
            .chunks(tenth)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect();
        let log = TrainLog {
            device: device_name.to_owned(),
            seconds: self.started.elapsed().as_secs_f64(),
            phantom_seconds: self.phantom_seconds,
            loss_curve,
            real_slices: self.real.len(),
        };
        let model = self.model.ok_or(TrainError::NoSlices)?;
        Ok((model.valid(), log))
    }
}

/// Trains to the end; `progress` hears (step, loss) after every step and may stop the
/// run. Each loss is awaited, so the browser's GPU is never waited on synchronously.
pub async fn train_async(
    config: &TrainConfig,
    real: &[LabelledSlice],
    start: Option<(&ModelCard, &[u8])>,
    device: &Device,
    device_name: &str,
    mut progress: impl FnMut(usize, f64) -> ControlFlow<()>,
) -> Result<(UNet, TrainLog), TrainError> {
    let mut trainer = Trainer::new(config, real, start, device)?;
    while !trainer.done() {
        let step = trainer.steps_done();
        let value = trainer
            .step()?
            .into_scalar_async::<f32>()
            .await
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        trainer.record(f64::from(value));
        if progress(step, f64::from(value)).is_break() {
            return Err(TrainError::Cancelled);
        }
    }
    trainer.finish(device_name)
}

/// [`train_async`], read at once (natively).
#[cfg(not(target_arch = "wasm32"))]
pub fn train(
    config: &TrainConfig,
    real: &[LabelledSlice],
    start: Option<(&ModelCard, &[u8])>,
    device: &Device,
    device_name: &str,
    progress: impl FnMut(usize, f64) -> ControlFlow<()>,
) -> Result<(UNet, TrainLog), TrainError> {
    burn::tensor::read_sync(train_async(
        config,
        real,
        start,
        device,
        device_name,
        progress,
    ))
}

/// One of `pool` at random; `None` when it is empty.
fn pick<'a, T>(pool: &'a [T], rng: &mut Rng) -> Option<&'a T> {
    pick_index(pool.len(), rng).and_then(|i| pool.get(i))
}

/// An index below `len` at random; `None` when `len` is 0 (a draw is taken either way).
fn pick_index(len: usize, rng: &mut Rng) -> Option<usize> {
    let at = (rng.next_u64() % len.max(1) as u64) as usize;
    (at < len).then_some(at)
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
