//! Segmentation, natively: the shipped model file is verified before use, the real
//! series is segmented through the command line as a user would, the mask export reads
//! back, the NIfTI reference lines up with the DICOM series, and training is
//! reproducible from its seed.

mod common;

use std::io::Read;
use std::process::Command;

use burn::prelude::Device;
use sarcoscope::segment::dataset::IGNORE;
use sarcoscope::segment::reference::HELD_OUT_SLICES;
use sarcoscope::segment::{InputSpec, TissueClass};
use sarcoscope_network::model::{self, ModelCard, ModelError, WeightsRef};
use sarcoscope_network::train::{self, TrainConfig};
use sarcoscope_network::unet::Architecture;
use sarcoscope_network::Segmenter;
use serde_json::Value;

fn model_files() -> (Vec<u8>, Vec<u8>) {
    let dir = common::repository().join("models");
    let card = common::read(&dir.join("sarcoscope-l3-unet.json"));
    let parsed = ModelCard::parse(&card).expect("the shipped card parses");
    let weights = common::read(&dir.join(&parsed.weights.file));
    (card, weights)
}

#[test]
fn shipped_model_is_verified_before_use() {
    let (card, weights) = model_files();
    let card = ModelCard::parse(&card).expect("card");
    assert!(
        weights.len() <= 8 * 1024 * 1024,
        "weights are {} bytes",
        weights.len()
    );
    assert_eq!(card.weights.bytes, weights.len());
    Segmenter::new(card.clone(), &weights, Device::flex()).expect("the shipped weights load");
    // One flipped byte anywhere is refused, in words.
    let mut damaged = weights.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    let error = Segmenter::new(card.clone(), &damaged, Device::flex()).expect_err("damaged");
    assert!(matches!(error, ModelError::Checksum { .. }), "{error}");
    assert!(error.to_string().contains("damaged"), "{error}");
    // Weights that match their (edited) card but not the architecture are refused too.
    let mut other = card.clone();
    other.architecture.base_channels = 8;
    other.weights.sha256 = sarcoscope::digest::sha256_hex(&weights);
    let error = Segmenter::new(other, &weights, Device::flex()).expect_err("mismatch");
    assert!(matches!(error, ModelError::Mismatch(_)), "{error}");
    let mut truncated_card = card.clone();
    let cut = &weights[..weights.len() - 4];
    truncated_card.weights.sha256 = sarcoscope::digest::sha256_hex(cut);
    let error = Segmenter::new(truncated_card, cut, Device::flex()).expect_err("cut");
    assert!(matches!(error, ModelError::Mismatch(_)), "{error}");
    assert!(ModelCard::parse(b"{}").is_err());
    assert!(ModelCard::parse(b"not json").is_err());
}

fn run(args: &[&str]) -> Value {
    common::run_cli_json(env!("CARGO_BIN_EXE_sarcoscope"), args)
}

/// Decodes the 8-bit greyscale PNGs `png::grey8` writes: (width, height, pixels).
/// An 8-bit PNG as Sarcoscope writes it (no filters): width, height and the bytes of its
/// pixels, one a pixel when greyscale, three when RGB.
fn read_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (mut at, mut width, mut height, mut channels, mut idat) = (8, 0, 0, 1, Vec::new());
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "8 bits a channel");
                channels = match data[9] {
                    0 => 1,
                    2 => 3,
                    other => panic!("colour type {other}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .expect("zlib");
    let pixels = raw
        .chunks(width * channels + 1)
        .flat_map(|row| {
            assert_eq!(row[0], 0, "filter none");
            row[1..].to_vec()
        })
        .collect();
    (width, height, pixels)
}

#[test]
fn real_series_l3_is_segmented_and_the_mask_reads_back() {
    let Some(series) = common::shared_dir(common::SERIES_DIR) else {
        return;
    };
    let out = std::env::temp_dir().join(format!("sarcoscope-mask-{}.png", std::process::id()));
    let json = run(&[
        "segment",
        series.to_str().expect("path"),
        "--json",
        "--device",
        "cpu",
        "--mask-out",
        out.to_str().expect("path"),
    ]);
    // The automatic L3 slice of this series (tests/l3.rs).
    assert_eq!(json["slice_index"], 74);
    assert_eq!(json["slice_chosen_by"], "automatic L3");
    let tissues = json["tissues"].as_array().expect("tissues");
    let keys: Vec<&str> = tissues
        .iter()
        .filter_map(|t| t["tissue"].as_str())
        .collect();
    assert_eq!(keys, ["skeletal_muscle", "imat", "vat", "sat"]);
    let (width, height, pixels) = read_png(&common::read(&out));
    let _ = std::fs::remove_file(&out);
    assert_eq!((width, height), (122, 101));
    let pixel_cm2 = 0.09; // 3 mm × 3 mm
    for (label, tissue) in (1u8..=4).zip(tissues) {
        let count = pixels.iter().filter(|&&p| p == label).count();
        assert_eq!(tissue["pixels"], count, "{tissue}");
        let area = tissue["area_cm2"].as_f64().expect("area");
        assert!((area - count as f64 * pixel_cm2).abs() < 1e-6, "{tissue}");
    }
    assert!(pixels.iter().all(|&p| p <= 4));
    // Muscle at L3 of an adult: between 60 and 250 cm², mean within its HU window.
    let muscle = &tissues[0];
    let area = muscle["area_cm2"].as_f64().expect("area");
    assert!((60.0..250.0).contains(&area), "muscle {area} cm²");
    let mean = muscle["mean_hu"].as_f64().expect("mean");
    assert!((-29.0..=150.0).contains(&mean), "muscle mean {mean} HU");
    // A slice that is not there is refused in words.
    let output = Command::new(env!("CARGO_BIN_EXE_sarcoscope"))
        .args(["segment", series.to_str().expect("path"), "--slice", "500"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("slice 500 is not in this series"),
        "{message}"
    );
}

#[test]
fn nifti_reference_lines_up_with_the_dicom_series() {
    let Some(dir) = common::shared_dir("data/ct/totalseg-example") else {
        return;
    };
    let ct = sarcoscope::nifti::read(&common::read(&dir.join("tissue-T11-L2/ct.nii.gz")))
        .expect("NIfTI");
    let loaded = sarcoscope::ingest::folder::load_ct(&dir.join("series-dicom")).expect("series");
    assert!(loaded.failures.is_empty());
    let volume = loaded.volume;
    assert_eq!((ct.columns, ct.rows, ct.slices), (122, 101, 30));
    for s in 0..ct.slices {
        let k = volume
            .header
            .slice_positions_mm
            .iter()
            .position(|&z| (z - ct.slice_z_mm[s]).abs() < 0.5)
            .expect("a DICOM slice at the NIfTI slice's z");
        let dicom = volume.axial(k).expect("slice");
        let nifti = ct.slice(s).expect("slice");
        assert!(
            dicom.iter().zip(nifti).all(|(&a, &b)| f32::from(a) == b),
            "NIfTI slice {s} differs from DICOM slice {k}"
        );
    }
    let reference = sarcoscope::segment::reference::load(&dir).expect("reference");
    assert_eq!(reference.tissue.len(), 30);
    assert_eq!(reference.held_out().len(), 15);
    assert_eq!(reference.l3_back_muscles.len(), 6, "the upper half of L3");
    assert_eq!(reference.partial.len(), 31);
    assert_eq!(reference.train().len(), 12 + 31);
    let held_out: Vec<usize> = reference
        .l3_back_muscles
        .iter()
        .map(|(k, _)| k.0)
        .chain(HELD_OUT_SLICES)
        .collect();
    for (k, slice) in &reference.partial {
        assert!(
            held_out.iter().all(|h| h.abs_diff(k.0) > 2),
            "partial slice {} lies within 2 slices of a held-out one",
            k.0
        );
        let count = |class: u8| slice.labels.iter().filter(|&&l| l == class).count();
        let muscle = count(TissueClass::SkeletalMuscle.label());
        // Psoas and back muscles: tens of cm² on 9 mm² pixels.
        assert!(muscle > 200, "slice {}: {muscle} muscle pixels", k.0);
        assert!(count(TissueClass::Background.label()) > muscle);
        assert!(
            count(IGNORE) > 1000,
            "slice {}: the rest is unlabelled",
            k.0
        );
        assert_eq!(
            count(TissueClass::Sat.label()) + count(TissueClass::Vat.label()),
            0
        );
    }
}

#[test]
fn training_goes_on_from_a_model_of_the_same_shape() {
    let config = tiny(5);
    let run = |start: Option<(&ModelCard, &[u8])>| {
        train::train(&config, &[], start, &Device::flex(), "CPU", |_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .map(|(net, _)| {
            model::write_weights(
                &sarcoscope_network::wait(model::tensors_of(&net)).expect("weights read back"),
            )
        })
    };
    let weights = run(None).expect("trains");
    let shipped = ModelCard::parse(&model_files().0).expect("the shipped card parses");
    let card = ModelCard {
        architecture: config.architecture,
        weights: WeightsRef {
            file: "start.weights".into(),
            bytes: weights.len(),
            sha256: sarcoscope::digest::sha256_hex(&weights),
            parameters: 0,
        },
        ..shipped
    };
    let tuned = run(Some((&card, &weights))).expect("fine-tunes");
    assert_eq!(
        run(None).expect("trains"),
        weights,
        "from scratch: the same seed, the same weights"
    );
    assert_ne!(tuned, weights, "going on from a model moves it");
    let other = ModelCard {
        architecture: Architecture {
            base_channels: 6,
            ..config.architecture
        },
        ..card.clone()
    };
    let refused = run(Some((&other, &weights)));
    assert!(matches!(refused, Err(train::TrainError::Start(_))));
}

/// A tiny network and run: fast enough for every test run, yet the whole path.
fn tiny(seed: u64) -> TrainConfig {
    TrainConfig {
        seed,
        steps: 2,
        batch: 2,
        crop: 32,
        architecture: Architecture {
            base_channels: 4,
            levels: 3,
            ..Architecture::DEFAULT
        },
        input: InputSpec {
            size: 64,
            spacing_mm: 6.0,
            ..InputSpec::DEFAULT
        },
        phantoms: 1,
        ..TrainConfig::default()
    }
}

#[test]
fn training_is_reproducible_from_its_seed() {
    let weights = |seed| {
        let (net, log) = train::train(&tiny(seed), &[], None, &Device::flex(), "CPU", |_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .expect("trains");
        assert!(log.loss_curve.iter().all(|l| l.is_finite() && *l > 0.0));
        model::write_weights(
            &sarcoscope_network::wait(model::tensors_of(&net)).expect("weights read back"),
        )
    };
    let first = weights(3);
    assert_eq!(first, weights(3), "the same seed gives the same weights");
    assert_ne!(first, weights(4), "another seed gives other weights");
}

#[test]
fn eval_reproduces_the_model_cards_figures() {
    let Some(shared) = common::shared_dir("data") else {
        return;
    };
    let (card, _) = model_files();
    let card: Value = serde_json::from_slice(&card).expect("card JSON");
    let phantoms = card["validation"]["phantom_count"].to_string();
    let shared = shared.parent().expect("shared root");
    // Kept in artifacts/ for a person to look at where the model and the reference differ.
    let overlays = common::repository().join("artifacts/eval-overlays");
    std::fs::remove_dir_all(&overlays).ok();
    let ours = run(&[
        "eval",
        "--json",
        "--device",
        "cpu",
        "--shared",
        shared.to_str().expect("path"),
        "--phantoms",
        &phantoms,
        "--overlays",
        overlays.to_str().expect("path"),
    ]);
    // The card was written by `train` on the CPU backend: the same figures, to the digit.
    assert_eq!(ours, card["validation"], "eval differs from the model card");
    let muscle = ours["real_held_out"]["muscle"]["dice"]
        .as_f64()
        .expect("muscle Dice");
    assert!(muscle > 0.8, "held-out real muscle Dice {muscle}");
    // Where the muscle errors lie adds up to the area error: extra minus missed.
    let errors = &ours["real_held_out_muscle_errors"];
    let sum = |key: &str| -> f64 {
        errors[key]
            .as_object()
            .expect("shares by structure")
            .values()
            .filter_map(Value::as_f64)
            .sum()
    };
    let area = ours["real_held_out"]["muscle"]["area_error_percent"]
        .as_f64()
        .expect("area error");
    let net = sum("extra_percent") - sum("missed_percent");
    assert!((net - area).abs() < 1e-9, "{net} vs {area}");
    assert!(errors["extra_percent"]["kidney"].as_f64().is_some());
    let edge = errors["on_reference_edge_percent"]
        .as_f64()
        .expect("share of errors on the reference's edge");
    assert!((0.0..=100.0).contains(&edge), "{edge} %");
    // The overlays draw the same masks: their colours give the same Dice and area ratio.
    let (mut both, mut extra, mut missed) = (0usize, 0usize, 0usize);
    let mut pictures = 0;
    for k in HELD_OUT_SLICES {
        let path = overlays.join(format!("totalseg-example-slice-{k}.png"));
        let (width, height, pixels) = read_png(&common::read(&path));
        assert_eq!((width, height), (122 * 4, 101 * 4), "{}", path.display());
        for rgb in pixels.chunks(3) {
            match rgb {
                [0, 158, 115] => both += 1,
                [230, 159, 0] => extra += 1,
                [0, 114, 178] => missed += 1,
                _ => {}
            }
        }
        pictures += 1;
    }
    assert_eq!(pictures, 15);
    let muscle = &ours["real_held_out"]["muscle"];
    let drawn_dice = 2.0 * both as f64 / (2 * both + extra + missed) as f64;
    assert!((drawn_dice - muscle["dice"].as_f64().expect("Dice")).abs() < 1e-12);
    let ratio = |a: &str, b: &str| muscle[a].as_f64().expect(a) / muscle[b].as_f64().expect(b);
    let drawn_ratio = (both + extra) as f64 / (both + missed) as f64;
    assert!((drawn_ratio - ratio("predicted_area_cm2", "reference_area_cm2")).abs() < 1e-9);
}

/// A real slice (L1–L2, held out) with two arms drawn beside it — one 6 mm away, one
/// touching the skin of the flank — in a field widened with air: the arms are found and left out,
/// and the trunk's muscle and fat are what they are without them.
#[test]
fn arms_beside_a_real_trunk_are_left_out() {
    let Some(shared) = common::shared_dir("data/ct/totalseg-example") else {
        return;
    };
    let reference = sarcoscope::segment::reference::load(&shared).expect("reference");
    let (_, real) = reference
        .tissue
        .iter()
        .find(|(k, _)| k.0 == 90)
        .expect("slice 90");
    let spacing = real.pixel_spacing[0].0;
    let pad = (90.0 / spacing) as usize;
    let columns = real.columns + 2 * pad;
    let rows = real.rows;
    let mut without = vec![-1000i16; columns * rows];
    for r in 0..rows {
        let from = &real.hu[r * real.columns..(r + 1) * real.columns];
        without[r * columns + pad..r * columns + pad + real.columns].copy_from_slice(from);
    }
    // The trunk's outermost body column on each side, at the arms' height.
    let arm_row = rows / 2;
    let body = |c: usize| without[arm_row * columns + c] > -500;
    let left_edge = (0..columns).find(|&c| body(c)).expect("body");
    let right_edge = (0..columns).rev().find(|&c| body(c)).expect("body");
    let radius = 35.0 / spacing;
    let mut with = without.clone();
    let centres = [
        left_edge as f64 - radius - 6.0 / spacing,
        right_edge as f64 + radius + 1.0,
    ];
    for r in 0..rows {
        for c in 0..columns {
            for centre in centres {
                let d = ((c as f64 - centre).powi(2) + (r as f64 - arm_row as f64).powi(2)).sqrt()
                    * spacing;
                let hu = match d {
                    d if d <= 10.0 => 700,  // humerus
                    d if d <= 28.0 => 50,   // biceps, triceps
                    d if d <= 35.0 => -100, // fat under the skin
                    _ => continue,
                };
                if with[r * columns + c] <= -500 {
                    with[r * columns + c] = hu;
                }
            }
        }
    }
    let (card, weights) = model_files();
    let card = ModelCard::parse(&card).expect("card");
    let segmenter = Segmenter::new(card, &weights, Device::flex()).expect("model");
    let post = sarcoscope_network::PostProcess::default();
    let segment = |hu: &[i16]| {
        let slice = sarcoscope::segment::AxialSlice::new(hu, columns, rows, real.pixel_spacing)
            .expect("slice");
        segmenter.segment(&slice, &post)
    };
    let plain = segment(&without);
    let armed = segment(&with);
    assert!(
        plain.left_out.body_parts_cm2.is_empty(),
        "{:?}",
        plain.left_out
    );
    let parts = &armed.left_out.body_parts_cm2;
    assert_eq!(parts.len(), 2, "two arms: {:?}", armed.left_out);
    assert!(parts.iter().all(|&a| a > 25.0), "{parts:?}");
    assert!(armed
        .left_out
        .describe()
        .is_some_and(|s| s.contains("2 body parts")));
    for class in [TissueClass::SkeletalMuscle, TissueClass::Sat] {
        let (a, b) = (plain.mask.count(class), armed.mask.count(class));
        assert!(
            a.abs_diff(b) * 100 <= a,
            "{class:?}: {a} pixels without arms, {b} with"
        );
    }
    let in_arm = |i: usize| {
        let (c, r) = ((i % columns) as f64, (i / columns) as f64);
        centres
            .iter()
            .any(|&x| ((c - x).powi(2) + (r - arm_row as f64).powi(2)).sqrt() * spacing < 30.0)
    };
    let muscle_in_arms = armed
        .mask
        .of(TissueClass::SkeletalMuscle)
        .iter()
        .enumerate()
        .filter(|&(i, &m)| m && in_arm(i))
        .count();
    assert_eq!(muscle_in_arms, 0, "no arm muscle counts");
}
