//! `sarcoscope segment`, `train` and `eval`: the segmentation from the command line.

use std::path::{Path, PathBuf};

use sarcoscope::body;
use sarcoscope::l3;
use sarcoscope::report::seg;
use sarcoscope::segment::{reference, AxialSlice, LeftOut, TissueClass};
use sarcoscope_network::device::{self, Preference};
use sarcoscope_network::model::{self, ModelCard, WeightsRef, CARD_FORMAT};
use sarcoscope_network::train::{self, TrainConfig};
use sarcoscope_network::validation::{self, Evaluation};
use sarcoscope_network::{PostProcess, Segmentation, Segmenter};
use serde::Serialize;

use super::write_file;

/// The model shipped in this repository.
pub fn default_model() -> PathBuf {
    // This crate sits at src/bin; the models are at the repository's top.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(format!("{}.json", sarcoscope::segment::DEFAULT_MODEL))
}

#[derive(clap::Args)]
pub struct ModelOptions {
    /// The model card (its weights file lies beside it).
    #[arg(long, default_value_os_t = default_model())]
    pub model: PathBuf,
    /// Where the network runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DeviceArg {
    Auto,
    Cpu,
    Gpu,
}

impl ModelOptions {
    /// The same options as command-line arguments, for a child process.
    pub fn args(&self) -> Vec<std::ffi::OsString> {
        use clap::ValueEnum as _;
        let device = self
            .device
            .to_possible_value()
            .map_or_else(|| "auto".into(), |v| v.get_name().to_owned());
        vec![
            "--model".into(),
            self.model.clone().into_os_string(),
            "--device".into(),
            device.into(),
        ]
    }
}

impl DeviceArg {
    fn preference(self) -> Preference {
        match self {
            DeviceArg::Auto => Preference::Auto,
            DeviceArg::Cpu => Preference::Cpu,
            DeviceArg::Gpu => Preference::Gpu,
        }
    }
}

/// A model card and its weights, read from beside it.
fn read_model(card_path: &Path) -> Result<(ModelCard, Vec<u8>), super::Failure> {
    let card_bytes = std::fs::read(card_path)
        .map_err(|e| format!("cannot read the model card {}: {e}", card_path.display()))?;
    let card = ModelCard::parse(&card_bytes)?;
    let weights_path = card_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&card.weights.file);
    let weights = std::fs::read(&weights_path).map_err(|e| {
        format!(
            "cannot read the model weights {}: {e}",
            weights_path.display()
        )
    })?;
    Ok((card, weights))
}

pub fn load_model(options: &ModelOptions) -> Result<(Segmenter, String), super::Failure> {
    let (card, weights) = read_model(&options.model)?;
    let (device, name) = device::choose(options.device.preference())?;
    let segmenter = Segmenter::new(card, &weights, device)?;
    Ok((segmenter, name))
}

/// The real reference labels under the shared data folder, when one is given.
fn load_reference(
    shared: Option<&Path>,
) -> Result<Option<reference::Reference>, reference::ReferenceError> {
    shared
        .map(|shared| reference::load(&shared.join("data/ct/totalseg-example")))
        .transpose()
}

#[derive(Serialize)]
struct SegmentOutput {
    slice_index: usize,
    slice_chosen_by: &'static str,
    z_mm: Option<f64>,
    pixel_spacing_mm: [f64; 2],
    tissues: Vec<body::TissueMeasure>,
    /// Arms and objects beside the trunk, left out of every area.
    left_out: LeftOut,
    model: String,
    device: String,
    seconds: f64,
    hu_windows: &'static str,
}

/// Where `segment` writes the mask besides its report.
pub struct MaskOutputs<'a> {
    pub png: Option<&'a Path>,
    pub seg: Option<&'a Path>,
    /// Reference the source image and study in the SEG (off: de-identified).
    pub identified: bool,
}

/// Now, as the date a DICOM SEG is made.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub fn segment(
    folder: &Path,
    slice: Option<usize>,
    outputs: &MaskOutputs,
    json: bool,
    options: &ModelOptions,
) -> Result<(), super::Failure> {
    let loaded = super::l3::load_reporting(folder)?;
    let volume = &loaded.volume;
    let (index, chosen_by) = match slice {
        Some(k) => (k, "given"),
        None => {
            let found = l3::locate(volume);
            let k = found.slice_index.ok_or_else(|| {
                format!(
                    "L3 could not be found in {} ({}); choose a slice with --slice",
                    folder.display(),
                    found.evidence.notes.join("; ")
                )
            })?;
            (k, "automatic L3")
        }
    };
    let axial = AxialSlice::of_volume(volume, index)?;
    let (segmenter, device) = load_model(options)?;
    let started = std::time::Instant::now();
    let Segmentation { mask, left_out } = segmenter.segment(&axial, &PostProcess::default());
    let seconds = started.elapsed().as_secs_f64();
    let model = format!("{} {}", segmenter.card.name, segmenter.card.version);
    if let Some(path) = outputs.png {
        let png = sarcoscope::png::grey8(mask.columns, mask.rows, mask.labels());
        write_file(path, png)?;
    }
    if let Some(path) = outputs.seg {
        let ctx = seg::SegContext::of_series_slice(
            &loaded.files,
            &volume.header.geometry,
            index,
            outputs.identified,
            model.clone(),
            false,
            now(),
        )?;
        write_file(path, seg::write(&mask, &ctx)?)?;
    }
    let output = SegmentOutput {
        slice_index: index,
        slice_chosen_by: chosen_by,
        z_mm: volume.header.slice_positions_mm.get(index).copied(),
        pixel_spacing_mm: axial.pixel_spacing.map(|s| s.0),
        tissues: body::measure(&mask, &axial),
        left_out,
        model,
        device,
        seconds,
        hu_windows: sarcoscope::segment::HuWindows::CITATION,
    };
    if json {
        let text = serde_json::to_string_pretty(&output)?;
        out!("{text}");
    } else {
        out!(
            "slice {} ({}), {} on {} in {:.2} s",
            output.slice_index,
            output.slice_chosen_by,
            output.model,
            output.device,
            seconds
        );
        for t in &output.tissues {
            let hu = t.mean_hu.map_or("—".into(), |m| format!("{m:.1} HU"));
            out!(
                "  {:<28} {:>7.1} cm²  mean {hu}",
                t.tissue.name(),
                t.area_cm2
            );
        }
        if let Some(sentence) = output.left_out.describe() {
            out!("  {sentence}");
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct TrainOptions {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = TrainConfig::default().steps)]
    pub steps: usize,
    #[arg(long, default_value_t = TrainConfig::default().batch)]
    pub batch: usize,
    #[arg(long, default_value_t = TrainConfig::default().phantoms)]
    pub phantoms: usize,
    #[arg(long, default_value_t = TrainConfig::default().architecture.base_channels)]
    pub base_channels: usize,
    #[arg(long, default_value_t = TrainConfig::default().learning_rate)]
    pub learning_rate: f64,
    /// Share of crops drawn from the real slices.
    #[arg(long, default_value_t = TrainConfig::default().real_share)]
    pub real_share: f64,
    /// Of the real crops, the share drawn from fully labelled slices (default: every
    /// real slice alike).
    #[arg(long)]
    pub full_share: Option<f64>,
    /// A model card to start from (fine-tuning) instead of random weights; its weights
    /// file lies beside it.
    #[arg(long)]
    pub start: Option<PathBuf>,
    /// The shared data folder (holds data/ct/totalseg-example); without it, phantoms only.
    #[arg(long)]
    pub shared: Option<PathBuf>,
    /// Folder to write `<name>.json` and `<name>.weights` into.
    #[arg(long, default_value = "models")]
    pub out: PathBuf,
    #[arg(long, default_value = sarcoscope::segment::DEFAULT_MODEL)]
    pub name: String,
    /// Phantoms evaluated after training.
    #[arg(long, default_value_t = 24)]
    pub eval_phantoms: usize,
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
}

pub fn train_command(options: &TrainOptions) -> Result<(), super::Failure> {
    let mut config = TrainConfig {
        seed: options.seed,
        steps: options.steps,
        batch: options.batch,
        phantoms: options.phantoms,
        learning_rate: options.learning_rate,
        real_share: options.real_share,
        full_share: options.full_share,
        ..TrainConfig::default()
    };
    config.architecture.base_channels = options.base_channels;
    let reference = load_reference(options.shared.as_deref())?;
    let real = reference.as_ref().map(|r| r.train()).unwrap_or_default();
    let (device, device_name) = device::choose(options.device.preference())?;
    eprintln!(
        "training on {device_name}: {} steps of {} crops, {} phantoms, {} real slices",
        config.steps,
        config.batch,
        config.phantoms,
        real.len()
    );
    let mut last = std::time::Instant::now();
    let start = options.start.as_deref().map(read_model).transpose()?;
    let start_ref = start
        .as_ref()
        .map(|(card, weights)| (card, weights.as_slice()));
    let (network, log) = train::train(
        &config,
        &real,
        start_ref,
        &device,
        &device_name,
        |step, loss| {
            if last.elapsed().as_secs() >= 30 || step + 1 == config.steps {
                eprintln!("  step {}/{}: loss {loss:.4}", step + 1, config.steps);
                last = std::time::Instant::now();
            }
        },
    )?;
    let tensors = model::tensors_of(&network);
    let weights = model::write_weights(&tensors);
    let parameters = tensors.iter().map(|t| t.values.len()).sum();
    let command = std::iter::once("sarcoscope".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let mut card = ModelCard {
        format: CARD_FORMAT.into(),
        name: options.name.clone(),
        // A fine-tuned model names the weights it grew from, so that two models of one
        // seed are told apart wherever the version is shown.
        version: format!(
            "{}+seed{}{}",
            env!("CARGO_PKG_VERSION"),
            options.seed,
            start.as_ref().map_or(String::new(), |(card, _)| format!(
                ".from-{}",
                card.weights.sha256.get(..8).unwrap_or_default()
            ))
        ),
        architecture: config.architecture,
        classes: TissueClass::ALL.iter().map(|c| c.key().to_owned()).collect(),
        input: config.input,
        intended_use: "Research: muscle (SMA), IMAT, VAT and SAT areas on an axial L3 CT slice of an adult abdomen, for review and correction by a trained reader. Not a medical device.".into(),
        limitations: vec![
            format!("Trained on procedural phantoms and one real CT (labels made by TotalSegmentator, not by hand): full tissue labels on {} slices (T11–T12) and partial labels (autochthon, iliopsoas and gluteal muscles; organs, bones and vessels as not muscle) on {} slices from L5 to mid-L3; no hand-labelled L3 slices were available.", reference::TRAIN_SLICES.count(), reference::PARTIAL_TRAIN_SLICES.count()),
            "Real-data figures come from one patient's other slices; they say nothing about other scanners, patients or pathologies.".into(),
            "Arms and objects beside the trunk are left out before and after the network (see src/segment/trunk.rs); an arm lying on the trunk over a wide contact is not.".into(),
            "Check every mask before using its numbers.".into(),
        ],
        training: serde_json::json!({
            "command": command,
            "config": config,
            "log": log,
            "data": {
                "phantoms": format!("{} procedural L3-region slices (src/phantom) drawn from seed {}", config.phantoms, config.seed),
                "real": format!("TotalSegmentator labels of totalseg-example: tissue labels on slices {:?}, partial labels from the total map on slices {:?} ({} slices)", reference::TRAIN_SLICES, reference::PARTIAL_TRAIN_SLICES, real.len()),
                "held_out_never_trained": format!("tissue: slices {:?}; back muscles: L3 slices {:?}", reference::HELD_OUT_SLICES, reference::HELD_OUT_L3_SLICES),
                "started_from": start.as_ref().map(|(card, _)| format!("{} {} (weights SHA-256 {})", card.name, card.version, card.weights.sha256)),
            },
        }),
        validation: serde_json::Value::Null,
        weights: WeightsRef {
            file: format!("{}.weights", options.name),
            bytes: weights.len(),
            sha256: sarcoscope::digest::sha256_hex(&weights),
            parameters,
        },
    };
    let segmenter = Segmenter::from_network(card.clone(), network, device);
    eprintln!("evaluating…");
    let evaluation = validation::evaluate(&segmenter, reference.as_ref(), options.eval_phantoms);
    card.validation = serde_json::to_value(&evaluation)?;
    std::fs::create_dir_all(&options.out)
        .map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
    let weights_path = options.out.join(&card.weights.file);
    write_file(&weights_path, &weights)?;
    let card_path = options.out.join(format!("{}.json", options.name));
    let text = serde_json::to_string_pretty(&card)?;
    write_file(&card_path, text + "\n")?;
    eprintln!(
        "wrote {} and {} in {:.0} s",
        card_path.display(),
        weights_path.display(),
        log.seconds
    );
    print_evaluation(&evaluation);
    Ok(())
}

pub fn eval_command(
    options: &ModelOptions,
    shared: Option<&Path>,
    phantoms: usize,
    json: bool,
) -> Result<(), super::Failure> {
    let (segmenter, _) = load_model(options)?;
    let reference = load_reference(shared)?;
    let evaluation = validation::evaluate(&segmenter, reference.as_ref(), phantoms);
    if json {
        let text = serde_json::to_string_pretty(&evaluation)?;
        out!("{text}");
    } else {
        print_evaluation(&evaluation);
    }
    Ok(())
}

fn print_evaluation(e: &Evaluation) {
    let show = |label: &str, a: &sarcoscope::segment::eval::Agreement| {
        let f = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.3}"));
        let p = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:+.1} %"));
        eprintln!(
            "  {label:<34} Dice {} (mean {}, min {}), area error {} over {} slice(s)",
            f(a.dice),
            f(a.dice_mean),
            f(a.dice_min),
            p(a.area_error_percent),
            a.slices
        );
    };
    if let Some(real) = &e.real_held_out {
        for (k, a) in real {
            show(&format!("real held-out {k}"), a);
        }
    }
    if let Some(errors) = &e.real_held_out_muscle_errors {
        let list = |m: &std::collections::BTreeMap<String, f64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v:.1} %"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        eprintln!(
            "  held-out muscle errors, by what the total map names there (% of reference muscle): extra {}; missed {}",
            list(&errors.extra_percent),
            list(&errors.missed_percent)
        );
    }
    if let Some(back) = &e.real_l3_back_muscles {
        show("real L3 back muscles", &back.agreement);
    }
    for (k, a) in &e.phantoms {
        show(&format!("unseen phantoms {k}"), a);
    }
    for note in &e.notes {
        eprintln!("  note: {note}");
    }
}
