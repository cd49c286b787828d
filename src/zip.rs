//! The frame of a ZIP archive whose entries are stored as they are (masks are small and
//! PNG is compressed already): a header before each entry and the central directory
//! after the last. Only the frame is made here, not the archive, so that the browser
//! can put it around files kept on disk (a `Blob` of headers and the files themselves)
//! and a cohort's masks never pass through memory all at once — a ZIP library wants
//! every entry's bytes through its writer, which is why none is used to write here
//! (the `zip` crate reads the result back in the tests).

/// One entry: its name in the archive, its length and CRC-32.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub crc32: u32,
}

impl Entry {
    pub fn of(name: &str, bytes: &[u8]) -> Entry {
        Entry {
            name: name.to_owned(),
            size: bytes.len() as u64,
            crc32: crc32fast::hash(bytes),
        }
    }
}

/// The archive is `headers[0]`, entry 0's bytes, `headers[1]`, entry 1's bytes, …, then
/// `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub headers: Vec<Vec<u8>>,
    pub end: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("the archive would pass 4 GiB, more than a plain ZIP file holds: download the masks in parts (fewer studies per run)")]
    TooLarge,
    #[error("{0} files are more than a plain ZIP file holds (65,535)")]
    TooMany(usize),
    #[error("the file name {0:?} is too long for a ZIP archive")]
    NameTooLong(String),
}

/// Version 2.0 of the format, bit 11: names are UTF-8.
const VERSION: u16 = 20;
const UTF8_NAMES: u16 = 1 << 11;
/// Every entry is dated 1980-01-01 00:00, the format's first day: the same masks give
/// the same archive (the DICOM SEG inside carries its own date).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

/// The frame of an archive of `entries`, in their order.
pub fn stored(entries: &[Entry]) -> Result<Frame, ZipError> {
    let count = u16::try_from(entries.len()).map_err(|_| ZipError::TooMany(entries.len()))?;
    let mut headers = Vec::with_capacity(entries.len());
    let mut directory = Vec::new();
    let mut offset: u64 = 0;
    for entry in entries {
        let name = entry.name.as_bytes();
        let name_len =
            u16::try_from(name.len()).map_err(|_| ZipError::NameTooLong(entry.name.clone()))?;
        let size = u32::try_from(entry.size).map_err(|_| ZipError::TooLarge)?;
        let at = u32::try_from(offset).map_err(|_| ZipError::TooLarge)?;
        let common = |out: &mut Vec<u8>| {
            put16(out, VERSION);
            put16(out, UTF8_NAMES);
            put16(out, 0); // stored
            put16(out, DOS_TIME);
            put16(out, DOS_DATE);
            put32(out, entry.crc32);
            put32(out, size);
            put32(out, size);
            put16(out, name_len);
            put16(out, 0); // no extra field
        };
        let mut local = Vec::with_capacity(30 + name.len());
        put32(&mut local, 0x0403_4b50);
        common(&mut local);
        local.extend_from_slice(name);

        put32(&mut directory, 0x0201_4b50);
        put16(&mut directory, VERSION); // made by
        common(&mut directory);
        put16(&mut directory, 0); // no comment
        put16(&mut directory, 0); // disk
        put16(&mut directory, 0); // internal attributes
        put32(&mut directory, 0); // external attributes
        put32(&mut directory, at);
        directory.extend_from_slice(name);

        offset += local.len() as u64 + entry.size;
        headers.push(local);
    }
    let directory_at = u32::try_from(offset).map_err(|_| ZipError::TooLarge)?;
    let directory_len = u32::try_from(directory.len()).map_err(|_| ZipError::TooLarge)?;
    let mut end = directory;
    put32(&mut end, 0x0605_4b50);
    put16(&mut end, 0); // this disk
    put16(&mut end, 0); // the directory's disk
    put16(&mut end, count);
    put16(&mut end, count);
    put32(&mut end, directory_len);
    put32(&mut end, directory_at);
    put16(&mut end, 0); // no comment
    Ok(Frame { headers, end })
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn a_framed_archive_reads_back_with_every_entry_intact() {
        let files: [(&str, Vec<u8>); 3] = [
            (
                "C1-0001.seg.dcm",
                (0..=255u8).cycle().take(70_000).collect(),
            ),
            ("C1-0001.png", b"\x89PNG not really".to_vec()),
            ("empty-ü.txt", Vec::new()),
        ];
        let entries: Vec<Entry> = files.iter().map(|(n, b)| Entry::of(n, b)).collect();
        let frame = stored(&entries).expect("frame");
        let mut archive = Vec::new();
        for (header, (_, bytes)) in frame.headers.iter().zip(&files) {
            archive.extend_from_slice(header);
            archive.extend_from_slice(bytes);
        }
        archive.extend_from_slice(&frame.end);

        let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a ZIP");
        assert_eq!(zip.len(), files.len());
        for (k, (name, bytes)) in files.iter().enumerate() {
            let mut entry = zip.by_index(k).expect("entry");
            assert_eq!(entry.name(), *name);
            let mut read = Vec::new();
            // Reading to the end checks the CRC-32.
            entry.read_to_end(&mut read).expect("intact");
            assert_eq!(&read, bytes, "{name}");
        }
    }

    #[test]
    fn an_archive_a_plain_zip_cannot_hold_is_refused_in_words() {
        let big = |k: usize| Entry {
            name: format!("{k}.seg.dcm"),
            size: 3 << 30,
            crc32: 0,
        };
        let error = stored(&[big(0), big(1)]).expect_err("6 GiB");
        assert!(error.to_string().contains("4 GiB"), "{error}");
        let many: Vec<Entry> = (0..70_000)
            .map(|k| Entry::of(&k.to_string(), b""))
            .collect();
        assert_eq!(stored(&many), Err(ZipError::TooMany(70_000)));
    }
}
