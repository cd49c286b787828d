//! What the page and the decoding worker say to each other. The structured part is
//! plain data (it travels as JSON); the files and voxels that go with a message travel
//! beside it as attachments (`app::envelope`).

use serde::{Deserialize, Serialize};

use super::catalogue::LocalFile;
use crate::agree::case::LevelDistance;
use crate::agree::reference::Numbering;
use crate::agree::session::{CtSlice, Failed};
use crate::dicom::series::Series;
use crate::dicom::{DicomError, Instance};
use crate::inspect::FileReport;
use crate::l3::L3Result;
use crate::volume::{VolumeError, VolumeHeader};

/// Names one request to the worker; every answer to it carries the same id, so an
/// answer to a request that was replaced is recognised and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u32);

/// The most bytes of files the page reads whole for a header request (see
/// `HeadersInBatches`): a 300-slice 512² series is 158 MB. A larger set is read twice — its
/// headers from the files' first bytes, then the series' images — so that a 1,000-slice
/// series (525 MB) never exists as files' bytes and as a volume at once, and the tab stays
/// under 1 GB with it (issue #17, item 6).
pub const READ_WHOLE_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// Where a file's header was read: as attached file `attached` of header request
/// `request`. A worker that read the file whole there may still hold its bytes; a worker
/// started since, or a request with another id, holds nothing for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeaderRead {
    pub request: RequestId,
    pub attached: usize,
}

/// A request, with the files it needs attached in order: an answer names a file by its
/// place among those attachments (`attached`), whatever the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToDecoder {
    /// Read the header of each attached file, answering `Reading` before and `Header`
    /// after each: slow (two messages per file cost the page more than the reading), but
    /// a crash is pinned on the file it happened on. Asked for after a crash that
    /// `HeadersInBatches` could not pin.
    Headers,
    /// The same, answered with a batch of headers at a time (`HeaderBatch`) and no
    /// `Reading`: the usual request, as most files do not crash the decoder. The page
    /// may send the files' bytes, read whole, ahead of it instead of attaching the files
    /// (a set small enough, see [`READ_WHOLE_BYTES`], in [`ToDecoder::FileBytes`] parts);
    /// it then comes with no attachments and ends the parts. The worker keeps the files
    /// read for the `Volume` request that follows (see [`HeaderRead`]), so that a series
    /// is read once.
    ///
    /// `decode_ahead`: the attached files are all the user's, and the page will open the
    /// series [`crate::ingest::Catalogue::opened`] picks from their headers; with the
    /// files' bytes at hand the worker starts decoding it at once, as if asked, while the
    /// page is still taking the headers in (see [`FromDecoder::HeadersDone`]).
    HeadersInBatches { decode_ahead: bool },
    /// The bytes of some of the `of` files of the `HeadersInBatches` request that
    /// follows under the same id, sent as the page reads them, so that the worker reads
    /// their headers (and answers them, `HeaderBatch`) while the page reads the rest:
    /// `files[k]`, the file's place among the request's files, is where the k-th
    /// attached buffer belongs (`null` where the page could not read the file). Every
    /// file's bytes come in one part or another, each once, in no particular order.
    /// `decode_ahead`: the request's own, told early so that the worker prepares the
    /// series' volume while the page reads only when it will decode one ahead.
    FileBytes {
        files: Vec<usize>,
        of: usize,
        decode_ahead: bool,
    },
    /// Decode `series`, whose slices refer to the attached files ([`LocalFile`]) whose
    /// headers are `instances`, leaving out `skip`: a decoder stopped on them before.
    /// `one_by_one`: say `Reading` before each file and `Progress` after each (to pin a
    /// crash on its file) rather than `Progress` a few times a second. `read[k]` says
    /// where attached file k's header was read: the worker takes the file's bytes from
    /// that read when it still holds them, and reads the file otherwise.
    Volume {
        series: Box<Series>,
        instances: Vec<Instance>,
        skip: Vec<LocalFile>,
        one_by_one: bool,
        read: Vec<Option<HeaderRead>>,
    },
    /// Decode `series` as for `Volume`, search it for L3, and answer with the slice a
    /// cohort's study is measured on ([`crate::batch::StudySlice`]): the page needs no
    /// more of the volume, and neither per-file messages (a cohort's crash costs the
    /// study, whichever file it was).
    Slice {
        series: Box<Series>,
        instances: Vec<Instance>,
    },
    /// Decode every attached file completely and report on each, as
    /// `sarcoscope inspect --json` does; `names[k]` names attached file k.
    Inspect { names: Vec<String> },
    /// Make the demo case: a synthetic CT series written as DICOM files.
    Demo,
    /// Place readers' masks on their CT slices ([`crate::agree::session`]): the first
    /// `ct_files` attached files are the CT folder's, the rest the masks folder's;
    /// `names[k]` is attached file k's path under its folder.
    Agreement {
        names: Vec<String>,
        ct_files: usize,
        numbering: Numbering,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromDecoder {
    /// The worker's module has started; requests sent before this would be lost.
    Ready,
    /// The worker could not read the request (a page and a worker of different
    /// versions, say); `detail` says why.
    Refused {
        detail: String,
    },
    /// The worker is about to read attached file `attached` (so a crash can be pinned
    /// on it).
    Reading {
        attached: usize,
    },
    Header {
        attached: usize,
        result: Result<Box<Instance>, DicomError>,
    },
    /// The headers of attached files `first`, `first + 1`, … (`HeadersInBatches`): a
    /// few times a second, or a few hundred headers at a time.
    HeaderBatch {
        first: usize,
        results: Vec<Result<Box<Instance>, DicomError>>,
    },
    /// Every header was answered. `ahead`: the worker is decoding, as the answer to this
    /// same request, the series whose files are these attached files (in the series'
    /// own order, see [`crate::ingest::SeriesFiles`]) — the one the page would ask for
    /// (`decode_ahead`): `Progress` and then `Volume` (or `VolumeFailed`) follow, and the
    /// page saves a request and its answer's wait (the series and its headers, 151 KB of
    /// JSON for 112 files, both ways). A page that would open another series asks for it,
    /// and the answers to this request are ignored.
    HeadersDone {
        ahead: Option<Vec<usize>>,
    },
    Progress {
        done: usize,
        total: usize,
    },
    /// The voxels (i16 HU) are attached; `failures` are the files that could not be
    /// decoded; `level` is the automatic L3 search on the volume, which took `level_ms`.
    Volume {
        header: Box<VolumeHeader>,
        failures: Vec<(LocalFile, DicomError)>,
        level: Box<L3Result>,
        level_ms: f64,
    },
    VolumeFailed {
        error: VolumeError,
    },
    /// A `Volume` request came without its files, the page counting on the bytes the
    /// worker kept from the header request before it (handing a worker 112 file handles
    /// costs Chromium ~0.5 ms each), and the worker holds no bytes of some of them: the
    /// page posts the request again with its files. Nothing was decoded.
    NeedsFiles,
    /// The measurement slice's HU (i16) are attached, none when no slice is measured;
    /// `found` is the L3 search on the volume (`None`: too few slices to search).
    Slice {
        header: Box<VolumeHeader>,
        found: Option<Box<L3Result>>,
        failed_files: usize,
    },
    Report {
        attached: usize,
        report: Box<FileReport>,
    },
    InspectDone,
    /// The demo case's files are attached, named `names`.
    DemoFiles {
        names: Vec<String>,
    },
    DemoFailed {
        message: String,
    },
    /// One reader's mask ready to compare: the slice's HU and the mask's labels are
    /// attached.
    AgreementCase {
        case: String,
        slice: Box<CtSlice>,
        level: Option<LevelDistance>,
    },
    /// A mask that cannot be compared, and why.
    AgreementFailed {
        failed: Failed,
    },
    /// Every mask was placed or refused: `masks` mask files were found.
    AgreementPlaced {
        masks: usize,
    },
}
