//! Slice-O-Matic `.tag` files: the masks most body-composition readers trace at L3.
//!
//! A `.tag` file is a short text header of `key: value` fields (`x:` columns, `y:` rows,
//! `z:` planes, `type: BYTE`, `org_x/y/z:` origin, `inc_x/y:` pixel size in mm, `epais:`
//! slice thickness, `dir_h_*`/`dir_v_*` the row and column directions), on one line or
//! several, ended by a form feed (0x0C); then one byte per pixel, rows × columns, for each
//! plane. The numbers stand for tissues as the reader's protocol set them; the common
//! body-composition protocol (1 muscle, 2 IMAT, 5 VAT, 7 SAT) is the default.

use std::collections::BTreeMap;

use crate::segment::{TissueClass, TissueMask};
use crate::units::Millimetres;

/// Which tag numbers stand for which tissue; any other number is background.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TagNumbers {
    pub muscle: Vec<u8>,
    pub imat: Vec<u8>,
    pub vat: Vec<u8>,
    pub sat: Vec<u8>,
}

impl Default for TagNumbers {
    /// 1 muscle, 2 IMAT, 5 VAT, 7 SAT: the numbering of the Alberta protocol that most
    /// L3 body-composition studies trace with (Mourtzakis et al., Appl Physiol Nutr Metab
    /// 2008).
    fn default() -> Self {
        TagNumbers {
            muscle: vec![1],
            imat: vec![2],
            vat: vec![5],
            sat: vec![7],
        }
    }
}

impl TagNumbers {
    /// `muscle=1,imat=2,vat=5+6,sat=7`: each tissue's numbers (several joined by `+`), as
    /// the command line and the page take them.
    pub fn parse(text: &str) -> Result<TagNumbers, String> {
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

    pub(crate) fn class(&self, number: u8) -> TissueClass {
        let pairs = [
            (&self.muscle, TissueClass::SkeletalMuscle),
            (&self.imat, TissueClass::Imat),
            (&self.vat, TissueClass::Vat),
            (&self.sat, TissueClass::Sat),
        ];
        pairs
            .into_iter()
            .find(|(numbers, _)| numbers.contains(&number))
            .map_or(TissueClass::Background, |(_, class)| class)
    }
}

/// One traced slice.
#[derive(Debug, Clone, PartialEq)]
pub struct TagMask {
    pub mask: TissueMask,
    /// Pixel size (between rows, between columns), from `inc_y` and `inc_x`, when given.
    pub pixel_spacing: Option<[Millimetres; 2]>,
    /// Every header field as written, for registration and the record.
    pub header: BTreeMap<String, String>,
    /// How many pixels held each tag number (before mapping), so a user can see an
    /// unexpected numbering at once.
    pub numbers_found: BTreeMap<u8, usize>,
}

/// Why a `.tag` file could not be read, in words for the person who chose it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TagError {
    #[error("this is not a Slice-O-Matic tag file: its header does not end (no form feed, byte 0x0C, in the first {0} bytes)")]
    NoHeaderEnd(usize),
    #[error("the tag header has no usable `{0}:` field (the image's {1})")]
    MissingField(&'static str, &'static str),
    #[error("the tag file holds {planes} planes; one traced slice per file is expected")]
    SeveralPlanes { planes: usize },
    #[error("the tag file's pixels are of type {0}; only BYTE tags can be read")]
    PixelType(String),
    #[error("the tag header says {columns} × {rows} pixels ({expected} bytes) but {actual} bytes follow it: the file is cut short or not what its header says")]
    WrongSize {
        columns: usize,
        rows: usize,
        expected: usize,
        actual: usize,
    },
}

/// Headers are short; a form feed further in means this is not a tag file.
const MAX_HEADER: usize = 64 * 1024;
const FORM_FEED: u8 = 0x0C;

/// Reads a `.tag` file with `numbers` for its tissues.
pub fn read(bytes: &[u8], numbers: &TagNumbers) -> Result<TagMask, TagError> {
    let end = bytes
        .iter()
        .take(MAX_HEADER)
        .position(|&b| b == FORM_FEED)
        .ok_or(TagError::NoHeaderEnd(MAX_HEADER.min(bytes.len())))?;
    let header = fields(&String::from_utf8_lossy(&bytes[..end]));
    let count = |key: &'static str, meaning: &'static str| {
        header
            .get(key)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.fract() == 0.0 && *v >= 1.0 && *v <= 65_536.0)
            .map(|v| v as usize)
            .ok_or(TagError::MissingField(key, meaning))
    };
    let columns = count("x", "width in pixels")?;
    let rows = count("y", "height in pixels")?;
    let planes = header
        .get("z")
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(1, |v| v as usize);
    if planes != 1 {
        return Err(TagError::SeveralPlanes { planes });
    }
    if let Some(kind) = header
        .get("type")
        .filter(|t| !t.eq_ignore_ascii_case("byte"))
    {
        return Err(TagError::PixelType(kind.clone()));
    }
    let pixels = &bytes[end + 1..];
    if pixels.len() != columns * rows {
        return Err(TagError::WrongSize {
            columns,
            rows,
            expected: columns * rows,
            actual: pixels.len(),
        });
    }
    let mut numbers_found = BTreeMap::new();
    let mut mask = TissueMask::empty(columns, rows);
    for (i, &number) in pixels.iter().enumerate() {
        *numbers_found.entry(number).or_insert(0) += 1;
        mask.set(i, numbers.class(number));
    }
    let size = |key: &str| {
        header
            .get(key)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Millimetres)
    };
    Ok(TagMask {
        mask,
        pixel_spacing: size("inc_y").zip(size("inc_x")).map(|(r, c)| [r, c]),
        header,
        numbers_found,
    })
}

/// A field name: a letter, then letters, digits or `_` (so a time such as `12:30` in a
/// value is not taken for a field).
fn is_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `key: value` fields, however the header breaks its lines: a word ending in `:` names
/// the field, the words after it up to the next name are its value.
fn fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut key: Option<String> = None;
    let mut value: Vec<&str> = Vec::new();
    let mut flush = |key: &mut Option<String>, value: &mut Vec<&str>| {
        if let Some(k) = key.take() {
            out.insert(k.to_ascii_lowercase(), value.join(" "));
        }
        value.clear();
    };
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some((k, rest)) if is_name(k) => {
                flush(&mut key, &mut value);
                key = Some(k.to_owned());
                if !rest.is_empty() {
                    value.push(rest);
                }
            }
            _ => value.push(word),
        }
    }
    flush(&mut key, &mut value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(header: &str, pixels: &[u8]) -> Vec<u8> {
        let mut bytes = header.as_bytes().to_vec();
        bytes.push(FORM_FEED);
        bytes.extend_from_slice(pixels);
        bytes
    }

    #[test]
    fn reads_a_one_line_header_and_maps_the_alberta_numbers() {
        let bytes = tag(
            "x: 3 y: 2 z: 1 type: BYTE org_x: -250.0 org_y: -250.0 inc_x: 0.8 inc_y: 0.9 epais: 5.0\n",
            &[0, 1, 2, 5, 7, 9],
        );
        let t = read(&bytes, &TagNumbers::default()).unwrap();
        assert_eq!((t.mask.columns, t.mask.rows), (3, 2));
        assert_eq!(t.mask.labels(), &[0, 1, 2, 3, 4, 0]);
        assert_eq!(t.pixel_spacing, Some([Millimetres(0.9), Millimetres(0.8)]));
        assert_eq!(t.header["epais"], "5.0");
        assert_eq!(t.numbers_found[&9], 1);
    }

    #[test]
    fn reads_one_field_per_line_and_other_numberings() {
        let bytes = tag("x:2\ny:1\ntype:BYTE\n", &[3, 4]);
        let numbers = TagNumbers {
            muscle: vec![3],
            sat: vec![4],
            ..TagNumbers::default()
        };
        let t = read(&bytes, &numbers).unwrap();
        assert_eq!(t.mask.labels(), &[1, 4]);
        assert_eq!(t.pixel_spacing, None);
    }

    #[test]
    fn a_file_that_does_not_match_its_header_says_why() {
        assert_eq!(
            read(&tag("x: 4 y: 4", &[1; 10]), &TagNumbers::default()),
            Err(TagError::WrongSize {
                columns: 4,
                rows: 4,
                expected: 16,
                actual: 10
            })
        );
        assert_eq!(
            read(b"x: 4 y: 4", &TagNumbers::default()),
            Err(TagError::NoHeaderEnd(9))
        );
        assert_eq!(
            read(&tag("y: 4", &[]), &TagNumbers::default()),
            Err(TagError::MissingField("x", "width in pixels"))
        );
        assert!(matches!(
            read(&tag("x: 1 y: 1 type: SHORT", &[0]), &TagNumbers::default()),
            Err(TagError::PixelType(_))
        ));
    }
}
