//! Model files: weights in a small self-describing format, and the model card that says
//! what the weights are, how they were made, how well they did, and their SHA-256.
//!
//! A card and its weights travel as two files (`<name>.json`, `<name>.weights`). The
//! card is read first; the weights are accepted only when their SHA-256 equals the
//! card's, every tensor the architecture needs is present with its shape, and nothing
//! else is. Weights format: the 8 bytes `SARCOW1\n`, a little-endian u32 length, that
//! many bytes of JSON listing `{name, shape}` per tensor in order, then every tensor's
//! values as little-endian f32, in the same order. Written here rather than taken from
//! Burn's record formats so that files stay readable across Burn versions.

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::TensorData;
use sarcoscope::digest::sha256_hex;
use serde::{Deserialize, Serialize};

use crate::train::TrainConfig;
use crate::unet::{Architecture, UNet};
use sarcoscope::segment::{InputSpec, TissueClass};

const MAGIC: &[u8; 8] = b"SARCOW1\n";

/// Everything known about a model, shipped beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// "sarcoscope-model/1".
    pub format: String,
    pub name: String,
    pub version: String,
    pub architecture: Architecture,
    /// Output channel names, in order (must match [`sarcoscope::segment::TissueClass`]).
    pub classes: Vec<String>,
    pub input: InputSpec,
    pub intended_use: String,
    pub limitations: Vec<String>,
    pub training: serde_json::Value,
    pub validation: serde_json::Value,
    pub weights: WeightsRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsRef {
    pub file: String,
    pub bytes: usize,
    pub sha256: String,
    pub parameters: usize,
}

pub const CARD_FORMAT: &str = "sarcoscope-model/1";

/// Why a model cannot be used, in words for the person waiting for a segmentation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("the model card could not be read: {0}")]
    Card(String),
    #[error("the model card is of format {0:?}, which this version does not read")]
    CardFormat(String),
    #[error("this version cannot run the model the card describes ({0})")]
    Unsupported(String),
    #[error("the model weights are damaged or not the ones the card names (SHA-256 {actual}, expected {expected}); reload the page, and if it persists the installation is broken")]
    Checksum { expected: String, actual: String },
    #[error("the model weights file is not in Sarcoscope's weights format")]
    NotWeights,
    #[error("the model weights do not fit the architecture: {0}")]
    Mismatch(String),
    #[error("the model files could not be fetched: {0}")]
    Fetch(String),
    #[error("the graphics device failed while segmenting: {0}")]
    Device(String),
}

impl ModelCard {
    pub fn parse(json: &[u8]) -> Result<ModelCard, ModelError> {
        let card: ModelCard =
            serde_json::from_slice(json).map_err(|e| ModelError::Card(e.to_string()))?;
        if card.format != CARD_FORMAT {
            return Err(ModelError::CardFormat(card.format));
        }
        if !card.architecture.is_supported() {
            return Err(ModelError::Unsupported(format!("{:?}", card.architecture)));
        }
        let expected: Vec<&str> = sarcoscope::segment::TissueClass::ALL
            .iter()
            .map(|c| c.key())
            .collect();
        if card.classes != expected {
            return Err(ModelError::Unsupported(format!(
                "classes {:?}, expected {:?}",
                card.classes, expected
            )));
        }
        let grain = card.architecture.granularity();
        let spec = &card.input;
        let sane = spec.size >= grain
            && spec.size.is_multiple_of(grain)
            && spec.size <= 1024
            && (0.3..=5.0).contains(&spec.spacing_mm)
            && spec.hu_low < spec.hu_high
            && spec.scale > 0.0;
        if !sane {
            return Err(ModelError::Unsupported(format!("input {spec:?}")));
        }
        Ok(card)
    }

    /// Builds the network on `device` from verified weights.
    pub fn load(&self, weights: &[u8], device: &Device) -> Result<UNet, ModelError> {
        let actual = sha256_hex(weights);
        if actual != self.weights.sha256 {
            return Err(ModelError::Checksum {
                expected: self.weights.sha256.clone(),
                actual,
            });
        }
        let tensors = read_weights(weights)?;
        let mut loader = Loader {
            path: Vec::new(),
            tensors,
            used: 0,
            device: device.clone(),
            error: None,
        };
        let model = self.architecture.init(device).map(&mut loader);
        if let Some(error) = loader.error {
            return Err(ModelError::Mismatch(error));
        }
        if loader.used != loader.tensors.len() {
            return Err(ModelError::Mismatch(format!(
                "{} tensors in the file, {} used",
                loader.tensors.len(),
                loader.used
            )));
        }
        Ok(model)
    }
}

/// A named tensor as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTensor {
    pub name: String,
    pub shape: Vec<usize>,
    #[serde(skip)]
    pub values: Vec<f32>,
}

fn read_weights(bytes: &[u8]) -> Result<Vec<StoredTensor>, ModelError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(ModelError::NotWeights)?;
    let (length, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(ModelError::NotWeights)?;
    let length = u32::from_le_bytes(*length) as usize;
    let header = rest.get(..length).ok_or(ModelError::NotWeights)?;
    let mut tensors: Vec<StoredTensor> =
        serde_json::from_slice(header).map_err(|_| ModelError::NotWeights)?;
    let mut data = &rest[length..];
    for tensor in &mut tensors {
        let count: usize = tensor.shape.iter().product();
        let (mine, tail) = data
            .split_at_checked(count * 4)
            .ok_or_else(|| ModelError::Mismatch(format!("{} is cut short", tensor.name)))?;
        tensor.values = mine
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        data = tail;
    }
    if !data.is_empty() {
        return Err(ModelError::Mismatch(
            "extra bytes after the last tensor".into(),
        ));
    }
    Ok(tensors)
}

/// Encodes named tensors in the weights format.
pub fn write_weights(tensors: &[StoredTensor]) -> Vec<u8> {
    let header = serde_json::to_vec(tensors).unwrap_or_default();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for tensor in tensors {
        for v in &tensor.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// The network's tensors with their module paths, read back from the device (awaited:
/// the browser's GPU cannot be read synchronously).
pub async fn tensors_of(model: &UNet) -> Result<Vec<StoredTensor>, ModelError> {
    let mut saver = Saver {
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut saver);
    let mut tensors = Vec::with_capacity(saver.out.len());
    for (name, shape, flat) in saver.out {
        let device = |e: String| ModelError::Device(e);
        let values = flat
            .into_data_async()
            .await
            .map_err(|e| device(format!("{e:?}")))?
            .try_to_vec::<f32>()
            .map_err(|e| device(format!("{e:?}")))?;
        tensors.push(StoredTensor {
            name,
            shape,
            values,
        });
    }
    Ok(tensors)
}

/// Every parameter by module path, shape and values (still on the device, flattened).
struct Saver {
    path: Vec<String>,
    out: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Saver {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let flat = tensor.reshape([shape.iter().product::<usize>()]);
        self.out.push((self.path.join("."), shape, flat));
    }
}

/// A model just trained, as the files a site keeps: the card (without its validation,
/// which the caller adds) and the weights.
pub struct Packaged {
    pub card: ModelCard,
    pub weights: Vec<u8>,
}

/// What a card says of a model trained from `config`, grown from `start` if given.
pub struct Provenance<'a> {
    pub name: &'a str,
    pub config: &'a TrainConfig,
    pub start: Option<&'a ModelCard>,
    /// How it was made: the command, the settings, the log, the data.
    pub training: serde_json::Value,
    /// What this training adds to the limitations every model has.
    pub limitations: Vec<String>,
}

/// Reads the trained network back and writes its card and weights.
pub async fn package(network: &UNet, provenance: Provenance<'_>) -> Result<Packaged, ModelError> {
    let tensors = tensors_of(network).await?;
    let weights = write_weights(&tensors);
    let parameters = tensors.iter().map(|t| t.values.len()).sum();
    let Provenance {
        name,
        config,
        start,
        training,
        mut limitations,
    } = provenance;
    limitations.extend([
        "Arms and objects beside the trunk are left out before and after the network (see src/segment/trunk.rs); an arm lying on the trunk over a wide contact is not.".to_owned(),
        "Check every mask before using its numbers.".to_owned(),
    ]);
    let card = ModelCard {
        format: CARD_FORMAT.into(),
        name: name.to_owned(),
        // A fine-tuned model names the weights it grew from, so that two models of one
        // seed are told apart wherever the version is shown.
        version: format!(
            "{}+seed{}{}",
            env!("CARGO_PKG_VERSION"),
            config.seed,
            start.map_or(String::new(), |card| format!(
                ".from-{}",
                card.weights.sha256.get(..8).unwrap_or_default()
            ))
        ),
        architecture: config.architecture,
        classes: TissueClass::ALL.iter().map(|c| c.key().to_owned()).collect(),
        input: config.input,
        intended_use: "Research: muscle (SMA), IMAT, VAT and SAT areas on an axial L3 CT slice of an adult abdomen, for review and correction by a trained reader. Not a medical device.".into(),
        limitations,
        training,
        validation: serde_json::Value::Null,
        weights: WeightsRef {
            file: format!("{name}.weights"),
            bytes: weights.len(),
            sha256: sha256_hex(&weights),
            parameters,
        },
    };
    Ok(Packaged { card, weights })
}

struct Loader {
    path: Vec<String>,
    tensors: Vec<StoredTensor>,
    used: usize,
    device: Device,
    error: Option<String>,
}

impl ModuleMapper for Loader {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let Some(stored) = self.tensors.iter().find(|t| t.name == name) else {
            self.error.get_or_insert(format!("{name} is missing"));
            return param;
        };
        let expected = param.lazy_shape().to_vec();
        if stored.shape != expected || stored.values.len() != expected.iter().product::<usize>() {
            self.error.get_or_insert(format!(
                "{name} has shape {:?}, expected {expected:?}",
                stored.shape
            ));
            return param;
        }
        self.used += 1;
        let data = TensorData::new(stored.values.clone(), stored.shape.clone());
        // Keeps the freshly made parameter's settings: tracked for gradients when the
        // model is loaded to be trained on (fine-tuning), not otherwise.
        let id = param.id;
        param.transform_for_load(Tensor::from_data(data, &self.device), id)
    }
}
