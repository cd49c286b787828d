//! `sarcoscope agree <ct-folder> --reference <masks-folder>`: each reader's mask against
//! the automatic mask of the same CT slice, per case and over all cases. A `.tag` file or
//! a PNG label map is matched to the CT image it is named after; a DICOM SEG to the CT
//! image it names (else by position); each slice of a NIfTI label map to the CT folder's
//! series slice at the same position. The automatic masks are made now, or taken from
//! `--auto` (Sarcoscope's exports, placed the same way).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sarcoscope::agree::case::{cases_csv, CaseAgreement, Cutoffs, LevelDistance, Summary};
use sarcoscope::agree::reference::{self, Format, Numbering, Placement, ReferenceMask};
use sarcoscope::agree::seg::SegmentNames;
use sarcoscope::agree::tag::TagNumbers;
use sarcoscope::body::Anthropometry;
use sarcoscope::dicom::Instance;
use sarcoscope::ingest::folder::{self, list_files, LoadedCt};
use sarcoscope::report::agreement::{AgreementReport, Failed};
use sarcoscope::segment::{AxialSlice, TissueMask};
use sarcoscope::units::Millimetres;
use sarcoscope::volume::Volume;
use sarcoscope_network::{PostProcess, Segmenter};

use super::segment::{load_model, ModelOptions};

#[derive(clap::Args)]
pub struct AgreeOptions {
    /// The CT images the readers traced (any layout: each image is found by its file
    /// name or its SOP Instance UID; for label maps and SEGs placed by position, one CT
    /// series whose slices they cover).
    pub ct: PathBuf,
    /// The readers' masks: Slice-O-Matic `.tag` files and PNG label maps (Sarcoscope's
    /// labels 0–4), each named after its CT image (`NAME.dcm.tag`, `NAME.tag` or
    /// `NAME.png` for `NAME.dcm`), DICOM SEG files (binary or fractional), and NIfTI label
    /// maps (`.nii`, `.nii.gz`) of the series.
    #[arg(long)]
    pub reference: PathBuf,
    /// Automatic masks made earlier (Sarcoscope's PNG label maps or DICOM SEG exports),
    /// placed on their CT slices as the readers' are; without it each slice is segmented
    /// now.
    #[arg(long)]
    pub auto: Option<PathBuf>,
    /// The numbers of each tissue in `.tag` files and NIfTI label maps (default: the
    /// Alberta protocol's).
    #[arg(long, alias = "tag-numbers", default_value = "muscle=1,imat=2,vat=5,sat=7", value_parser = parse_numbers)]
    pub numbers: TagNumbers,
    /// The tissue of DICOM SEG segments whose codes and labels do not say it, by label:
    /// `Segment_1=muscle,Liver=ignore`; `*=ignore` leaves every other unknown segment out.
    #[arg(long, default_value = "", value_parser = SegmentNames::parse)]
    pub segments: SegmentNames,
    /// One JSON document (per-case rows and the aggregate figures) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the per-case figures (a line per case and tissue) to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write a printable HTML report (Bland–Altman plots, every figure with its
    /// method) to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
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

/// The CT slice a mask belongs to.
enum Target {
    /// A CT image file, as a one-slice volume.
    Image(PathBuf),
    /// Slice `k` (most inferior first) of the CT folder's series.
    SeriesSlice(usize),
}

/// The CT slice of a [`Target`] (its HU copied out of the volume), with what the
/// comparison needs.
struct CtSlice {
    hu: Vec<i16>,
    columns: usize,
    rows: usize,
    pixel_spacing: [Millimetres; 2],
    body: Anthropometry,
    /// ImagePositionPatient of the slice.
    position: Option<[f64; 3]>,
    /// Which image it is however a mask found it: (SOP Instance UID, frame).
    key: (String, u32),
}

impl CtSlice {
    fn of(
        volume: &Volume,
        k: usize,
        instance: &Instance,
        frame: u32,
        position: Option<[f64; 3]>,
    ) -> Result<CtSlice, String> {
        let slice = AxialSlice::of_volume(volume, k).map_err(|e| e.to_string())?;
        Ok(CtSlice {
            hu: slice.hu.to_vec(),
            columns: slice.columns,
            rows: slice.rows,
            pixel_spacing: slice.pixel_spacing,
            body: sarcoscope::batch::anthropometry(&instance.patient),
            position,
            key: (instance.sop_instance_uid.clone(), frame),
        })
    }

    fn axial(&self) -> AxialSlice<'_> {
        AxialSlice {
            hu: &self.hu,
            columns: self.columns,
            rows: self.rows,
            pixel_spacing: self.pixel_spacing,
        }
    }
}

/// The CT folder, its images found by name or UID, its series read once when needed.
struct CtFolder<'a> {
    root: &'a Path,
    by_name: BTreeMap<String, Vec<PathBuf>>,
    /// SOP Instance UID → file, read on first use (only a SEG needs it).
    by_uid: Option<HashMap<String, PathBuf>>,
    series: Option<Result<LoadedCt, String>>,
    /// The series' automatic L3 slice, searched on first use (`None`: not found).
    l3: Option<Option<usize>>,
}

impl<'a> CtFolder<'a> {
    fn new(root: &'a Path, files: Vec<PathBuf>) -> CtFolder<'a> {
        let mut by_name: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for path in files {
            if let Some(name) = path.file_name() {
                by_name
                    .entry(name.to_string_lossy().into_owned())
                    .or_default()
                    .push(path);
            }
        }
        CtFolder {
            root,
            by_name,
            by_uid: None,
            series: None,
            l3: None,
        }
    }

    /// The CT slice a mask read from `file` belongs to.
    fn locate(&mut self, file: &Path, placement: &Placement) -> Result<Target, String> {
        match placement {
            Placement::Named => ct_image(file, &self.by_name).map(|p| Target::Image(p.into())),
            Placement::Source { sop_instance_uid } => {
                let by_name = &self.by_name;
                let by_uid = self.by_uid.get_or_insert_with(|| {
                    by_name
                        .values()
                        .flatten()
                        .filter_map(|p| {
                            let header = folder::read_header(p).ok()?;
                            Some((header.sop_instance_uid, p.clone()))
                        })
                        .collect()
                });
                by_uid
                    .get(sop_instance_uid)
                    .map(|p| Target::Image(p.clone()))
                    .ok_or_else(|| {
                        format!("the CT image it was drawn on (SOP Instance UID {sop_instance_uid}) is not in the CT folder")
                    })
            }
            Placement::At {
                z_mm,
                slice_spacing,
            } => {
                let ct = self.series()?;
                slice_at(&ct.volume, *z_mm, *slice_spacing).map(Target::SeriesSlice)
            }
        }
    }

    /// The CT folder's series, for the masks placed by position.
    fn series(&mut self) -> Result<&LoadedCt, String> {
        let root = self.root;
        self.series
            .get_or_insert_with(|| {
                folder::load_ct(root)
                    .map_err(|e| format!("the CT folder cannot be read as one series: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// How far the slice `key` names lies from the automatic L3 of the folder's series;
    /// `None` when it is not in that series or no L3 was found there.
    fn level(&mut self, key: &(String, u32)) -> Option<LevelDistance> {
        self.series().ok()?;
        let Some(Ok(ct)) = &self.series else {
            return None;
        };
        let slices = ct.volume.header.slices;
        let traced = (0..slices).find(|&k| {
            ct.files
                .slice_source(k)
                .is_some_and(|(inst, frame, _)| inst.sop_instance_uid == key.0 && frame == key.1)
        })?;
        let auto = (*self.l3.get_or_insert_with(|| {
            let found = (slices >= sarcoscope::l3::MIN_SLICES)
                .then(|| sarcoscope::l3::locate(&ct.volume))?;
            sarcoscope::batch::measured_level(&ct.volume.header, Some(&found))
                .ok()
                .map(|level| level.slice)
        }))?;
        LevelDistance::of(&ct.volume.header.slice_positions_mm, traced, auto)
    }

    fn slice(&mut self, target: &Target) -> Result<CtSlice, String> {
        match target {
            Target::Image(path) => {
                let (volume, instance) = load_image(path)?;
                let position = instance.frame_geometry.first().and_then(|g| g.position);
                CtSlice::of(&volume, 0, &instance, 0, position)
            }
            Target::SeriesSlice(k) => {
                let ct = self.series()?;
                let (instance, frame, position) = ct
                    .files
                    .slice_source(*k)
                    .ok_or("the CT series has no such slice")?;
                CtSlice::of(&ct.volume, *k, instance, frame, position)
            }
        }
    }
}

/// Where the automatic masks come from.
enum Automatic {
    Now(Box<Segmenter>),
    /// Masks read from `--auto`, by the CT image they belong to.
    Made(BTreeMap<(String, u32), TissueMask>),
}

/// One mask file: where it is, its name under the folder given, its masks or why not.
struct MaskFile {
    path: PathBuf,
    name: String,
    masks: Result<Vec<ReferenceMask>, String>,
}

/// Each mask file under `folder` (a file that is no mask is passed over), read.
fn read_masks(folder: &Path, numbering: &Numbering) -> Result<Vec<MaskFile>, super::Failure> {
    let listed = list_files(folder)?;
    super::report_skipped(&listed.skipped);
    let mut read = Vec::new();
    for path in listed.files {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let name = super::name_under(&path, folder);
                let masks = Err(format!("cannot read it: {e}"));
                read.push(MaskFile { path, name, masks });
                continue;
            }
        };
        let Some(format) = Format::of(&path, &bytes) else {
            continue;
        };
        let masks = reference::read(format, &bytes, numbering).map_err(|e| e.to_string());
        let name = super::name_under(&path, folder);
        read.push(MaskFile { path, name, masks });
    }
    if read.is_empty() {
        return Err(format!(
            "no masks (.tag, .png, .nii, .nii.gz or DICOM SEG files) under {}",
            folder.display()
        )
        .into());
    }
    Ok(read)
}

/// The name a mask is reported under: its file, and the slice of a label map.
fn case_name(file: &str, mask: &ReferenceMask) -> String {
    match mask.slice {
        Some(k) => format!("{file} slice {k}"),
        None => file.to_owned(),
    }
}

pub fn run(options: &AgreeOptions) -> Result<(), super::Failure> {
    let ct_files = list_files(&options.ct)?;
    super::report_skipped(&ct_files.skipped);
    let mut ct = CtFolder::new(&options.ct, ct_files.files);
    let numbering = Numbering {
        numbers: options.numbers.clone(),
        segments: options.segments.clone(),
    };
    let references = read_masks(&options.reference, &numbering)?;
    let mut failed = Vec::new();
    let (automatic, made_by) = match &options.auto {
        None => {
            let (segmenter, device) = load_model(&options.model)?;
            let model = format!(
                "{} {} on {device}",
                segmenter.card.name, segmenter.card.version
            );
            (Automatic::Now(Box::new(segmenter)), model)
        }
        Some(folder) => {
            let mut made = BTreeMap::new();
            // Sarcoscope's own exports: PNG labels, SEG segments by its codes.
            for MaskFile { path, name, masks } in read_masks(folder, &Numbering::default())? {
                let located = masks.and_then(|masks| {
                    masks
                        .into_iter()
                        .map(|m| {
                            let target = ct.locate(&path, &m.placement)?;
                            Ok((ct.slice(&target)?.key, m.mask))
                        })
                        .collect::<Result<Vec<_>, String>>()
                });
                match located {
                    Ok(located) => made.extend(located),
                    Err(reason) => failed.push(Failed {
                        case: format!("automatic mask {name}"),
                        reason,
                    }),
                }
            }
            (
                Automatic::Made(made),
                format!("masks under {}", folder.display()),
            )
        }
    };
    let mut cases = Vec::new();
    for MaskFile { path, name, masks } in references {
        let masks = match masks {
            Ok(masks) => masks,
            Err(reason) => {
                failed.push(Failed { case: name, reason });
                continue;
            }
        };
        for mask in masks {
            let case = case_name(&name, &mask);
            let compared = ct
                .locate(&path, &mask.placement)
                .and_then(|target| ct.slice(&target))
                .and_then(|slice| {
                    check_fit(&mask, &slice)?;
                    let auto = match &automatic {
                        Automatic::Now(segmenter) => {
                            segmenter
                                .segment(&slice.axial(), &PostProcess::default())
                                .mask
                        }
                        Automatic::Made(made) => made
                            .get(&slice.key)
                            .cloned()
                            .ok_or("no automatic mask of its CT slice under --auto")?,
                    };
                    if (auto.columns, auto.rows) != (mask.mask.columns, mask.mask.rows) {
                        return Err(format!(
                            "the automatic mask is {}×{} pixels, the reader's {}×{}",
                            auto.columns, auto.rows, mask.mask.columns, mask.mask.rows
                        ));
                    }
                    Ok(CaseAgreement::of(
                        &case,
                        &auto,
                        &mask.mask,
                        &slice.axial(),
                        &slice.body,
                        Cutoffs::default(),
                        ct.level(&slice.key),
                    ))
                });
            match compared {
                Ok(c) => cases.push(c),
                Err(reason) => failed.push(Failed { case, reason }),
            }
        }
    }
    let summary = Summary::of(&cases);
    let (date, time) = sarcoscope::report::seg::date_time(super::segment::now());
    let made_at = format!(
        "{}-{}-{} {}:{} UTC",
        &date[..4],
        &date[4..6],
        &date[6..],
        &time[..2],
        &time[2..4]
    );
    let report = AgreementReport {
        cases: &cases,
        failed: &failed,
        summary: &summary,
        automatic: &made_by,
        cutoffs: Cutoffs::default(),
        made_at: &made_at,
    };
    if let Some(path) = &options.csv {
        super::write_file(path, cases_csv(&cases).as_bytes())?;
    }
    if let Some(path) = &options.report {
        super::write_file(path, report.html().as_bytes())?;
    }
    if options.json {
        out!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        print_table(&report);
    }
    Ok(())
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

/// Whether a reader's mask fits its CT slice: the same grid, the same pixel size and
/// (when the file says where it lies) the same place, within half a pixel.
fn check_fit(reference: &ReferenceMask, ct: &CtSlice) -> Result<(), String> {
    let slice = ct;
    if (slice.columns, slice.rows) != (reference.mask.columns, reference.mask.rows) {
        return Err(format!(
            "the mask is {}×{} pixels but its CT image is {}×{}",
            reference.mask.columns, reference.mask.rows, slice.columns, slice.rows
        ));
    }
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
    if let (Some([x, y]), Some([cx, cy, _])) = (reference.origin_mm, ct.position) {
        let [row_mm, column_mm] = slice.pixel_spacing.map(|s| s.0);
        if (x - cx).abs() > column_mm / 2.0 || (y - cy).abs() > row_mm / 2.0 {
            return Err(format!(
                "the mask's first pixel lies at ({x:.1}, {y:.1}) mm but its CT image's at ({cx:.1}, {cy:.1}) mm: it is shifted or was cut from another field of view"
            ));
        }
    }
    Ok(())
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

fn print_table(report: &AgreementReport) {
    out!(
        "automatic masks by {}, against the readers' masks",
        report.automatic
    );
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
    for c in report.cases {
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
    let s = report.summary;
    for (name, m) in [
        ("muscle area (cm²)", &s.sma),
        ("muscle index (cm²/m²)", &s.smi),
        ("muscle attenuation (HU)", &s.muscle_hu),
    ] {
        match m {
            Ok(m) => out!(
                "{name} over {} cases: bias {:.2}, limits of agreement {:.2} to {:.2}; ICC(2,1) {:.3} ({:.3}–{:.3}); CCC {:.3}",
                m.bland_altman.cases,
                m.bland_altman.bias,
                m.bland_altman.loa_lower,
                m.bland_altman.loa_upper,
                m.icc.icc_2_1.icc,
                m.icc.icc_2_1.ci.lower,
                m.icc.icc_2_1.ci.upper,
                m.concordance.ccc
            ),
            Err(e) => out!("{name}: not given ({e})"),
        }
    }
    for (name, cutoffs, call) in [
        ("sarcopenia", report.cutoffs.smi.name(), &s.sarcopenia),
        (
            "myosteatosis",
            report.cutoffs.myosteatosis.name(),
            &s.myosteatosis,
        ),
    ] {
        match call {
            Ok(k) => out!(
                "{name} ({cutoffs}): kappa {:.3} ({:.3} to {:.3}) over {} cases",
                k.kappa,
                k.ci.lower,
                k.ci.upper,
                k.cases
            ),
            Err(e) => out!("{name}: kappa not given ({e})"),
        }
    }
    match &s.level {
        Ok(l) => out!(
            "L3 level over {} cases: the same slice in {}, within one in {}; mean distance {:.1} mm, largest {:.1} mm",
            l.cases, l.same_slice, l.within_one_slice, l.mean_abs_mm, l.max_abs_mm
        ),
        Err(_) => out!("L3 level: not given (no traced slice lies in a series searched for L3)"),
    }
    for f in report.failed {
        out!("{}: not compared — {}", f.case, f.reason);
    }
}
