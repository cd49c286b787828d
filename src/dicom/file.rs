//! Opening one DICOM file from memory, tolerant of the variants found on real media:
//! with or without the 128-byte preamble, with a file meta group that lacks its
//! transfer syntax, or with no meta group at all (a bare data set).

use std::io::Cursor;

use dicom_core::header::{Length, SequenceItemHeader};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::decode::DecodeFrom;
use dicom_encoding::transfer_syntax::{Codec, TransferSyntax};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::file::{OpenFileOptions, ReadPreamble};
use dicom_object::mem::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::FileDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::DicomError;

pub type DicomObject = FileDicomObject<InMemDicomObject>;

/// A file read into memory, with what its header said about its encoding.
pub struct ParsedFile {
    pub obj: DicomObject,
    /// The transfer syntax UID the file declared, if it declared one.
    pub declared_syntax: Option<String>,
    /// Whether the file had a meta group. One that has a meta group but declares no
    /// syntax is broken; a bare data set (older media) has its syntax inferred.
    pub had_meta: bool,
}

impl ParsedFile {
    /// The syntax actually used to read the data set: declared, else inferred.
    pub fn syntax(&self) -> &str {
        self.obj.meta().transfer_syntax()
    }

    /// Whether the file holds an image (a header-only read never does).
    pub fn has_pixel_data(&self) -> bool {
        self.obj
            .element_opt(tags::PIXEL_DATA)
            .ok()
            .flatten()
            .is_some()
    }
}

/// Read a whole file, pixel data included. A file whose header reads but whose pixel
/// data does not is reported as cut short, the usual cause.
pub fn open(bytes: &[u8]) -> Result<ParsedFile, DicomError> {
    guarded(|| open_impl(bytes, false)).map_err(|e| match e {
        DicomError::Unreadable(_) if open_header(bytes).is_ok() => DicomError::EndsEarly,
        other => other,
    })
}

/// Read the header only: everything before the pixel data, which is left unread.
pub fn open_header(bytes: &[u8]) -> Result<ParsedFile, DicomError> {
    guarded(|| open_impl(bytes, true))
}

/// Runs decoder code so that a panic deep inside a third-party codec becomes a per-file
/// error instead of taking the whole batch down — quietly: the panic's message and place
/// go into the file's error, not onto standard error beside the other files' reports.
/// WebAssembly aborts on panic, so there the worker that hosts decoding is restarted by
/// the page instead (see `app::worker`).
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, DicomError>) -> Result<T, DicomError> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        quiet::run(f)
    }
    #[cfg(target_arch = "wasm32")]
    {
        f()
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod quiet {
    use std::cell::{Cell, RefCell};
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Once;

    use super::DicomError;

    thread_local! {
        /// How many [`run`]s are under way on this thread: their panics are caught.
        static DEPTH: Cell<usize> = const { Cell::new(0) };
        /// The last caught panic's message and place.
        static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    /// A panic hook, set once for the process, that keeps the panics of [`run`] off
    /// standard error and hands every other panic to the hook that was there before.
    fn install() {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let before = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if DEPTH.with(Cell::get) == 0 {
                    return before(info);
                }
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST.with(|last| *last.borrow_mut() = Some(format!("{message}{place}")));
            }));
        });
    }

    pub(super) fn run<T>(f: impl FnOnce() -> Result<T, DicomError>) -> Result<T, DicomError> {
        install();
        DEPTH.with(|d| d.set(d.get() + 1));
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        DEPTH.with(|d| d.set(d.get() - 1));
        result.unwrap_or_else(|_| {
            let detail = LAST
                .with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| "a panic".into());
            Err(DicomError::DecoderFault { detail })
        })
    }
}

const META_START_WITH_PREAMBLE: usize = 132;

fn open_impl(bytes: &[u8], header_only: bool) -> Result<ParsedFile, DicomError> {
    let meta_at = if bytes.get(128..132) == Some(b"DICM") {
        Some(ReadPreamble::Always)
    } else if bytes.get(0..4) == Some(b"DICM") {
        Some(ReadPreamble::Never)
    } else {
        None
    };
    let until = if header_only {
        Until::PixelData
    } else {
        Until::End
    };
    let parsed = match meta_at {
        Some(preamble) => {
            let start = if preamble == ReadPreamble::Always {
                META_START_WITH_PREAMBLE
            } else {
                4
            };
            let (body, declared) = read_meta_group(bytes, start)
                .ok_or_else(|| DicomError::Unreadable("damaged file meta group".into()))?;
            if declared.as_deref() == Some(uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
                return read_deflated(body, until);
            }
            // Without a declared syntax the data set is read (and checked) on its own
            // below.
            if let Some(uid) = declared.as_deref() {
                check_lengths(body, syntax_or_default(Some(uid))?, until)?;
            }
            let mut options = OpenFileOptions::new().read_preamble(preamble);
            if header_only {
                options = options.read_until(tags::PIXEL_DATA);
            }
            // A meta group whose lengths, as dicom-rs reads them, overrun the file goes
            // straight to the lenient reader; so does one without a transfer syntax as
            // read here, whose data set the check above has not walked (dicom-rs may
            // still find a syntax in it, and read a damaged data set unchecked: a 260-byte
            // file had it allocate 1.3 GB — found by fuzzing).
            let meta_fits =
                check_lengths(&bytes[start..], syntax_or_default(None)?, Until::MetaEnd).is_ok();
            let read = if meta_fits && declared.is_some() {
                options.from_reader(Cursor::new(bytes)).ok()
            } else {
                None
            };
            match read {
                Some(obj) => {
                    let ts = obj
                        .meta()
                        .transfer_syntax()
                        .trim_end_matches('\0')
                        .to_owned();
                    ParsedFile {
                        obj,
                        declared_syntax: (!ts.is_empty()).then_some(ts),
                        had_meta: true,
                    }
                }
                // A meta group that dicom-rs rejects (an over-long AE title, a missing
                // transfer syntax…): read it leniently, then the data set on its own.
                None => {
                    // A meta group was found, so a data set that cannot be recognised
                    // is one whose encoding the (missing) transfer syntax would give.
                    let mut parsed = read_bare_dataset(body, declared.as_deref(), until).map_err(
                        |e| match e {
                            DicomError::NotDicom => DicomError::NoTransferSyntax,
                            other => other,
                        },
                    )?;
                    parsed.had_meta = true;
                    parsed
                }
            }
        }
        None => match packed_as(bytes) {
            Some(what) => return Err(DicomError::Packed { what: what.into() }),
            None => read_bare_dataset(bytes, None, until)?,
        },
    };
    if is_dicomdir(&parsed.obj) {
        return Err(DicomError::Dicomdir);
    }
    Ok(parsed)
}

/// What archive or compressed file `bytes` are, told by the format's signature (none
/// begins like a data set without a meta group, whose first bytes are a tag of group
/// 0002–0028), so that a PACS export left packed is named as such.
fn packed_as(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(usize, &[u8], &str); 9] = [
        (0, b"PK\x03\x04", "a ZIP archive"),
        (0, b"PK\x07\x08", "a ZIP archive"),
        (0, b"PK\x05\x06", "an empty ZIP archive"),
        (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (0, b"Rar!\x1a\x07", "a RAR archive"),
        (257, b"ustar", "a tar archive"),
        (0, b"\x1f\x8b", "a gzip-compressed file"),
        (0, b"BZh", "a bzip2-compressed file"),
        (0, b"\xfd7zXZ\x00", "an xz-compressed file"),
    ];
    SIGNATURES
        .iter()
        .find(|(at, signature, _)| bytes.get(*at..at + signature.len()) == Some(*signature))
        .map(|(_, _, what)| *what)
}

/// The pixel data of a file in a native little-endian syntax (explicit or implicit VR,
/// declared in its meta group) whose pixel data element, of defined length, is the last
/// thing in the file: [`super::pixels::native_images`] reads the stored values straight
/// from these bytes. `None` for any other file, which is decoded through [`open`].
pub(crate) fn native_pixel_value(bytes: &[u8]) -> Option<&[u8]> {
    let start = if bytes.get(128..132) == Some(b"DICM") {
        META_START_WITH_PREAMBLE
    } else if bytes.get(0..4) == Some(b"DICM") {
        4
    } else {
        return None;
    };
    let (body, declared) = read_meta_group(bytes, start)?;
    let uid = declared?;
    if uid != uids::EXPLICIT_VR_LITTLE_ENDIAN && uid != uids::IMPLICIT_VR_LITTLE_ENDIAN {
        return None;
    }
    let ts = syntax_or_default(Some(&uid)).ok()?;
    let at = check_lengths(body, ts, Until::PixelData).ok()?;
    let element = body.get(at..)?;
    let mut cursor = Cursor::new(element);
    let (header, _) = ts
        .decoder_for::<Cursor<&[u8]>>()?
        .decode_header(&mut cursor)
        .ok()?;
    let value = element.get(usize::try_from(cursor.position()).ok()?..)?;
    let len = usize::try_from(header.len.get()?).ok()?;
    (header.tag == tags::PIXEL_DATA && value.len() == len).then_some(value)
}

fn is_dicomdir(obj: &DicomObject) -> bool {
    obj.meta()
        .media_storage_sop_class_uid()
        .trim_end_matches('\0')
        == uids::MEDIA_STORAGE_DIRECTORY_STORAGE
        || obj
            .element_opt(tags::DIRECTORY_RECORD_SEQUENCE)
            .ok()
            .flatten()
            .is_some()
}

/// Reads the file meta group (group 0002, always explicit VR little endian) from
/// `start` (just after "DICM"): returns the bytes after it and the declared syntax.
fn read_meta_group(bytes: &[u8], start: usize) -> Option<(&[u8], Option<String>)> {
    let mut at = start;
    let mut syntax = None;
    loop {
        if at == bytes.len() {
            return Some((&[], syntax));
        }
        let head = bytes.get(at..at + 8)?;
        let group = u16::from_le_bytes([head[0], head[1]]);
        if group != 0x0002 {
            return Some((bytes.get(at..)?, syntax));
        }
        let element = u16::from_le_bytes([head[2], head[3]]);
        let vr = &head[4..6];
        let long_form = matches!(
            vr,
            b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN" | b"UC" | b"UR" | b"OD" | b"OL" | b"OV"
        );
        let (header_len, value_len) = if long_form {
            let len = bytes.get(at + 8..at + 12)?;
            (
                12,
                u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize,
            )
        } else {
            (8, u16::from_le_bytes([head[6], head[7]]) as usize)
        };
        let value_at = at.checked_add(header_len)?;
        let end = value_at.checked_add(value_len)?;
        if element == 0x0010 {
            let uid = String::from_utf8_lossy(bytes.get(value_at..end)?);
            let uid = uid.trim_end_matches(['\0', ' ']);
            syntax = (!uid.is_empty()).then(|| uid.to_owned());
        }
        at = end;
    }
}

/// Guesses the encoding of a data set that comes without a meta group, from the
/// byte order of its first tag and whether a two-letter VR follows it.
fn infer_syntax(data: &[u8]) -> Option<&'static str> {
    let head = data.get(0..8)?;
    let plausible =
        |group: u16| matches!(group, 0x0002 | 0x0008 | 0x0010 | 0x0018 | 0x0020 | 0x0028);
    let explicit = head[4].is_ascii_uppercase() && head[5].is_ascii_uppercase();
    if plausible(u16::from_le_bytes([head[0], head[1]])) {
        Some(if explicit {
            uids::EXPLICIT_VR_LITTLE_ENDIAN
        } else {
            uids::IMPLICIT_VR_LITTLE_ENDIAN
        })
    } else if plausible(u16::from_be_bytes([head[0], head[1]])) && explicit {
        // Retired from the standard, but still on old media.
        Some("1.2.840.10008.1.2.2")
    } else {
        None
    }
}

/// The most a deflated data set may inflate to: far above any single CT file, far below
/// what would exhaust a browser tab.
const MAX_INFLATED_BYTES: u64 = 512 * 1024 * 1024;

/// A deflated data set is inflated here, with a ceiling, so that its element lengths can
/// be checked like any other before dicom-rs trusts them (a few kilobytes of deflate
/// can claim gigabytes). The file still reports the syntax it declared.
fn read_deflated(body: &[u8], until: Until) -> Result<ParsedFile, DicomError> {
    use std::io::Read;
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(body)
        .take(MAX_INFLATED_BYTES + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| DicomError::Decode {
            codec: "deflate".into(),
            detail: e.to_string(),
        })?;
    if inflated.len() as u64 > MAX_INFLATED_BYTES {
        return Err(DicomError::UnsupportedLayout(format!(
            "the compressed data set inflates to more than {} MB",
            MAX_INFLATED_BYTES / 1_000_000
        )));
    }
    let mut parsed = read_bare_dataset(&inflated, Some(uids::EXPLICIT_VR_LITTLE_ENDIAN), until)?;
    parsed.declared_syntax = Some(uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN.to_owned());
    parsed.had_meta = true;
    Ok(parsed)
}

/// Reads a data set without (or past) its meta group, in the `declared` syntax when
/// known, else in the one inferred from its first bytes.
fn read_bare_dataset(
    data: &[u8],
    declared: Option<&str>,
    until: Until,
) -> Result<ParsedFile, DicomError> {
    let uid = match declared {
        Some(uid) => uid,
        None => infer_syntax(data).ok_or(DicomError::NotDicom)?,
    };
    let ts = syntax_or_default(Some(uid))?;
    let end = check_lengths(data, ts, until)?;
    let dataset = InMemDicomObject::read_dataset_with_ts(Cursor::new(&data[..end]), ts)
        .map_err(|e| DicomError::Unreadable(first_line(&e.to_string())))?;
    let text = |tag| {
        dataset
            .element_opt(tag)
            .ok()
            .flatten()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).to_owned())
    };
    // The meta table records the syntax the data set was read with, so later steps
    // (pixel decoding) follow the same encoding; `declared_syntax` stays empty.
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uid)
        .media_storage_sop_class_uid(text(tags::SOP_CLASS_UID).unwrap_or_default())
        .media_storage_sop_instance_uid(text(tags::SOP_INSTANCE_UID).unwrap_or_default())
        .build()
        .map_err(|e| DicomError::Unreadable(first_line(&e.to_string())))?;
    Ok(ParsedFile {
        obj: dataset.with_exact_meta(meta),
        declared_syntax: declared.map(str::to_owned),
        had_meta: false,
    })
}

/// The registered transfer syntax `uid`. Compressed syntaxes dicom-rs does not know
/// (and files that declare none) still encode the data set itself as explicit VR little
/// endian (PS3.5 A.4), so the header stays readable.
fn syntax_or_default(uid: Option<&str>) -> Result<&'static TransferSyntax, DicomError> {
    uid.and_then(|uid| TransferSyntaxRegistry.get(uid))
        .or_else(|| TransferSyntaxRegistry.get(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .ok_or_else(|| {
            DicomError::Unreadable(format!("no reader for {}", uid.unwrap_or("this file")))
        })
}

/// How far [`check_lengths`] walks.
#[derive(Clone, Copy, PartialEq)]
enum Until {
    /// The file meta group (group 0002) only.
    MetaEnd,
    /// The pixel data, exclusive, as a header-only read.
    PixelData,
    End,
}

/// Sequences nested deeper than this are refused. Real objects nest a few levels (an
/// enhanced CT's functional groups two, structured reports a few dozen at most), while
/// dicom-rs reads each level by recursion: a file nesting thousands of levels (found by
/// mutation testing) exhausts the stack, which aborts the program — or, in the browser,
/// the worker — instead of failing one file.
pub const MAX_SEQUENCE_DEPTH: usize = 64;

/// One open level of the data set as dicom-rs's reader keeps it: a sequence, or an item
/// of one.
struct Level {
    item: bool,
    /// Where a level of defined length ends.
    end: Option<u64>,
    /// Encapsulated pixel data, whose items are fragments of bytes.
    fragments: bool,
}

/// Refuses bytes in which a value claims more bytes than the file holds, or sequences
/// nest deeper than [`MAX_SEQUENCE_DEPTH`]. dicom-rs
/// reserves and zero-fills a value's declared length before reading it, so a single
/// damaged length (or VR) in a 1 kB file would cost gigabytes of memory and half a
/// minute before failing. Walks the element headers exactly as dicom-rs's reader
/// (`DataSetReader`) takes them — between a sequence's items it reads item headers, inside
/// an item element headers, where any tag of group FFFE but an item's end is an element
/// with a value (found by fuzzing: a damaged item delimiter whose 1.5 kB "value" dicom-rs
/// skipped while this walk did not, so that the two read different headers from there
/// and dicom-rs zero-filled 0.9 GB) — skipping values and pixel fragments, and consuming
/// only whole numbers of binary values, as dicom-rs does with odd lengths. Where dicom-rs
/// would fail, the walk stops and leaves it to dicom-rs to say so. Returns where reading
/// should stop: the start of the pixel data (or the end of the meta group) when asked,
/// else the end of `data`.
fn check_lengths(data: &[u8], ts: &TransferSyntax, until: Until) -> Result<usize, DicomError> {
    const ITEM_END: Tag = Tag(0xFFFE, 0xE00D);
    // A deflated data set is compressed: its lengths cannot be walked here.
    if matches!(ts.codec(), Codec::Dataset(_)) {
        return Ok(data.len());
    }
    let Some(decoder) = ts.decoder_for::<Cursor<&[u8]>>() else {
        return Ok(data.len());
    };
    let mut cursor = Cursor::new(data);
    let mut open: Vec<Level> = Vec::new();
    // Whether an item header comes next: inside a sequence, before or between its items.
    let mut between_items = false;
    let skip = |cursor: &mut Cursor<&[u8]>, len: u32| {
        let remaining = data.len() - cursor.position() as usize;
        if len as usize > remaining {
            return Err(DicomError::Unreadable(format!(
                "an element claims {len} bytes where only {remaining} remain"
            )));
        }
        cursor.set_position(cursor.position() + u64::from(len));
        Ok(())
    };
    loop {
        // Levels of defined length end where their length says; dicom-rs fails on one
        // that was overrun.
        let at = cursor.position();
        while let Some(level) = open.last().filter(|l| l.end.is_some_and(|end| end <= at)) {
            if level.end != Some(at) {
                return Ok(data.len());
            }
            between_items = level.item;
            open.pop();
        }
        let at = at as usize;
        if at >= data.len() {
            return Ok(data.len());
        }
        if open.iter().filter(|l| !l.item && !l.fragments).count() > MAX_SEQUENCE_DEPTH {
            return Err(DicomError::NestedTooDeep {
                limit: MAX_SEQUENCE_DEPTH,
            });
        }
        if between_items {
            let Ok(header) = decoder.decode_item_header(&mut cursor) else {
                return Ok(data.len());
            };
            match header {
                SequenceItemHeader::Item { len } => {
                    let fragments = open.last().is_some_and(|l| l.fragments);
                    open.push(Level {
                        item: true,
                        end: end_of(&cursor, len),
                        fragments,
                    });
                    between_items = false;
                    if fragments {
                        // A fragment's bytes (dicom-rs refuses one of undefined length).
                        let Some(len) = len.get() else {
                            return Ok(data.len());
                        };
                        skip(&mut cursor, len)?;
                    }
                }
                SequenceItemHeader::ItemDelimiter => {
                    open.pop();
                    between_items = true;
                }
                SequenceItemHeader::SequenceDelimiter => {
                    open.pop();
                    between_items = false;
                }
            }
            continue;
        }
        if until == Until::MetaEnd && data.get(at..at + 2) != Some(&[0x02, 0x00]) {
            return Ok(at);
        }
        let Ok((header, _)) = decoder.decode_header(&mut cursor) else {
            return Ok(data.len());
        };
        match header.tag {
            _ if header.vr == VR::SQ => {
                open.push(Level {
                    item: false,
                    end: end_of(&cursor, header.len),
                    fragments: false,
                });
                between_items = true;
            }
            // Outside any sequence, dicom-rs passes over an item's end.
            ITEM_END if open.is_empty() => {}
            ITEM_END => {
                open.pop();
                between_items = true;
            }
            // Only at the top level: inside a sequence, such a tag is an item's element,
            // which dicom-rs reads (found by fuzzing: a damaged sequence's OB claimed
            // 1.8 GB, which dicom-rs zero-filled).
            tag if until == Until::PixelData
                && open.is_empty()
                && tag >= tags::PIXEL_DATA
                && tag.group() != 0xFFFE =>
            {
                return Ok(at)
            }
            _ if header.len.is_undefined() => {
                open.push(Level {
                    item: false,
                    end: None,
                    fragments: header.tag == tags::PIXEL_DATA,
                });
                between_items = true;
            }
            _ => {
                let len = header.len.0;
                skip(&mut cursor, len - len % value_size(header.vr))?;
            }
        }
    }
}

/// Where a sequence or item of `len` that starts at the cursor ends, if its length is
/// defined.
fn end_of(cursor: &Cursor<&[u8]>, len: Length) -> Option<u64> {
    len.get().map(|len| cursor.position() + u64::from(len))
}

/// Bytes per value of a binary VR: dicom-rs reads `length / size` whole values.
fn value_size(vr: VR) -> u32 {
    match vr {
        VR::US | VR::SS | VR::OW => 2,
        VR::UL | VR::SL | VR::FL | VR::OF | VR::OL | VR::AT => 4,
        VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => 8,
        _ => 1,
    }
}

pub(crate) fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}
