//! Pure-Rust decoder for DICOM "JPEG Extended (Process 2 & 4)" frames, transfer syntax
//! 1.2.840.10008.1.2.4.51: ISO 10918-1 sequential DCT, Huffman coded, 8- or 12-bit
//! samples, one (grayscale) component.
//!
//! Why this exists: the `jpeg-decoder` crate that dicom-rs uses refuses 12-bit streams
//! ("unsupported JPEG feature: SamplePrecision(12)"), and the C libraries that handle
//! them (libjpeg, IJG 12-bit builds) cannot be built for the browser. CT and many
//! other modalities store 12-bit samples, so those files need their own decoder.
//!
//! Scope: SOF0/SOF1 frames with one component (any sampling factors, treated as 1x1),
//! one non-interleaved scan, restart intervals, up to four Huffman and quantization
//! tables, 8- and 16-bit quantization tables. Progressive, lossless, hierarchical,
//! arithmetic-coded and multi-component streams are refused with an error. Malformed,
//! truncated or corrupt input returns an error; it never panics. The inverse DCT is an
//! accurate separable floating-point transform, so results match libjpeg's to within
//! one unit of the last place.

use std::f32::consts::PI;

/// Why a JPEG Extended frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum JpegExtendedError {
    /// The data does not begin with the JPEG start-of-image marker.
    #[error("not a JPEG image: the data does not start with the JPEG start-of-image marker")]
    NotJpeg,
    /// The data stops before the image is complete.
    #[error("the JPEG data ends too early: the image is truncated or incomplete")]
    Truncated,
    /// A header (marker segment) is invalid.
    #[error("invalid JPEG header: {0}")]
    Malformed(String),
    /// The compressed image data is damaged.
    #[error("damaged JPEG image data: {0}")]
    Corrupt(String),
    /// The stream is valid JPEG but uses a feature this decoder does not handle.
    #[error("unsupported JPEG feature: {0}")]
    Unsupported(String),
}

/// A decoded single-component frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedJpeg {
    /// Columns.
    pub width: u16,
    /// Rows.
    pub height: u16,
    /// Sample precision in bits (8 or 12).
    pub precision: u8,
    /// Row-major unsigned sample values as stored, each in `0..2^precision`.
    pub samples: Vec<u16>,
}

type Result<T> = std::result::Result<T, JpegExtendedError>;

/// Position in natural (row-major) order of the k-th coefficient in zig-zag order.
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Bits of lookahead used by the fast Huffman path.
const LOOKAHEAD: u32 = 9;

fn malformed(msg: impl Into<String>) -> JpegExtendedError {
    JpegExtendedError::Malformed(msg.into())
}

fn corrupt(msg: impl Into<String>) -> JpegExtendedError {
    JpegExtendedError::Corrupt(msg.into())
}

fn unsupported(msg: impl Into<String>) -> JpegExtendedError {
    JpegExtendedError::Unsupported(msg.into())
}

/// A Huffman decoding table (ISO 10918-1 F.2.2.3, with a lookahead table).
#[derive(Clone)]
struct HuffTable {
    /// Indexed by the next `LOOKAHEAD` bits: `(code length << 8) | value`, 0 when the
    /// code is longer than `LOOKAHEAD` bits (or invalid).
    lookup: Vec<u16>,
    /// Largest code of each length, -1 when there is none.
    maxcode: [i32; 17],
    /// Add to a code of each length to get its index in `values`.
    valoffset: [i32; 17],
    values: Vec<u8>,
}

impl HuffTable {
    fn new(bits: &[u8], values: &[u8]) -> Result<Self> {
        let mut lookup = vec![0u16; 1 << LOOKAHEAD];
        let mut maxcode = [-1i32; 17];
        let mut valoffset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k: usize = 0;
        for len in 1..=16u32 {
            let n = usize::from(bits.get(len as usize - 1).copied().unwrap_or(0));
            valoffset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                let value = *values
                    .get(k)
                    .ok_or_else(|| malformed("a Huffman table has fewer values than codes"))?;
                if len <= LOOKAHEAD {
                    let shift = LOOKAHEAD - len;
                    let first = (code << shift) as usize;
                    let last = ((code + 1) << shift) as usize;
                    for entry in lookup.get_mut(first..last).into_iter().flatten() {
                        *entry = ((len as u16) << 8) | u16::from(value);
                    }
                }
                k += 1;
                code += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            // No code may be all ones, so the next free code must still fit in `len` bits.
            if code >= (1u32 << len) {
                return Err(malformed(
                    "a Huffman table has too many codes of some length",
                ));
            }
            code <<= 1;
        }
        Ok(Self {
            lookup,
            maxcode,
            valoffset,
            values: values.to_vec(),
        })
    }
}

/// Reads entropy-coded bits, removing stuffed zero bytes and stopping at markers.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits left-aligned: the next bit to read is bit 63.
    acc: u64,
    nbits: u32,
    /// A marker (or the end of the data) stopped the reading.
    stopped: bool,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            acc: 0,
            nbits: 0,
            stopped: false,
        }
    }

    fn fill(&mut self) {
        while self.nbits <= 56 && !self.stopped {
            let byte = match self.data.get(self.pos) {
                Some(&b) => b,
                None => {
                    self.stopped = true;
                    break;
                }
            };
            if byte == 0xFF {
                if self.data.get(self.pos + 1) == Some(&0x00) {
                    self.pos += 2;
                } else {
                    // A marker (or a lone 0xFF at the very end): the scan data stops here.
                    self.stopped = true;
                    break;
                }
            } else {
                self.pos += 1;
            }
            self.acc |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    /// The next 16 bits, zero-padded past the end of the scan data.
    fn peek16(&mut self) -> u32 {
        if self.nbits < 16 {
            self.fill();
        }
        (self.acc >> 48) as u32
    }

    fn consume(&mut self, n: u32) -> Result<()> {
        if n > self.nbits {
            return Err(JpegExtendedError::Truncated);
        }
        self.acc = if n >= 64 { 0 } else { self.acc << n };
        self.nbits -= n;
        Ok(())
    }

    /// Reads `n` (at most 16) bits as an unsigned number.
    fn bits(&mut self, n: u32) -> Result<u32> {
        if n == 0 {
            return Ok(0);
        }
        if self.nbits < n {
            self.fill();
        }
        let v = (self.acc >> (64 - n)) as u32;
        self.consume(n)?;
        Ok(v)
    }

    /// Reads `n` bits and sign-extends them as in ISO 10918-1 F.2.2.1 (EXTEND).
    fn receive_extend(&mut self, n: u32) -> Result<i32> {
        if n == 0 {
            return Ok(0);
        }
        if n > 16 {
            return Err(corrupt("a coefficient has an impossible size category"));
        }
        let v = self.bits(n)? as i32;
        Ok(if v < (1 << (n - 1)) {
            v - (1 << n) + 1
        } else {
            v
        })
    }

    fn decode_huffman(&mut self, table: &HuffTable) -> Result<u8> {
        let peek = self.peek16();
        let entry = table
            .lookup
            .get((peek >> (16 - LOOKAHEAD)) as usize)
            .copied()
            .unwrap_or(0);
        if entry != 0 {
            self.consume(u32::from(entry >> 8))?;
            return Ok((entry & 0xFF) as u8);
        }
        for len in (LOOKAHEAD + 1)..=16 {
            let code = (peek >> (16 - len)) as i32;
            if code <= table.maxcode[len as usize] {
                self.consume(len)?;
                let index = code + table.valoffset[len as usize];
                return usize::try_from(index)
                    .ok()
                    .and_then(|i| table.values.get(i))
                    .copied()
                    .ok_or_else(|| corrupt("a Huffman code points outside its table"));
            }
        }
        if self.stopped && self.nbits < 16 {
            Err(JpegExtendedError::Truncated)
        } else {
            Err(corrupt("an invalid Huffman code was found"))
        }
    }

    /// Drops any buffered bits and returns the position of the code byte of the next
    /// marker, skipping stray bytes before it.
    fn find_marker(&mut self) -> Result<usize> {
        self.acc = 0;
        self.nbits = 0;
        self.stopped = false;
        let mut i = self.pos;
        loop {
            match (self.data.get(i), self.data.get(i + 1)) {
                (Some(0xFF), Some(&next)) if next != 0x00 && next != 0xFF => return Ok(i + 1),
                (Some(_), Some(_)) => i += 1,
                _ => return Err(JpegExtendedError::Truncated),
            }
        }
    }

    /// Handles the restart marker expected after a restart interval.
    fn restart(&mut self, expected: u8) -> Result<()> {
        let at = self.find_marker()?;
        let marker = self.data.get(at).copied().unwrap_or(0);
        if marker != 0xD0 + expected {
            return Err(corrupt(format!(
                "expected restart marker RST{expected}, found marker {marker:02X}"
            )));
        }
        self.pos = at + 1;
        Ok(())
    }
}

#[derive(Clone, Copy)]
struct Frame {
    precision: u8,
    width: u16,
    height: u16,
    component_id: u8,
    quant_table: u8,
}

/// Reads a big-endian u16 at `pos`.
fn read_u16(data: &[u8], pos: usize) -> Result<u16> {
    match (data.get(pos), data.get(pos.wrapping_add(1))) {
        (Some(&a), Some(&b)) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(JpegExtendedError::Truncated),
    }
}

/// Reads the marker at `pos` (after any fill bytes): returns its code and the position
/// just after it.
fn read_marker(data: &[u8], pos: usize) -> Result<(u8, usize)> {
    match data.get(pos) {
        None => return Err(JpegExtendedError::Truncated),
        Some(0xFF) => {}
        Some(_) => {
            return Err(malformed(format!(
                "expected a marker at byte {pos}, found other data"
            )))
        }
    }
    let mut i = pos + 1;
    loop {
        match data.get(i) {
            None => return Err(JpegExtendedError::Truncated),
            Some(0xFF) => i += 1,
            Some(0x00) => return Err(malformed(format!("invalid marker at byte {pos}"))),
            Some(&code) => return Ok((code, i + 1)),
        }
    }
}

/// The payload of the marker segment whose length field is at `pos`, and the position
/// after the segment.
fn read_segment(data: &[u8], pos: usize) -> Result<(&[u8], usize)> {
    let len = usize::from(read_u16(data, pos)?);
    if len < 2 {
        return Err(malformed("a marker segment has an invalid length"));
    }
    let end = pos.checked_add(len).ok_or(JpegExtendedError::Truncated)?;
    let payload = data.get(pos + 2..end).ok_or(JpegExtendedError::Truncated)?;
    Ok((payload, end))
}

fn parse_dqt(mut seg: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Result<()> {
    while let Some((&pq_tq, rest)) = seg.split_first() {
        let precision = pq_tq >> 4;
        let id = usize::from(pq_tq & 0x0F);
        let size = match precision {
            0 => 64,
            1 => 128,
            _ => return Err(malformed("a quantization table has an invalid precision")),
        };
        let slot = tables
            .get_mut(id)
            .ok_or_else(|| malformed(format!("quantization table number {id} is not 0-3")))?;
        let bytes = rest
            .get(..size)
            .ok_or_else(|| malformed("a quantization table segment is too short"))?;
        let mut table = [0u16; 64];
        for (k, &pos) in ZIGZAG.iter().enumerate() {
            let q = if precision == 0 {
                bytes.get(k).map(|&b| u16::from(b))
            } else {
                match (bytes.get(2 * k), bytes.get(2 * k + 1)) {
                    (Some(&a), Some(&b)) => Some(u16::from_be_bytes([a, b])),
                    _ => None,
                }
            };
            if let (Some(q), Some(t)) = (q, table.get_mut(usize::from(pos))) {
                *t = q;
            }
        }
        *slot = Some(table);
        seg = rest.get(size..).unwrap_or(&[]);
    }
    Ok(())
}

type HuffSlots = [Option<HuffTable>; 4];

fn parse_dht(mut seg: &[u8], dc: &mut HuffSlots, ac: &mut HuffSlots) -> Result<()> {
    while let Some((&tc_th, rest)) = seg.split_first() {
        let class = tc_th >> 4;
        let id = usize::from(tc_th & 0x0F);
        let bits = rest
            .get(..16)
            .ok_or_else(|| malformed("a Huffman table segment is too short"))?;
        let count: usize = bits.iter().map(|&b| usize::from(b)).sum();
        if count > 256 {
            return Err(malformed("a Huffman table has more than 256 codes"));
        }
        let values = rest
            .get(16..16 + count)
            .ok_or_else(|| malformed("a Huffman table segment is too short"))?;
        let table = HuffTable::new(bits, values)?;
        let slots = match class {
            0 => &mut *dc,
            1 => &mut *ac,
            _ => return Err(malformed("a Huffman table has an invalid class")),
        };
        let slot = slots
            .get_mut(id)
            .ok_or_else(|| malformed(format!("Huffman table number {id} is not 0-3")))?;
        *slot = Some(table);
        seg = rest.get(16 + count..).unwrap_or(&[]);
    }
    Ok(())
}

/// Parses SOF0/SOF1. A 12-bit SOF0 (invalid, but seen in the wild) is accepted too.
fn parse_sof(seg: &[u8]) -> Result<Frame> {
    let byte = |i: usize| {
        seg.get(i)
            .copied()
            .ok_or_else(|| malformed("the frame header is too short"))
    };
    let precision = byte(0)?;
    let height = u16::from_be_bytes([byte(1)?, byte(2)?]);
    let width = u16::from_be_bytes([byte(3)?, byte(4)?]);
    let components = byte(5)?;
    if seg.len() != 6 + 3 * usize::from(components) {
        return Err(malformed(
            "the frame header length does not match its component count",
        ));
    }
    if precision != 8 && precision != 12 {
        return Err(unsupported(format!(
            "{precision}-bit samples (only 8 and 12 bits are supported)"
        )));
    }
    if components != 1 {
        return Err(unsupported(format!(
            "{components} colour components (only single-component grayscale is supported)"
        )));
    }
    if height == 0 {
        return Err(unsupported("image height given by a DNL marker"));
    }
    if width == 0 {
        return Err(malformed("the image width is zero"));
    }
    let sampling = byte(7)?;
    let (h, v) = (sampling >> 4, sampling & 0x0F);
    if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
        return Err(malformed("invalid sampling factors"));
    }
    let quant_table = byte(8)?;
    if quant_table > 3 {
        return Err(malformed(
            "the frame refers to a quantization table number above 3",
        ));
    }
    Ok(Frame {
        precision,
        width,
        height,
        component_id: byte(6)?,
        quant_table,
    })
}

/// Separable floating-point 8x8 inverse DCT matrix: `m[x * 8 + u] = C(u)/2 cos((2x+1)uπ/16)`.
fn idct_matrix() -> [f32; 64] {
    let mut m = [0f32; 64];
    for (i, v) in m.iter_mut().enumerate() {
        let (x, u) = ((i / 8) as f32, (i % 8) as f32);
        let c = if i % 8 == 0 {
            std::f32::consts::FRAC_1_SQRT_2
        } else {
            1.0
        };
        *v = 0.5 * c * ((2.0 * x + 1.0) * u * PI / 16.0).cos();
    }
    m
}

/// Inverse DCT of dequantized coefficients (natural order), in place.
fn idct(block: &mut [f32; 64], m: &[f32; 64]) {
    let mut tmp = [0f32; 64];
    // Rows: tmp[v][x] = sum_u m[x][u] F[v][u].
    for (row_in, row_out) in block.chunks_exact(8).zip(tmp.chunks_exact_mut(8)) {
        for (x, out) in row_out.iter_mut().enumerate() {
            let basis = m.get(x * 8..x * 8 + 8).unwrap_or(&[0.0; 8]);
            *out = row_in.iter().zip(basis).map(|(a, b)| a * b).sum();
        }
    }
    // Columns: out[y][x] = sum_v m[y][v] tmp[v][x].
    for y in 0..8 {
        let basis = m.get(y * 8..y * 8 + 8).unwrap_or(&[0.0; 8]);
        for x in 0..8 {
            let mut s = 0f32;
            for (v, b) in basis.iter().enumerate() {
                s += b * tmp.get(v * 8 + x).copied().unwrap_or(0.0);
            }
            if let Some(o) = block.get_mut(y * 8 + x) {
                *o = s;
            }
        }
    }
}

struct Scan<'a> {
    frame: Frame,
    restart_interval: u16,
    quant: &'a [u16; 64],
    dc: &'a HuffTable,
    ac: &'a HuffTable,
}

/// Decodes the entropy-coded data of the single scan starting at `pos`. Returns the
/// samples and the position of the code byte of the marker that follows the scan.
fn decode_scan(data: &[u8], pos: usize, scan: &Scan) -> Result<(Vec<u16>, usize)> {
    let frame = scan.frame;
    let width = usize::from(frame.width);
    let height = usize::from(frame.height);
    let blocks_x = width.div_ceil(8);
    let blocks_y = height.div_ceil(8);
    let blocks = blocks_x * blocks_y;
    // Every block takes at least two bits, so a header claiming more blocks than the
    // remaining data can hold is truncated; checking first avoids a huge allocation.
    let remaining_bits = data.len().saturating_sub(pos).saturating_mul(8);
    if blocks.saturating_mul(2) > remaining_bits {
        return Err(JpegExtendedError::Truncated);
    }
    // No CT frame comes near this (512² is 0.26 M); a bigger header is damaged, and
    // believing it would mean allocating gigabytes.
    const MAX_SAMPLES: usize = 64 * 1024 * 1024;
    if width * height > MAX_SAMPLES {
        return Err(JpegExtendedError::Malformed(format!(
            "a {width}×{height} frame is larger than any image this tool reads"
        )));
    }
    let mut samples = vec![0u16; width * height];
    let max_value = ((1u32 << frame.precision) - 1) as f32;
    let shift = (1u32 << (frame.precision - 1)) as f32;
    let matrix = idct_matrix();
    let quant: [f32; 64] = scan.quant.map(f32::from);
    let interval = usize::from(scan.restart_interval);

    let mut reader = BitReader::new(data, pos);
    let mut pred: i32 = 0;
    let mut next_restart: u8 = 0;
    for index in 0..blocks {
        if interval > 0 && index > 0 && index % interval == 0 {
            reader.restart(next_restart)?;
            next_restart = (next_restart + 1) & 7;
            pred = 0;
        }
        let mut block = [0f32; 64];
        let size = reader.decode_huffman(scan.dc)?;
        let diff = reader.receive_extend(u32::from(size))?;
        pred = pred.wrapping_add(diff);
        block[0] = pred as f32 * quant[0];
        let mut only_dc = true;
        let mut k = 1usize;
        while k < 64 {
            let rs = reader.decode_huffman(scan.ac)?;
            let run = usize::from(rs >> 4);
            let size = u32::from(rs & 0x0F);
            if size == 0 {
                if run == 15 {
                    k += 16;
                    if k > 64 {
                        return Err(corrupt("a run of zeros goes past the end of a block"));
                    }
                    continue;
                }
                break;
            }
            k += run;
            let natural = ZIGZAG
                .get(k)
                .map(|&z| usize::from(z))
                .ok_or_else(|| corrupt("a coefficient lies past the end of a block"))?;
            let value = reader.receive_extend(size)?;
            if let (Some(c), Some(&q)) = (block.get_mut(natural), quant.get(natural)) {
                *c = value as f32 * q;
            }
            only_dc = false;
            k += 1;
        }
        if only_dc {
            let v = block[0] / 8.0;
            block = [v; 64];
        } else {
            idct(&mut block, &matrix);
        }
        let (bx, by) = (index % blocks_x, index / blocks_x);
        for (y, row) in block.chunks_exact(8).enumerate() {
            let sy = by * 8 + y;
            if sy >= height {
                break;
            }
            let start = sy * width + bx * 8;
            let len = 8.min(width - bx * 8);
            if let Some(out) = samples.get_mut(start..start + len) {
                for (o, &v) in out.iter_mut().zip(row) {
                    *o = (v + shift).round().clamp(0.0, max_value) as u16;
                }
            }
        }
    }
    let marker_at = reader.find_marker()?;
    Ok((samples, marker_at))
}

/// Decodes one JPEG Extended (process 2 & 4) or baseline single-component frame.
pub fn decode(data: &[u8]) -> std::result::Result<DecodedJpeg, JpegExtendedError> {
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(JpegExtendedError::NotJpeg);
    }
    let mut pos = 2;
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc: HuffSlots = [None, None, None, None];
    let mut ac: HuffSlots = [None, None, None, None];
    let mut restart_interval: u16 = 0;
    let mut frame: Option<Frame> = None;
    let mut samples: Option<Vec<u16>> = None;
    // When set, the marker code byte is at this position (we arrived from scan data).
    let mut after_scan: Option<usize> = None;

    loop {
        let (marker, next) = match after_scan.take() {
            Some(at) => (data.get(at).copied().unwrap_or(0), at + 1),
            None => read_marker(data, pos)?,
        };
        pos = next;
        match marker {
            0xD9 => break,
            0x01 => {}
            0xD8 => return Err(malformed("a second start-of-image marker was found")),
            0xD0..=0xD7 => return Err(malformed("a restart marker was found outside image data")),
            0xC0 | 0xC1 => {
                let (seg, end) = read_segment(data, pos)?;
                if frame.is_some() {
                    return Err(malformed("more than one frame header"));
                }
                frame = Some(parse_sof(seg)?);
                pos = end;
            }
            0xC2 | 0xC6 | 0xCA | 0xCE => {
                return Err(unsupported(
                    "progressive DCT (only sequential DCT is supported)",
                ))
            }
            0xC3 | 0xC7 | 0xCB | 0xCF => {
                return Err(unsupported(
                    "lossless JPEG (only sequential DCT is supported)",
                ))
            }
            0xC9 | 0xCC | 0xCD => return Err(unsupported("arithmetic coding")),
            0xC5 | 0xDE | 0xDF => return Err(unsupported("hierarchical JPEG")),
            0xC4 => {
                let (seg, end) = read_segment(data, pos)?;
                parse_dht(seg, &mut dc, &mut ac)?;
                pos = end;
            }
            0xDB => {
                let (seg, end) = read_segment(data, pos)?;
                parse_dqt(seg, &mut quant)?;
                pos = end;
            }
            0xDD => {
                let (seg, end) = read_segment(data, pos)?;
                restart_interval = match seg {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => return Err(malformed("the restart interval segment has a wrong length")),
                };
                pos = end;
            }
            0xDA => {
                let (seg, end) = read_segment(data, pos)?;
                let frame =
                    frame.ok_or_else(|| malformed("image data comes before the frame header"))?;
                if samples.is_some() {
                    return Err(malformed("more than one scan for a single-component image"));
                }
                let (count, comp, tables) = match seg {
                    [count, comp, tables, _ss, _se, _ahal] => (*count, *comp, *tables),
                    [count, ..] if *count != 1 => {
                        return Err(unsupported("a scan with more than one component"))
                    }
                    _ => return Err(malformed("the scan header has a wrong length")),
                };
                if count != 1 || comp != frame.component_id {
                    return Err(malformed(
                        "the scan does not refer to the image's component",
                    ));
                }
                // Spectral selection and successive approximation are ignored for
                // sequential streams, as libjpeg does (some DICOM encoders write Se = 0).
                let (td, ta) = (usize::from(tables >> 4), usize::from(tables & 0x0F));
                let dc_table = dc
                    .get(td)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| malformed(format!("DC Huffman table {td} is not defined")))?;
                let ac_table = ac
                    .get(ta)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| malformed(format!("AC Huffman table {ta} is not defined")))?;
                let qt = frame.quant_table;
                let quant_table = quant
                    .get(usize::from(qt))
                    .and_then(Option::as_ref)
                    .ok_or_else(|| malformed(format!("quantization table {qt} is not defined")))?;
                let scan = Scan {
                    frame,
                    restart_interval,
                    quant: quant_table,
                    dc: dc_table,
                    ac: ac_table,
                };
                let (decoded, marker_at) = decode_scan(data, end, &scan)?;
                samples = Some(decoded);
                after_scan = Some(marker_at);
            }
            0xDC => {
                // DNL: the height is already known (a zero height is refused above).
                let (_, end) = read_segment(data, pos)?;
                pos = end;
            }
            _ => {
                // APPn, COM, JPGn and reserved markers: skip their segment.
                let (_, end) = read_segment(data, pos)?;
                pos = end;
            }
        }
    }
    let frame = frame.ok_or_else(|| malformed("the stream has no frame header"))?;
    let samples = samples.ok_or_else(|| malformed("the stream has no image data"))?;
    Ok(DecodedJpeg {
        width: frame.width,
        height: frame.height,
        precision: frame.precision,
        samples,
    })
}

#[cfg(test)]
mod tests {
    //! Round trips through a small test-only encoder (which writes restart intervals,
    //! several tables, 16-bit quantization tables and long Huffman codes), robustness
    //! checks on damaged input, and, where the shared data folder exists, real DICOM
    //! files checked against pydicom + pylibjpeg statistics.

    use super::*;

    /// Code counts per length (1..=16) of the test Huffman tables.
    const DC_SHORT: [u8; 16] = [0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const DC_LONG: [u8; 16] = [0, 1, 3, 3, 3, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const AC_SHORT: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 226, 0, 0, 0, 0, 0, 0, 0, 0];
    const AC_LONG: [u8; 16] = [0, 1, 1, 2, 3, 4, 6, 8, 10, 14, 20, 30, 40, 40, 30, 17];

    fn ac_symbols() -> Vec<u8> {
        let mut pairs: Vec<(u8, u8)> = (0..16u8)
            .flat_map(|r| (1..=14u8).map(move |s| (r, s)))
            .collect();
        pairs.sort_by_key(|&(r, s)| (r + s, r));
        let mut symbols = vec![0x00];
        symbols.extend(pairs.iter().map(|&(r, s)| (r << 4) | s));
        symbols.insert(30, 0xF0);
        symbols
    }

    fn dc_symbols() -> Vec<u8> {
        (0..16).collect()
    }

    /// (code, length) for each symbol value.
    fn encoding_table(bits: &[u8; 16], symbols: &[u8]) -> Vec<(u32, u32)> {
        let mut table = vec![(0u32, 0u32); 256];
        let mut code = 0u32;
        let mut k = 0;
        for (i, &n) in bits.iter().enumerate() {
            for _ in 0..n {
                table[usize::from(symbols[k])] = (code, i as u32 + 1);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        assert_eq!(k, symbols.len());
        table
    }

    #[derive(Clone)]
    struct EncodeOptions {
        precision: u8,
        restart_interval: u16,
        /// Natural order.
        quant: [u16; 64],
        quant_16bit: bool,
        sampling: u8,
        long_codes: bool,
        sof: u8,
    }

    impl EncodeOptions {
        fn new(precision: u8) -> Self {
            Self {
                precision,
                restart_interval: 0,
                quant: [1; 64],
                quant_16bit: false,
                sampling: 0x11,
                long_codes: false,
                sof: if precision == 8 { 0xC0 } else { 0xC1 },
            }
        }
    }

    struct BitWriter {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }

    impl BitWriter {
        fn put(&mut self, bits: u32, len: u32) {
            for i in (0..len).rev() {
                self.acc = (self.acc << 1) | ((bits >> i) & 1);
                self.n += 1;
                if self.n == 8 {
                    let byte = self.acc as u8;
                    self.out.push(byte);
                    if byte == 0xFF {
                        self.out.push(0);
                    }
                    self.acc = 0;
                    self.n = 0;
                }
            }
        }

        fn pad(&mut self) {
            while self.n != 0 {
                self.put(1, 1);
            }
        }
    }

    fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
    }

    fn dht_payload(class_id: u8, bits: &[u8; 16], symbols: &[u8]) -> Vec<u8> {
        let mut p = vec![class_id];
        p.extend_from_slice(bits);
        p.extend_from_slice(symbols);
        p
    }

    fn category(v: i32) -> (u32, u32) {
        let s = 32 - v.unsigned_abs().leading_zeros();
        let bits = if v < 0 { v - 1 + (1 << s) } else { v };
        (s, bits as u32 & ((1u32 << s) - 1))
    }

    /// A sequential single-component encoder, for tests only.
    fn encode(samples: &[u16], width: usize, height: usize, o: &EncodeOptions) -> Vec<u8> {
        let (dc_bits, ac_bits, decoy_dc, decoy_ac) = if o.long_codes {
            (&DC_LONG, &AC_LONG, &DC_SHORT, &AC_SHORT)
        } else {
            (&DC_SHORT, &AC_SHORT, &DC_LONG, &AC_LONG)
        };
        let (dcs, acs) = (dc_symbols(), ac_symbols());
        let mut out = vec![0xFF, 0xD8];
        segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        segment(&mut out, 0xFE, b"test stream");
        // A decoy table 0, and the real table 2.
        segment(&mut out, 0xDB, &[[0x00].as_slice(), &[1u8; 64]].concat());
        let mut dqt = vec![if o.quant_16bit { 0x12 } else { 0x02 }];
        for &z in ZIGZAG.iter() {
            let q = o.quant[usize::from(z)];
            if o.quant_16bit {
                dqt.extend_from_slice(&q.to_be_bytes());
            } else {
                dqt.push(q as u8);
            }
        }
        segment(&mut out, 0xDB, &dqt);
        let mut sof = vec![o.precision];
        sof.extend_from_slice(&(height as u16).to_be_bytes());
        sof.extend_from_slice(&(width as u16).to_be_bytes());
        sof.extend_from_slice(&[1, 7, o.sampling, 2]);
        segment(&mut out, o.sof, &sof);
        // Decoy tables 0 in one segment; the real tables 1 together in another.
        segment(&mut out, 0xC4, &dht_payload(0x00, decoy_dc, &dcs));
        segment(&mut out, 0xC4, &dht_payload(0x10, decoy_ac, &acs));
        let mut dht = dht_payload(0x01, dc_bits, &dcs);
        dht.extend(dht_payload(0x11, ac_bits, &acs));
        segment(&mut out, 0xC4, &dht);
        if o.restart_interval > 0 {
            segment(&mut out, 0xDD, &o.restart_interval.to_be_bytes());
        }
        segment(&mut out, 0xDA, &[1, 7, 0x11, 0, 63, 0]);

        let dc_codes = encoding_table(dc_bits, &dcs);
        let ac_codes = encoding_table(ac_bits, &acs);
        let m = idct_matrix();
        let shift = f64::from(1u32 << (o.precision - 1));
        let ac_limit = (1i32 << (o.precision + 2)) - 1;
        let (bx_n, by_n) = (width.div_ceil(8), height.div_ceil(8));
        let mut w = BitWriter { out, acc: 0, n: 0 };
        let mut pred = 0i32;
        let mut rst = 0u8;
        for index in 0..bx_n * by_n {
            let interval = usize::from(o.restart_interval);
            if interval > 0 && index > 0 && index % interval == 0 {
                w.pad();
                w.out.extend_from_slice(&[0xFF, 0xD0 + rst]);
                rst = (rst + 1) & 7;
                pred = 0;
            }
            let (bx, by) = (index % bx_n, index / bx_n);
            let mut f = [0f64; 64];
            for y in 0..8 {
                for x in 0..8 {
                    let sy = (by * 8 + y).min(height - 1);
                    let sx = (bx * 8 + x).min(width - 1);
                    f[y * 8 + x] = f64::from(samples[sy * width + sx]) - shift;
                }
            }
            let mut coef = [0i32; 64];
            for v in 0..8 {
                for u in 0..8 {
                    let mut s = 0f64;
                    for y in 0..8 {
                        for x in 0..8 {
                            s += f64::from(m[y * 8 + v]) * f[y * 8 + x] * f64::from(m[x * 8 + u]);
                        }
                    }
                    let q = f64::from(o.quant[v * 8 + u]);
                    coef[v * 8 + u] = ((s / q).round() as i32).clamp(-ac_limit, ac_limit);
                }
            }
            let (s, bits) = category(coef[0] - pred);
            pred = coef[0];
            let (code, len) = dc_codes[s as usize];
            w.put(code, len);
            w.put(bits, s);
            let mut run = 0;
            for k in 1..64 {
                let v = coef[usize::from(ZIGZAG[k])];
                if v == 0 {
                    run += 1;
                    continue;
                }
                while run >= 16 {
                    let (code, len) = ac_codes[0xF0];
                    w.put(code, len);
                    run -= 16;
                }
                let (s, bits) = category(v);
                let (code, len) = ac_codes[(run << 4) | s as usize];
                w.put(code, len);
                w.put(bits, s);
                run = 0;
            }
            if run > 0 {
                let (code, len) = ac_codes[0x00];
                w.put(code, len);
            }
        }
        w.pad();
        let mut out = w.out;
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    /// A deterministic test image: gradients, a sharp-edged square, noise, and
    /// saturated corners.
    fn test_image(width: usize, height: usize, precision: u8) -> Vec<u16> {
        let max = (1u32 << precision) - 1;
        let mut state = 12345u32;
        let mut out = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let noise = (state >> 16) % 64;
                let mut v = (x * max as usize / width.max(1) / 2
                    + y * max as usize / height.max(1) / 3) as u32
                    + noise * max / 1024;
                if (width / 4..width / 2).contains(&x) && (height / 3..height / 2).contains(&y) {
                    v = max * 9 / 10;
                }
                if x < 5 && y < 5 {
                    v = 0;
                }
                if x + 5 >= width && y + 5 >= height {
                    v = max;
                }
                out.push(v.min(max) as u16);
            }
        }
        out
    }

    fn max_diff(a: &[u16], b: &[u16]) -> i32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs())
            .max()
            .unwrap_or(0)
    }

    fn roundtrip(width: usize, height: usize, o: &EncodeOptions) -> (Vec<u8>, DecodedJpeg) {
        let image = test_image(width, height, o.precision);
        let stream = encode(&image, width, height, o);
        let decoded = decode(&stream).expect("the test stream decodes");
        assert_eq!(
            (usize::from(decoded.width), usize::from(decoded.height)),
            (width, height)
        );
        assert_eq!(decoded.precision, o.precision);
        // With unit quantization only coefficient rounding is lost.
        let d = max_diff(&decoded.samples, &image);
        assert!(d <= 2, "round trip differs by {d}");
        (stream, decoded)
    }

    #[test]
    fn roundtrip_12_bit() {
        roundtrip(37, 23, &EncodeOptions::new(12));
    }

    #[test]
    fn roundtrip_8_bit_baseline() {
        roundtrip(40, 17, &EncodeOptions::new(8));
        let mut o = EncodeOptions::new(8);
        o.sof = 0xC1;
        roundtrip(9, 9, &o);
    }

    #[test]
    fn roundtrip_restarts_long_codes_16_bit_tables_and_sampling() {
        for interval in [1u16, 3, 7, 100] {
            let mut o = EncodeOptions::new(12);
            o.restart_interval = interval;
            o.long_codes = true;
            o.quant_16bit = true;
            o.sampling = 0x22;
            let (stream, _) = roundtrip(50, 30, &o);
            assert!(stream.windows(2).any(|w| w == [0xFF, 0xD0]) || interval >= 28);
        }
    }

    #[test]
    fn coarse_quantization_stays_close() {
        let mut o = EncodeOptions::new(12);
        for (i, q) in o.quant.iter_mut().enumerate() {
            *q = 300 + (i as u16) * 7;
        }
        o.quant[0] = 16;
        o.quant_16bit = true;
        let image = test_image(64, 64, 12);
        let decoded = decode(&encode(&image, 64, 64, &o)).expect("decodes");
        let mean_error: f64 = decoded
            .samples
            .iter()
            .zip(&image)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
            .sum::<f64>()
            / image.len() as f64;
        assert!(mean_error < 200.0, "mean error {mean_error}");
        assert!(decoded.samples.iter().all(|&v| v <= 4095));
    }

    #[test]
    fn ignores_spectral_selection_in_sequential_scans() {
        let o = EncodeOptions::new(12);
        let image = test_image(16, 16, 12);
        let stream = encode(&image, 16, 16, &o);
        let good = decode(&stream).expect("decodes");
        let sos = stream
            .windows(2)
            .position(|w| w == [0xFF, 0xDA])
            .expect("has SOS");
        let mut patched = stream.clone();
        patched[sos + 8] = 0; // Se = 0, as in some DICOM encoders' output
        assert_eq!(decode(&patched).expect("still decodes"), good);
    }

    #[test]
    fn wrong_restart_marker_is_an_error() {
        let mut o = EncodeOptions::new(12);
        o.restart_interval = 2;
        let image = test_image(32, 16, 12);
        let mut stream = encode(&image, 32, 16, &o);
        let at = stream
            .windows(2)
            .position(|w| w == [0xFF, 0xD1])
            .expect("has RST1");
        stream[at + 1] = 0xD5;
        assert!(matches!(
            decode(&stream),
            Err(JpegExtendedError::Corrupt(_))
        ));
    }

    #[test]
    fn truncated_streams_are_errors() {
        let mut o = EncodeOptions::new(12);
        o.restart_interval = 3;
        let image = test_image(24, 24, 12);
        let stream = encode(&image, 24, 24, &o);
        assert!(decode(&stream).is_ok());
        for len in 0..stream.len() {
            assert!(
                decode(&stream[..len]).is_err(),
                "prefix of {len} bytes decoded"
            );
        }
    }

    #[test]
    fn damaged_streams_never_panic() {
        let mut o = EncodeOptions::new(12);
        o.restart_interval = 4;
        o.long_codes = true;
        let image = test_image(24, 16, 12);
        let stream = encode(&image, 24, 16, &o);
        for i in 0..stream.len() {
            for bit in 0..8 {
                let mut damaged = stream.clone();
                damaged[i] ^= 1 << bit;
                let _ = decode(&damaged);
            }
        }
        let mut state = 7u32;
        for len in [0usize, 1, 2, 3, 10, 100, 1000] {
            for _ in 0..50 {
                let mut garbage: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        (state >> 24) as u8
                    })
                    .collect();
                assert!(decode(&garbage).is_err());
                if garbage.len() >= 2 {
                    garbage[0] = 0xFF;
                    garbage[1] = 0xD8;
                    assert!(decode(&garbage).is_err());
                }
            }
        }
    }

    #[test]
    fn rejects_empty_and_incomplete_streams() {
        assert!(matches!(decode(&[]), Err(JpegExtendedError::NotJpeg)));
        assert!(matches!(decode(b"GIF89a"), Err(JpegExtendedError::NotJpeg)));
        assert!(decode(&[0xFF, 0xD8]).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xD9]).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08]).is_err());
    }

    #[test]
    fn huge_dimensions_with_little_data_are_refused() {
        let o = EncodeOptions::new(12);
        let image = test_image(8, 8, 12);
        let mut stream = encode(&image, 8, 8, &o);
        let sof = stream
            .windows(2)
            .position(|w| w == [0xFF, 0xC1])
            .expect("has SOF1");
        stream[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        assert!(matches!(decode(&stream), Err(JpegExtendedError::Truncated)));
    }

    #[test]
    fn unsupported_features_are_reported() {
        let image = test_image(8, 8, 12);
        let stream = encode(&image, 8, 8, &EncodeOptions::new(12));
        let sof = stream
            .windows(2)
            .position(|w| w == [0xFF, 0xC1])
            .expect("has SOF1");
        let mut progressive = stream.clone();
        progressive[sof + 1] = 0xC2;
        assert!(matches!(
            decode(&progressive),
            Err(JpegExtendedError::Unsupported(_))
        ));
        let mut arithmetic = stream.clone();
        arithmetic[sof + 1] = 0xC9;
        assert!(matches!(
            decode(&arithmetic),
            Err(JpegExtendedError::Unsupported(_))
        ));
        let mut sixteen_bit = stream.clone();
        sixteen_bit[sof + 4] = 16;
        assert!(matches!(
            decode(&sixteen_bit),
            Err(JpegExtendedError::Unsupported(_))
        ));
        let mut three = stream[..sof].to_vec();
        three.extend_from_slice(&[0xFF, 0xC1, 0, 17, 12, 0, 8, 0, 8, 3]);
        three.extend_from_slice(&[1, 0x11, 2, 2, 0x11, 2, 3, 0x11, 2]);
        three.extend_from_slice(&stream[sof + 13..]);
        let error = decode(&three).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("3 colour components"), "{error}");
        assert!(matches!(
            decode(&three),
            Err(JpegExtendedError::Unsupported(_))
        ));
    }

    /// Splits encapsulated DICOM pixel data into frames (crudely: a fragment starting
    /// with a JPEG start-of-image begins a new frame).
    fn dicom_frames(file: &[u8]) -> Vec<Vec<u8>> {
        let tag = [
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        let Some(start) = file.windows(tag.len()).rposition(|w| w == tag) else {
            return Vec::new();
        };
        let mut pos = start + tag.len();
        let mut frames: Vec<Vec<u8>> = Vec::new();
        let mut first = true;
        while let Some(item) = file.get(pos..pos + 8) {
            let len = u32::from_le_bytes([item[4], item[5], item[6], item[7]]) as usize;
            if item[..4] != [0xFE, 0xFF, 0x00, 0xE0] {
                break;
            }
            let Some(fragment) = file.get(pos + 8..pos + 8 + len) else {
                break;
            };
            if !first {
                if fragment.starts_with(&[0xFF, 0xD8]) || frames.is_empty() {
                    frames.push(Vec::new());
                }
                if let Some(frame) = frames.last_mut() {
                    frame.extend_from_slice(fragment);
                }
            }
            first = false;
            pos += 8 + len;
        }
        frames
    }

    /// Real files, checked against the statistics pydicom 3.0.2 + pylibjpeg gave for
    /// them (JPEG-lossy.dcm, which pylibjpeg refuses for its Se = 0 scan header, is the
    /// same stream as JPGExtended.dcm apart from that byte).
    #[test]
    fn shared_dicom_files_match_reference_statistics() {
        const ROOT: &str = "/work/shared/data/dicom";
        // (file, frames, rows, columns, precision, min, max, mean)
        type Case = (&'static str, usize, usize, usize, u8, u16, u16, f64);
        let cases: [Case; 6] = [
            ("pydicom/JPGExtended.dcm", 1, 1024, 256, 12, 0, 264, 14.383),
            ("pydicom/JPEG-lossy.dcm", 1, 1024, 256, 12, 0, 264, 14.383),
            (
                "cornerstone3d/CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm",
                1, 512, 512, 12, 498, 2708, 1548.2822,
            ),
            (
                "dicomparser/encapsulated/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm",
                2, 512, 512, 12, 1010, 2223, 1403.0537,
            ),
            (
                "cornerstone3d/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm",
                2, 512, 512, 12, 1010, 2223, 1403.0537,
            ),
            (
                "cornerstone3d/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm",
                1, 512, 512, 8, 30, 168, 95.8744,
            ),
        ];
        if !std::path::Path::new(ROOT).is_dir() {
            println!("skipping: {ROOT} is absent");
            return;
        }
        for (name, frames, rows, columns, precision, min, max, mean) in cases {
            let path = format!("{ROOT}/{name}");
            let Ok(file) = std::fs::read(&path) else {
                println!("skipping {name}: not found");
                continue;
            };
            let streams = dicom_frames(&file);
            assert_eq!(streams.len(), frames, "{name}: frame count");
            let mut all = Vec::new();
            for stream in &streams {
                let image = decode(stream).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(
                    (
                        usize::from(image.height),
                        usize::from(image.width),
                        image.precision
                    ),
                    (rows, columns, precision),
                    "{name}"
                );
                all.extend(image.samples);
            }
            let got_min = all.iter().copied().min().unwrap_or(0);
            let got_max = all.iter().copied().max().unwrap_or(0);
            let got_mean = all.iter().map(|&v| f64::from(v)).sum::<f64>() / all.len() as f64;
            assert!(got_min.abs_diff(min) <= 1, "{name}: min {got_min} vs {min}");
            assert!(got_max.abs_diff(max) <= 1, "{name}: max {got_max} vs {max}");
            assert!(
                (got_mean - mean).abs() < 0.05,
                "{name}: mean {got_mean} vs {mean}"
            );
        }
    }
}
