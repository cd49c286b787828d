//! `sarcoscope segment`, `train` and `eval`: the segmentation from the command line.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use sarcoscope::agree::reference::Numbering;
use sarcoscope::agree::seg::SegmentNames;
use sarcoscope::agree::tag::TagNumbers;
use sarcoscope::body;
use sarcoscope::l3;
use sarcoscope::report::seg;
use sarcoscope::segment::eval::agreement_overlay;
use sarcoscope::segment::{reference, AxialSlice, LeftOut, TissueClass};
use sarcoscope_network::device::{self, Preference};
use sarcoscope_network::finetune::{self, Progress};
use sarcoscope_network::model::{self, ModelCard, Packaged, Provenance};
use sarcoscope_network::train::{self, TrainConfig};
use sarcoscope_network::validation::{self, Evaluation};
use sarcoscope_network::Device;
use sarcoscope_network::{PostProcess, Segmentation, Segmenter};
use serde::Serialize;

use super::write_file;

/// The model shipped in this repository: in the `models` folder of the checkout the
/// command runs in (the working folder or one above it), else of the checkout it was built
/// from. The working folder comes first because cargo does not rebuild the command when its
/// checkout moves: a compiled-in folder can name a checkout that is gone or another one
/// sharing the target directory.
pub fn default_model() -> PathBuf {
    let card = Path::new("models").join(format!("{}.json", sarcoscope::segment::DEFAULT_MODEL));
    // This crate sits at src/bin; the models are at the repository's top.
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(&card);
    std::env::current_dir()
        .ok()
        .and_then(|here| {
            here.ancestors()
                .map(|dir| dir.join(&card))
                .find(|path| path.is_file())
        })
        .unwrap_or(built_from)
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
    /// Training steps (default 600 from scratch, 200 when fine-tuning).
    #[arg(long)]
    pub steps: Option<usize>,
    #[arg(long, default_value_t = TrainConfig::default().batch)]
    pub batch: usize,
    /// Distinct phantom slices mixed in (default 160 from scratch, 40 when fine-tuning).
    #[arg(long)]
    pub phantoms: Option<usize>,
    #[arg(long, default_value_t = TrainConfig::default().architecture.base_channels)]
    pub base_channels: usize,
    /// Peak learning rate (default 2e-3 from scratch, 5e-4 when fine-tuning).
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Share of crops drawn from the real slices (default 0.3 from scratch, 0.8 when
    /// fine-tuning).
    #[arg(long)]
    pub real_share: Option<f64>,
    /// Of the real crops, the share drawn from fully labelled slices (default: every
    /// real slice alike).
    #[arg(long)]
    pub full_share: Option<f64>,
    /// A model card to start from (fine-tuning) instead of random weights; its weights
    /// file lies beside it. With --labels, the shipped model unless given.
    #[arg(long)]
    pub start: Option<PathBuf>,
    /// Fine-tune on a site's expert masks: a folder of readers' masks, read as `agree`
    /// reads them (Slice-O-Matic .tag, PNG label maps, DICOM SEG, NIfTI label maps),
    /// each placed on its CT image under --ct. Cross-validated with --folds first.
    #[arg(long, requires = "ct")]
    pub labels: Option<PathBuf>,
    /// The CT images the masks of --labels were traced on.
    #[arg(long, requires = "labels")]
    pub ct: Option<PathBuf>,
    /// Folds of the cross-validation that gives the fine-tuned model's figures.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// The numbers of each tissue in .tag files and NIfTI label maps of --labels.
    #[arg(long, default_value = "muscle=1,imat=2,vat=5,sat=7", value_parser = TagNumbers::parse)]
    pub numbers: TagNumbers,
    /// The tissue of DICOM SEG segments whose codes and labels do not say it.
    #[arg(long, default_value = "", value_parser = SegmentNames::parse)]
    pub segments: SegmentNames,
    /// The shared data folder (holds data/ct/totalseg-example); without it, phantoms
    /// only. With --labels it is used for the reference evaluation only.
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

impl TrainOptions {
    fn config(&self) -> TrainConfig {
        let base = if self.labels.is_some() {
            TrainConfig::fine_tune()
        } else {
            TrainConfig::default()
        };
        let mut config = TrainConfig {
            seed: self.seed,
            steps: self.steps.unwrap_or(base.steps),
            batch: self.batch,
            phantoms: self.phantoms.unwrap_or(base.phantoms),
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            real_share: self.real_share.unwrap_or(base.real_share),
            full_share: self.full_share,
            ..base
        };
        config.architecture.base_channels = self.base_channels;
        config
    }
}

/// Prints a step now and then (every 30 s and the last).
fn step_printer(label: String, steps: usize) -> impl FnMut(usize, f64) {
    let mut last = std::time::Instant::now();
    move |step, loss| {
        if last.elapsed().as_secs() >= 30 || step + 1 == steps {
            eprintln!("  {label}step {}/{steps}: loss {loss:.4}", step + 1);
            last = std::time::Instant::now();
        }
    }
}

/// What a training run made, whichever way it went.
struct Trained {
    network: sarcoscope_network::unet::UNet,
    log: train::TrainLog,
    /// The data trained on, for the card.
    data: serde_json::Value,
    limitations: Vec<String>,
    /// Figures made during training (the cross-validation of a fine-tuning run).
    validation: Option<serde_json::Value>,
    /// The HU of a site's slices trained on (empty from scratch): the reference's
    /// "held-out" slices among them are not held out from this model.
    site_slices: Vec<Vec<i16>>,
}

pub fn train_command(options: &TrainOptions) -> Result<(), super::Failure> {
    let config = options.config();
    let start_path = match (&options.start, &options.labels) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(_)) => Some(default_model()),
        (None, None) => None,
    };
    let start = start_path.as_deref().map(read_model).transpose()?;
    let start_ref = start
        .as_ref()
        .map(|(card, weights)| (card, weights.as_slice()));
    let reference = load_reference(options.shared.as_deref())?;
    let (device, device_name) = device::choose(options.device.preference())?;
    let trained = match (&options.labels, &options.ct, start_ref) {
        (Some(labels), Some(ct), Some(start)) => {
            fine_tune_on_site(options, &config, labels, ct, start, &device, &device_name)?
        }
        _ => {
            let real = reference.as_ref().map(|r| r.train()).unwrap_or_default();
            eprintln!(
                "training on {device_name}: {} steps of {} crops, {} phantoms, {} real slices",
                config.steps,
                config.batch,
                config.phantoms,
                real.len()
            );
            let mut print = step_printer(String::new(), config.steps);
            let (network, log) = train::train(
                &config,
                &real,
                start_ref,
                &device,
                &device_name,
                |step, loss| {
                    print(step, loss);
                    ControlFlow::Continue(())
                },
            )?;
            Trained {
                network,
                log,
                data: serde_json::json!({
                    "phantoms": format!("{} procedural L3-region slices (src/phantom) drawn from seed {}", config.phantoms, config.seed),
                    "real": format!("TotalSegmentator labels of totalseg-example: tissue labels on slices {:?}, partial labels from the total map on slices {:?} ({} slices)", reference::TRAIN_SLICES, reference::PARTIAL_TRAIN_SLICES, real.len()),
                    "held_out_never_trained": format!("tissue: slices {:?}; back muscles: L3 slices {:?}", reference::HELD_OUT_SLICES, reference::HELD_OUT_L3_SLICES),
                    "started_from": start_ref.map(|(card, _)| finetune::started_from(card)),
                }),
                limitations: vec![
                    format!("Trained on procedural phantoms and one real CT (labels made by TotalSegmentator, not by hand): full tissue labels on {} slices (T11–T12) and partial labels (autochthon, iliopsoas and gluteal muscles; organs, bones and vessels as not muscle) on {} slices from L5 to mid-L3; no hand-labelled L3 slices were available.", reference::TRAIN_SLICES.count(), reference::PARTIAL_TRAIN_SLICES.count()),
                    "Real-data figures come from one patient's other slices; they say nothing about other scanners, patients or pathologies.".into(),
                ],
                validation: None,
                site_slices: Vec::new(),
            }
        }
    };
    let command = std::iter::once("sarcoscope".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let Packaged { mut card, weights } = sarcoscope_network::wait(model::package(
        &trained.network,
        Provenance {
            name: &options.name,
            config: &config,
            start: start.as_ref().map(|(card, _)| card),
            training: serde_json::json!({
                "command": command,
                "config": config,
                "log": trained.log,
                "data": trained.data,
            }),
            limitations: trained.limitations,
        },
    ))?;
    let segmenter = Segmenter::from_network(card.clone(), trained.network, device);
    eprintln!("evaluating…");
    let mut evaluation = validation::evaluate(
        &segmenter,
        reference.as_ref(),
        options.eval_phantoms,
        |_, _, _| {},
    )?;
    let trained_on_reference = reference.as_ref().is_some_and(|r| {
        let evaluated = r.held_out().into_iter().map(|(s, _)| s.hu);
        let back = r.l3_back_muscles.iter().map(|(_, s)| s.hu.clone());
        evaluated
            .chain(back)
            .any(|hu| trained.site_slices.contains(&hu))
    });
    if trained_on_reference {
        evaluation.notes.push("The site's masks include slices of the reference CT that its figures call held out: those figures (real_held_out, real_l3_back_muscles) are NOT held out from this model. Its honest figures are the cross-validated ones (site_cross_validation).".into());
    }
    let mut figures = serde_json::to_value(&evaluation)?;
    if let Some(site) = trained.validation {
        figures["site_cross_validation"] = site;
    }
    card.validation = figures;
    std::fs::create_dir_all(&options.out)
        .map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
    let weights_path = options.out.join(&card.weights.file);
    write_file(&weights_path, &weights)?;
    let card_path = options.out.join(format!("{}.json", options.name));
    let text = serde_json::to_string_pretty(&card)?;
    write_file(&card_path, text + "\n")?;
    eprintln!(
        "wrote {} and {} (SHA-256 {}) in {:.0} s",
        card_path.display(),
        weights_path.display(),
        card.weights.sha256,
        trained.log.seconds
    );
    print_evaluation(&evaluation);
    Ok(())
}

/// Fine-tunes `start` on the readers' masks under `labels` (cross-validated first).
fn fine_tune_on_site(
    options: &TrainOptions,
    config: &TrainConfig,
    labels: &Path,
    ct: &Path,
    start: (&ModelCard, &[u8]),
    device: &Device,
    device_name: &str,
) -> Result<Trained, super::Failure> {
    let numbering = Numbering {
        numbers: options.numbers.clone(),
        segments: options.segments.clone(),
    };
    let super::agree::SiteCases {
        cases,
        sources,
        failed,
    } = super::agree::site_cases(ct, labels, &numbering)?;
    for f in &failed {
        eprintln!("{}: not used — {}", f.case, f.reason);
    }
    for (case, source) in cases.iter().zip(&sources) {
        eprintln!("  {} = {source}", case.slice.name);
    }
    let series: BTreeSet<&str> = cases.iter().map(|c| c.series.as_str()).collect();
    eprintln!(
        "fine-tuning {} {} on {device_name}: {} labelled slices of {} series, {} folds then all, {} steps of {} crops each",
        start.0.name,
        start.0.version,
        cases.len(),
        series.len(),
        options.folds,
        config.steps,
        config.batch
    );
    let mut fold_print = None;
    let mut final_print = step_printer("all cases: ".into(), config.steps);
    let tuned = sarcoscope_network::wait(finetune::fine_tune(
        config,
        options.folds,
        &cases,
        start,
        device,
        device_name,
        |progress| {
            match progress {
                Progress::Fold {
                    fold,
                    folds,
                    step,
                    loss,
                    ..
                } => {
                    let (at, print) = fold_print.get_or_insert_with(|| {
                        (
                            fold,
                            step_printer(format!("fold {fold}/{folds}: "), config.steps),
                        )
                    });
                    if *at != fold {
                        *at = fold;
                        *print = step_printer(format!("fold {fold}/{folds}: "), config.steps);
                    }
                    print(step, loss);
                }
                Progress::Testing { fold, folds } => eprintln!("  testing fold {fold}/{folds}"),
                Progress::Final { step, loss, .. } => final_print(step, loss),
            }
            ControlFlow::Continue(())
        },
    ))?;
    print_site(&tuned.validation);
    let summary = finetune::SiteSummary::of(&cases, failed.len(), config, start.0);
    let site_slices = cases.iter().map(|c| c.slice.hu.clone()).collect();
    Ok(Trained {
        network: tuned.network,
        log: tuned.log,
        data: summary.data,
        limitations: summary.limitations,
        validation: Some(serde_json::to_value(&tuned.validation)?),
        site_slices,
    })
}

fn print_site(cv: &finetune::CrossValidation) {
    eprintln!("  {}", cv.method);
    for (tissue, after) in &cv.after {
        let before = cv.before.get(tissue);
        let f = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.3}"));
        let p = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:+.1} %"));
        eprintln!(
            "  cross-validated {tissue:<7} Dice {} → {}, area error {} → {} over {} slice(s)",
            f(before.and_then(|b| b.dice)),
            f(after.dice),
            p(before.and_then(|b| b.area_error_percent)),
            p(after.area_error_percent),
            after.slices
        );
    }
}

/// Each held-out slice's overlay is drawn this many times larger (3 mm pixels).
const OVERLAY_ZOOM: usize = 4;

pub fn eval_command(
    options: &ModelOptions,
    shared: Option<&Path>,
    phantoms: usize,
    json: bool,
    overlays: Option<&Path>,
) -> Result<(), super::Failure> {
    let (segmenter, _) = load_model(options)?;
    let reference = load_reference(shared)?;
    if let Some(dir) = overlays {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let (mut written, mut unwritten) = (0usize, Vec::new());
    let evaluation = validation::evaluate(
        &segmenter,
        reference.as_ref(),
        phantoms,
        |slice, predicted, reference| {
            let Some(dir) = overlays else {
                return;
            };
            let muscle = TissueClass::SkeletalMuscle;
            let picture = agreement_overlay(
                &slice.hu,
                slice.columns,
                &predicted.of(muscle),
                &reference.of(muscle),
                OVERLAY_ZOOM,
            );
            let png = sarcoscope::png::rgb8(
                slice.columns * OVERLAY_ZOOM,
                slice.rows * OVERLAY_ZOOM,
                &picture,
            );
            let path = dir.join(format!("{}.png", slice.name.replace(' ', "-")));
            match super::write_file(&path, png) {
                Ok(()) => written += 1,
                Err(e) => unwritten.push(e),
            }
        },
    )?;
    if let Some(problem) = unwritten.into_iter().next() {
        return Err(problem);
    }
    match overlays {
        Some(dir) if written > 0 => eprintln!(
            "{written} muscle overlays of the held-out slices in {}: green both, orange ours only, blue the reference's only",
            dir.display()
        ),
        Some(_) => eprintln!("no overlays: without the reference (--shared) no slice is held out"),
        None => {}
    }
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
        if let Some(edge) = errors.on_reference_edge_percent {
            eprintln!(
                "  of the wrong muscle pixels, {edge:.0} % lie on the reference muscle's edge"
            );
        }
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
