//! A measured study's mask as the files a cohort keeps of it: DICOM SEG (de-identified)
//! and a PNG of the labels (0–4), named by case code — `sarcoscope batch --seg-dir`
//! writes them to a folder, the Cohort view into the browser's own disk and then one
//! ZIP.

use super::row::Row;
use super::{Prepared, StudyError};
use crate::ingest::SeriesFiles;
use crate::report::seg::{self, SegContext, SegError};
use crate::segment::TissueMask;

pub struct MaskFiles {
    pub seg: Vec<u8>,
    pub png: Vec<u8>,
}

impl MaskFiles {
    /// The mask placed by `ctx` (de-identified unless `ctx` references its source).
    pub fn of(ctx: &SegContext, mask: &TissueMask) -> Result<MaskFiles, SegError> {
        Ok(MaskFiles {
            seg: seg::write(mask, ctx)?,
            png: crate::png::grey8(mask.columns, mask.rows, mask.labels()),
        })
    }

    /// The automatic mask of `prepared`'s slice of `files`' series, made by `model`,
    /// exported at `unix_seconds`, de-identified.
    pub fn measured(
        prepared: &Prepared,
        files: &SeriesFiles,
        mask: &TissueMask,
        model: &str,
        unix_seconds: i64,
    ) -> Result<MaskFiles, StudyError> {
        let ctx = SegContext::of_series_slice(
            files,
            &prepared.header.geometry,
            prepared.level.slice,
            false,
            model.to_owned(),
            false,
            unix_seconds,
        );
        ctx.and_then(|ctx| MaskFiles::of(&ctx, mask))
            .map_err(StudyError::Mask)
    }

    /// The files' names: `CODE.seg.dcm` and `CODE.png`.
    pub fn names(code: &str) -> [String; 2] {
        [format!("{code}.seg.dcm"), format!("{code}.png")]
    }

    /// The files with their names.
    pub fn named(&self, code: &str) -> [(String, &[u8]); 2] {
        let [seg, png] = MaskFiles::names(code);
        [(seg, &self.seg), (png, &self.png)]
    }
}

/// The codes of the measured studies among `rows` whose two mask files are not among
/// `kept` (file names), so that a ZIP without them says so.
pub fn without_masks<'a>(rows: &'a [Row], kept: &[String]) -> Vec<&'a str> {
    rows.iter()
        .filter(|r| r.value("status") == Some("measured"))
        .filter_map(|r| r.value("case"))
        .filter(|code| !MaskFiles::names(code).iter().all(|n| kept.contains(n)))
        .collect()
}
