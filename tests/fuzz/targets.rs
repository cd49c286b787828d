//! What the fuzzer runs: every reader that a user's file reaches, each called as the app
//! and the command line call it. A target returns nothing: an `Err` is the reader doing
//! its job; a panic that escapes, an abort (stack, memory) or a hang is a finding. The
//! same functions replay the minimised findings in `tests/fuzz_regressions.rs`.

#[path = "../common/nifti.rs"]
mod nifti_writer;

use std::io::Write;
use std::path::Path;

use sarcoscope::agree::reference::{self, Format, Numbering};
use sarcoscope::batch::{clinical, keys};
use sarcoscope::clinical::labs::Units;
use sarcoscope::clinical::table::score_table;
use sarcoscope::dicom::{self, series};
use sarcoscope::report::{self, seg::SegContext};
use sarcoscope::segment::mask::TissueMask;
use sarcoscope::survival::table::CohortTable;
use sarcoscope::{csv, nifti, volume};
use sarcoscope_network::model::{self, ModelCard, StoredTensor};
use sarcoscope_network::Device;

pub type Target = fn(&[u8]);

pub const NAMES: [&str; 5] = ["dicom", "nifti", "tables", "masks", "model"];

pub fn by_name(name: &str) -> Option<Target> {
    let target: Target = match name {
        "dicom" => dicom,
        "nifti" => nifti,
        "tables" => tables,
        "masks" => masks,
        "model" => model,
        _ => return None,
    };
    Some(target)
}

/// A DICOM file as a dropped folder meets it: its header from the first bytes, then the
/// whole file, grouped into a series and decoded into a volume — each transfer syntax
/// reaches its own pixel decoder.
pub fn dicom(data: &[u8]) {
    let _ = dicom::read_instance_from_prefix(&data[..data.len().min(dicom::HEADER_PREFIX_BYTES)]);
    let Ok(instance) = dicom::read_instance(data) else {
        return;
    };
    let instances = [instance];
    for study in series::build(&instances) {
        for found in &study.series {
            let _ = volume::load(found, &instances, |_| Ok(data.to_vec()), |_, _| {});
        }
    }
}

/// A NIfTI label map (a reader's labels, the reference's maps), plain or gzipped.
pub fn nifti(data: &[u8]) {
    let _ = nifti::read(data);
}

/// Every table a user gives: a cohort for the statistics (any dialect), a clinical table
/// to score or to join to a cohort, a cohort table and key table written by a batch run.
pub fn tables(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = csv::parse(&text);
    let _ = CohortTable::from_bytes(data);
    let _ = score_table(&text, Units::Si, None);
    let _ = score_table(&text, Units::Conventional, Some(40.0));
    let keys = keys::parse(&text).unwrap_or_default();
    if let Ok((settings, rows)) = clinical::read_cohort(&text) {
        let _ = clinical::join(settings, &rows, &text, Units::Si, &keys);
    }
}

/// A reader's mask in each of the four formats the agreement study takes.
pub fn masks(data: &[u8]) {
    let numbering = Numbering::default();
    for format in [Format::Tag, Format::Png, Format::Nifti, Format::Seg] {
        let _ = reference::read(format, data, &numbering);
    }
}

/// A model chosen in the browser or given to `--model`: the bytes as a card, and as
/// weights under a card that names their checksum (else the weights reader is never
/// reached).
pub fn model(data: &[u8]) {
    let _ = ModelCard::parse(data);
    if let Ok(card) = small_card(data) {
        let _ = card.load(data, &Device::flex());
    }
}

/// The shipped card with the smallest architecture, naming `weights`' checksum.
pub fn small_card(weights: &[u8]) -> Result<ModelCard, model::ModelError> {
    let mut card = ModelCard::parse(include_bytes!("../../models/sarcoscope-l3-unet.json"))?;
    card.architecture.base_channels = 4;
    card.architecture.levels = 3;
    card.weights.sha256 = sarcoscope::digest::sha256_hex(weights);
    Ok(card)
}

/// Seeds that `../shared` has no files of: small valid inputs of the tables, label-map
/// and model targets (the DICOM seeds are the shared corpus itself).
pub fn write_seeds(dir: &Path) -> std::io::Result<()> {
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name), bytes)
    };
    let network = small_card(&[])
        .map_err(std::io::Error::other)?
        .architecture
        .init(&Device::flex());
    let tensors: Vec<StoredTensor> =
        sarcoscope_network::wait(model::tensors_of(&network)).map_err(std::io::Error::other)?;
    write("model", "weights", &model::write_weights(&tensors))?;
    write(
        "model",
        "card.json",
        include_bytes!("../../models/sarcoscope-l3-unet.json"),
    )?;
    write(
        "tables",
        "cohort.csv",
        b"id,time,status,age,bili\n1,400,1,58.8,14.5\n2,4500,0,56.4,1.1\n3,1012,2,70.1,NA\n",
    )?;
    write(
        "tables",
        "semicolons.csv",
        b"id;time;status;albumin\n1;400;1;2,60\n2;4500;0;4,14\n",
    )?;
    write("tables", "labs.csv",
        b"id,bili,creat,inr,na,alb,sex,dialysis,ascites,encephalopathy\nA,34,90,1.4,133,30,M,no,mild,none\n",
    )?;
    // An 8×6 mask: muscle, fat and background, in each format a reader's mask comes in.
    let labels: Vec<u8> = (0..48u8)
        .map(|i| [0, 1, 1, 3, 4, 2][usize::from(i % 6)])
        .collect();
    write(
        "masks",
        "labels.png",
        &sarcoscope::png::grey8(8, 6, &labels),
    )?;
    let mut tag = b"x: 8 y: 6 z: 1 type: BYTE org_x: 0.0 org_y: 0.0 org_z: 0.0\n\
        inc_x: 0.8 inc_y: 0.8 epais: 3.0\n\x0c"
        .to_vec();
    tag.extend(labels.iter().map(|&l| [0, 1, 2, 5, 7][usize::from(l)]));
    write("masks", "labels.tag", &tag)?;
    let nii = nifti_writer::labels(
        8,
        6,
        0.8,
        [0.0, 0.0],
        100.0,
        3.0,
        std::slice::from_ref(&labels),
    );
    write("masks", "labels.nii", &nii)?;
    write("nifti", "labels.nii", &nii)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&nii)?;
    write("nifti", "labels.nii.gz", &gz.finish()?)?;
    if let Some(mask) = TissueMask::from_labels(8, 6, labels) {
        let context = SegContext {
            pixel_spacing: [0.8, 0.8],
            slice_thickness: Some(3.0),
            position: Some([-3.2, -2.4, 100.0]),
            orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
            source: None,
            model: "seed".into(),
            edited: false,
            date: "20261202".into(),
            time: "120000".into(),
        };
        let seg = report::seg::write(&mask, &context).map_err(std::io::Error::other)?;
        write("masks", "labels.seg.dcm", &seg)?;
    }
    Ok(())
}
