//! `sarcoscope agree <ct-folder> --reference <masks-folder>`: each reader's mask against
//! the automatic mask of the same CT slice, per case and over all cases. A `.tag` file or
//! a PNG label map is matched to the CT image it is named after; each slice of a NIfTI
//! label map to the CT folder's series slice at the same position.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sarcoscope::agree::case::{CaseAgreement, Summary};
use sarcoscope::agree::reference::{self, Format, Placement, ReferenceMask};
use sarcoscope::agree::tag::TagNumbers;
use sarcoscope::agree::AgreementError;
use sarcoscope::body::SmiCutoffs;
use sarcoscope::dicom::Instance;
use sarcoscope::ingest::folder::{self, list_files, LoadedCt};
use sarcoscope::segment::AxialSlice;
use sarcoscope::volume::Volume;
use sarcoscope_network::{PostProcess, Segmenter};
use serde::Serialize;
use serde_json::{json, Value};

use super::segment::{load_model, ModelOptions};

#[derive(clap::Args)]
pub struct AgreeOptions {
    /// The CT images the readers traced (any layout: each image is found by its file
    /// name; for NIfTI label maps, one CT series whose slices they cover).
    pub ct: PathBuf,
    /// The readers' masks: Slice-O-Matic `.tag` files and PNG label maps (Sarcoscope's
    /// labels 0–4), each named after its CT image (`NAME.dcm.tag`, `NAME.tag` or
    /// `NAME.png` for `NAME.dcm`), and NIfTI label maps (`.nii`, `.nii.gz`) of the series.
    #[arg(long)]
    pub reference: PathBuf,
    /// The numbers of each tissue in `.tag` files and NIfTI label maps (default: the
    /// Alberta protocol's).
    #[arg(long, alias = "tag-numbers", default_value = "muscle=1,imat=2,vat=5,sat=7", value_parser = parse_numbers)]
    pub numbers: TagNumbers,
    /// One JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelOptions,
}

/// `muscle=1,imat=2,vat=5+6,sat=7`: each tissue's numbers (several joined by `+`).
fn parse_numbers(text: &str) -> Result<TagNumbers, String> {
    let mut numbers = TagNumbers {
        muscle: vec![],
        imat: vec![],
        vat: vec![],
        sat: vec![],
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (tissue, values) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not tissue=number (e.g. muscle=1)"))?;
        let values = values
            .split('+')
            .map(|v| {
                v.trim()
                    .parse::<u8>()
                    .map_err(|_| format!("`{v}` is not a tag number (0–255)"))
            })
            .collect::<Result<Vec<u8>, String>>()?;
        let slot = match tissue.trim() {
            "muscle" => &mut numbers.muscle,
            "imat" => &mut numbers.imat,
            "vat" => &mut numbers.vat,
            "sat" => &mut numbers.sat,
            other => {
                return Err(format!(
                    "`{other}` is not a tissue: muscle, imat, vat or sat"
                ))
            }
        };
        slot.extend(values);
    }
    Ok(numbers)
}

/// A reference mask that could not be compared, and why.
#[derive(Serialize)]
struct Failed {
    case: String,
    reason: String,
}

pub fn run(options: &AgreeOptions) -> Result<(), super::Failure> {
    let ct_files = list_files(&options.ct)?;
    super::report_skipped(&ct_files.skipped);
    let mut by_name: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for path in ct_files.files {
        if let Some(name) = path.file_name() {
            by_name
                .entry(name.to_string_lossy().into_owned())
                .or_default()
                .push(path);
        }
    }
    let references = list_files(&options.reference)?;
    super::report_skipped(&references.skipped);
    let files: Vec<(&PathBuf, Format)> = references
        .files
        .iter()
        .filter_map(|p| Format::of(p).map(|f| (p, f)))
        .collect();
    if files.is_empty() {
        return Err(format!(
            "no readers' masks (.tag, .png, .nii or .nii.gz files) under {}",
            options.reference.display()
        )
        .into());
    }
    let (segmenter, device) = load_model(&options.model)?;
    let mut cases = Vec::new();
    let mut failed = Vec::new();
    // The CT folder as one series, read once when a label map needs it.
    let mut series: Option<Result<LoadedCt, String>> = None;
    for (path, format) in files {
        let name = super::name_under(path, &options.reference);
        let masks = std::fs::read(path)
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|bytes| {
                reference::read(format, &bytes, &options.numbers).map_err(|e| e.to_string())
            });
        let masks = match masks {
            Ok(masks) => masks,
            Err(reason) => {
                failed.push(Failed { case: name, reason });
                continue;
            }
        };
        for mask in masks {
            let case = match mask.slice {
                Some(k) => format!("{name} slice {k}"),
                None => name.clone(),
            };
            let compared =
                match mask.placement {
                    Placement::Named => ct_image(path, &by_name).and_then(load_image).and_then(
                        |(volume, instance)| {
                            compare(&mask, &volume, 0, &instance, &segmenter, &case)
                        },
                    ),
                    Placement::At {
                        z_mm,
                        slice_spacing,
                    } => match series.get_or_insert_with(|| load_series(&options.ct)) {
                        Err(reason) => Err(reason.clone()),
                        Ok(ct) => slice_at(&ct.volume, z_mm, slice_spacing).and_then(|k| {
                            let instance =
                                ct.files.instances.first().ok_or("the CT series is empty")?;
                            compare(&mask, &ct.volume, k, instance, &segmenter, &case)
                        }),
                    },
                };
            match compared {
                Ok(c) => cases.push(c),
                Err(reason) => failed.push(Failed { case, reason }),
            }
        }
    }
    let summary = Summary::of(&cases);
    let model = format!("{} {}", segmenter.card.name, segmenter.card.version);
    if options.json {
        let text =
            serde_json::to_string_pretty(&report(&cases, &failed, &summary, &model, &device))?;
        out!("{text}");
    } else {
        print_table(&cases, &failed, &summary, &model, &device);
    }
    Ok(())
}

/// The CT folder's series, for the label maps that cover it.
fn load_series(folder: &Path) -> Result<LoadedCt, String> {
    folder::load_ct(folder).map_err(|e| format!("the CT folder cannot be read as one series: {e}"))
}

/// The slice of `volume` at `z_mm`, within half of the label map's slice spacing.
fn slice_at(volume: &Volume, z_mm: f64, slice_spacing: f64) -> Result<usize, String> {
    let positions = &volume.header.slice_positions_mm;
    let reach = slice_spacing.abs() / 2.0 + 1e-3;
    positions
        .iter()
        .position(|&z| (z - z_mm).abs() <= reach)
        .ok_or_else(|| match (positions.first(), positions.last()) {
            (Some(low), Some(high)) => format!(
                "no CT slice at z = {z_mm:.1} mm (the series spans {low:.1} to {high:.1} mm)"
            ),
            _ => "the CT series has no slice positions".into(),
        })
}

/// The CT image a mask file was traced on: `NAME.dcm.tag` → `NAME.dcm`, `NAME.tag` or
/// `NAME.png` → `NAME`, `NAME.dcm` or `NAME.DCM`; the one in the same relative folder
/// when several share the name.
fn ct_image<'a>(
    tag: &Path,
    by_name: &'a BTreeMap<String, Vec<PathBuf>>,
) -> Result<&'a Path, String> {
    let stem = tag
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates = [stem.clone(), format!("{stem}.dcm"), format!("{stem}.DCM")];
    let found = candidates
        .iter()
        .find_map(|name| by_name.get(name))
        .ok_or_else(|| {
            format!(
                "no CT image named {} (or {stem}.dcm) in the CT folder",
                stem
            )
        })?;
    match found.as_slice() {
        [one] => Ok(one),
        several => several
            .iter()
            .find(|p| {
                p.parent().and_then(Path::file_name) == tag.parent().and_then(Path::file_name)
            })
            .map(PathBuf::as_path)
            .ok_or_else(|| {
                format!(
                    "{} CT images are named {stem}: put each mask in a folder named as its image's",
                    several.len()
                )
            }),
    }
}

/// A reader's mask of slice `k` of `volume` against the automatic mask of that slice.
fn compare(
    reference: &ReferenceMask,
    volume: &Volume,
    k: usize,
    instance: &Instance,
    segmenter: &Segmenter,
    case: &str,
) -> Result<CaseAgreement, String> {
    let h = &volume.header;
    if (h.columns, h.rows) != (reference.mask.columns, reference.mask.rows) {
        return Err(format!(
            "the mask is {}×{} pixels but its CT image is {}×{}",
            reference.mask.columns, reference.mask.rows, h.columns, h.rows
        ));
    }
    let slice = AxialSlice::of_volume(volume, k).map_err(|e| e.to_string())?;
    // A mask traced on another image (or resampled) says so by its pixel size.
    if let Some(mask_mm) = reference.pixel_spacing {
        let differs = mask_mm
            .iter()
            .zip(&slice.pixel_spacing)
            .any(|(t, c)| (t.0 - c.0).abs() > 0.01 * c.0);
        if differs {
            return Err(format!(
                "the mask's pixels are {:.3} × {:.3} mm but its CT image's {:.3} × {:.3} mm: it was traced on another image",
                mask_mm[0].0, mask_mm[1].0, slice.pixel_spacing[0].0, slice.pixel_spacing[1].0
            ));
        }
    }
    let auto = segmenter.segment(&slice, &PostProcess::default()).mask;
    let body = sarcoscope::batch::anthropometry(&instance.patient);
    Ok(CaseAgreement::of(
        case,
        &auto,
        &reference.mask,
        &slice,
        &body,
        SmiCutoffs::default(),
    ))
}

/// One CT image as a one-slice volume, read as a folder's CT series is (`load_ct` takes a
/// file as a folder of one).
fn load_image(path: &Path) -> Result<(Volume, Instance), String> {
    let loaded = folder::load_ct(path).map_err(|e| format!("its CT image cannot be used: {e}"))?;
    if let Some((_, error)) = loaded.failures.first() {
        return Err(format!(
            "its CT image {} cannot be decoded: {error}",
            path.display()
        ));
    }
    let instance = loaded.files.instances.into_iter().next();
    instance
        .map(|i| (loaded.volume, i))
        .ok_or_else(|| format!("{} is not an axial CT image", path.display()))
}

/// An aggregate figure, or null with the reason beside it.
fn figure<T>(value: &Result<T, AgreementError>, f: impl FnOnce(&T) -> Value) -> (Value, Value) {
    match value {
        Ok(v) => (f(v), Value::Null),
        Err(e) => (Value::Null, Value::String(e.to_string())),
    }
}

fn report(
    cases: &[CaseAgreement],
    failed: &[Failed],
    summary: &Summary,
    model: &str,
    device: &str,
) -> Value {
    let rows: Vec<Value> = cases
        .iter()
        .flat_map(|c| {
            c.tissues.iter().map(move |(tissue, o)| {
                json!({
                    "case": c.case, "tissue": tissue.key(), "dice": o.dice, "jaccard": o.jaccard,
                    "hd95_mm": o.hd95_mm, "area_auto_cm2": o.area_test_cm2, "area_ref_cm2": o.area_reference_cm2,
                })
            })
        })
        .collect();
    let (sma, sma_reason) = figure(&summary.sma, |s| {
        let ba = &s.bland_altman;
        json!({
            "cases": ba.cases, "bias": ba.bias, "loa_lower": ba.loa_lower, "loa_upper": ba.loa_upper,
            "icc_2_1": s.icc.icc_2_1.icc, "icc_2_1_lower": s.icc.icc_2_1.ci.lower,
            "icc_2_1_upper": s.icc.icc_2_1.ci.upper, "ccc": s.concordance.ccc,
        })
    });
    let (kappa, kappa_reason) = figure(&summary.sarcopenia, |k| json!(k.kappa));
    json!({
        "cases": rows,
        "sma": sma,
        "sma_unavailable": sma_reason,
        "sarcopenia_kappa": kappa,
        "sarcopenia_kappa_unavailable": kappa_reason,
        "sarcopenia_cutoffs": SmiCutoffs::default().name(),
        "failed": failed,
        "model": model,
        "device": device,
    })
}

fn print_table(
    cases: &[CaseAgreement],
    failed: &[Failed],
    summary: &Summary,
    model: &str,
    device: &str,
) {
    out!("automatic masks by {model} on {device}, against the readers' masks");
    out!(
        "{:<32} {:<8} {:>6} {:>8} {:>9} {:>9} {:>9}",
        "case",
        "tissue",
        "Dice",
        "HD95 mm",
        "auto cm²",
        "ref cm²",
        "diff %"
    );
    let number = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "—".to_owned(), |v| format!("{v:.digits$}"))
    };
    for c in cases {
        for (tissue, o) in &c.tissues {
            out!(
                "{:<32} {:<8} {:>6} {:>8} {:>9.2} {:>9.2} {:>9}",
                c.case,
                tissue.key(),
                number(o.dice, 3),
                number(o.hd95_mm, 1),
                o.area_test_cm2,
                o.area_reference_cm2,
                number(o.area_difference_percent(), 1)
            );
        }
    }
    match &summary.sma {
        Ok(s) => out!(
            "muscle area over {} cases: bias {:.2} cm², limits of agreement {:.2} to {:.2}; ICC(2,1) {:.3} ({:.3}–{:.3}); CCC {:.3}",
            s.bland_altman.cases,
            s.bland_altman.bias,
            s.bland_altman.loa_lower,
            s.bland_altman.loa_upper,
            s.icc.icc_2_1.icc,
            s.icc.icc_2_1.ci.lower,
            s.icc.icc_2_1.ci.upper,
            s.concordance.ccc
        ),
        Err(e) => out!("muscle area over all cases: not given ({e})"),
    }
    match &summary.sarcopenia {
        Ok(k) => out!(
            "sarcopenia ({}): kappa {:.3} over {} cases",
            SmiCutoffs::default().name(),
            k.kappa,
            k.cases
        ),
        Err(e) => out!("sarcopenia: kappa not given ({e})"),
    }
    for f in failed {
        out!("{}: not compared — {}", f.case, f.reason);
    }
}
