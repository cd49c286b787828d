//! `sarcoscope agree <ct-folder> --reference <masks-folder>`: each reader's mask against
//! the automatic mask of the same CT slice, per case and over all cases. A `.tag` file or
//! a PNG label map is matched to the CT image it is named after; a DICOM SEG to the CT
//! image it names (else by position); each slice of a NIfTI label map to the CT folder's
//! series slice at the same position. The automatic masks are made now, or taken from
//! `--auto` (Sarcoscope's exports, placed the same way).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sarcoscope::agree::case::{cases_csv, CaseAgreement, Cutoffs, Summary};
use sarcoscope::agree::reference::Numbering;
use sarcoscope::agree::seg::SegmentNames;
use sarcoscope::agree::session::{prepare, read_masks, CtFolder, Failed, Files, MaskFile, Target};
use sarcoscope::agree::tag::TagNumbers;
use sarcoscope::ingest::folder::{list_files, read_header};
use sarcoscope::report::agreement::AgreementReport;
use sarcoscope::segment::site::SiteCase;
use sarcoscope::segment::TissueMask;
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
    #[arg(long, alias = "tag-numbers", default_value = "muscle=1,imat=2,vat=5,sat=7", value_parser = TagNumbers::parse)]
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

/// A chosen folder's files on disk, named by their path under it.
struct DiskFiles {
    paths: Vec<PathBuf>,
    names: Vec<String>,
}

impl DiskFiles {
    fn of(folder: &Path) -> Result<DiskFiles, super::Failure> {
        let listed = list_files(folder)?;
        super::report_skipped(&listed.skipped);
        let names = listed
            .files
            .iter()
            .map(|p| super::name_under(p, folder))
            .collect();
        Ok(DiskFiles {
            paths: listed.files,
            names,
        })
    }
}

impl Files for DiskFiles {
    fn count(&self) -> usize {
        self.paths.len()
    }

    fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("", String::as_str)
    }

    fn read(&self, index: usize) -> Result<Vec<u8>, String> {
        let path = self.paths.get(index).ok_or("no such file")?;
        std::fs::read(path).map_err(|e| e.to_string())
    }

    fn read_prefix(&self, index: usize, bytes: usize) -> Result<Vec<u8>, String> {
        use std::io::Read as _;
        let path = self.paths.get(index).ok_or("no such file")?;
        let mut prefix = Vec::with_capacity(bytes);
        std::fs::File::open(path)
            .and_then(|f| f.take(bytes as u64).read_to_end(&mut prefix))
            .map_err(|e| e.to_string())?;
        Ok(prefix)
    }
}

/// Where the automatic masks come from.
enum Automatic {
    Now(Box<Segmenter>),
    /// Masks read from `--auto`, by the CT image they belong to.
    Made(BTreeMap<(String, u32), TissueMask>),
}

/// The mask files of `folder`, read; none is an error (a wrong folder, most likely).
fn masks_of(
    folder: &Path,
    numbering: &Numbering,
) -> Result<(DiskFiles, Vec<MaskFile>), super::Failure> {
    let files = DiskFiles::of(folder)?;
    let masks = read_masks(&files, numbering);
    if masks.is_empty() {
        return Err(format!(
            "no masks (.tag, .png, .nii, .nii.gz or DICOM SEG files) under {}",
            folder.display()
        )
        .into());
    }
    Ok((files, masks))
}

/// A site's masks read for training.
pub struct SiteCases {
    /// Named `case 1`, `case 2`… so that a model card names no file.
    pub cases: Vec<SiteCase>,
    /// The mask each case came from, for the person running the training.
    pub sources: Vec<String>,
    pub failed: Vec<Failed>,
}

/// The readers' masks under `labels`, each on its CT slice under `ct`, as training data.
pub fn site_cases(
    ct: &Path,
    labels: &Path,
    numbering: &Numbering,
) -> Result<SiteCases, super::Failure> {
    let ct_files = DiskFiles::of(ct)?;
    let mut ct = CtFolder::new(&ct_files);
    let (_, masks) = masks_of(labels, numbering)?;
    let (mut cases, mut sources, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    prepare(&mut ct, &masks, |prepared| match prepared {
        Ok(p) => {
            let mut case = p.site_case();
            case.slice.name = format!("case {}", cases.len() + 1);
            cases.push(case);
            sources.push(p.case);
        }
        Err(f) => failed.push(f),
    });
    Ok(SiteCases {
        cases,
        sources,
        failed,
    })
}

pub fn run(options: &AgreeOptions) -> Result<(), super::Failure> {
    let ct_files = DiskFiles::of(&options.ct)?;
    let mut ct = CtFolder::new(&ct_files);
    let numbering = Numbering {
        numbers: options.numbers.clone(),
        segments: options.segments.clone(),
    };
    let (_, references) = masks_of(&options.reference, &numbering)?;
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
            let (_, files) = masks_of(folder, &Numbering::default())?;
            for file in files {
                let located = file.masks.and_then(|masks| {
                    masks
                        .into_iter()
                        .map(|m| {
                            // An image's key is in its header: no need to decode it here
                            // (its reader's mask decodes it once, later).
                            let key = match ct.locate(&file.name, &m.placement)? {
                                Target::Image(i) => {
                                    let path = ct_files.paths.get(i).ok_or("no such file")?;
                                    let header = read_header(path).map_err(|e| e.to_string())?;
                                    (header.sop_instance_uid, 0)
                                }
                                series => ct.slice(series)?.key,
                            };
                            Ok((key, m.mask))
                        })
                        .collect::<Result<Vec<_>, String>>()
                });
                match located {
                    Ok(located) => made.extend(located),
                    Err(reason) => {
                        failed.push(Failed::new(format!("automatic mask {}", file.name), reason))
                    }
                }
            }
            (
                Automatic::Made(made),
                format!("masks under {}", folder.display()),
            )
        }
    };
    let mut cases = Vec::new();
    prepare(&mut ct, &references, |prepared| {
        let compared = prepared.and_then(|p| {
            let auto = match &automatic {
                Automatic::Now(segmenter) => {
                    segmenter
                        .segment(&p.slice.axial(), &PostProcess::default())
                        .mask
                }
                Automatic::Made(made) => made.get(&p.slice.key).cloned().ok_or_else(|| {
                    Failed::new(&p.case, "no automatic mask of its CT slice under --auto")
                })?,
            };
            if (auto.columns, auto.rows) != (p.reference.columns, p.reference.rows) {
                return Err(Failed::new(
                    &p.case,
                    format!(
                        "the automatic mask is {}×{} pixels, the reader's {}×{}",
                        auto.columns, auto.rows, p.reference.columns, p.reference.rows
                    ),
                ));
            }
            Ok(CaseAgreement::of(
                &p.case,
                &auto,
                &p.reference,
                &p.slice.axial(),
                &p.slice.body,
                Cutoffs::default(),
                p.level,
            ))
        });
        match compared {
            Ok(c) => cases.push(c),
            Err(f) => failed.push(f),
        }
    });
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
