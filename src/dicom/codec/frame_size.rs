//! The image size a compressed frame claims, read from its own header (JPEG, JPEG-LS
//! and JPEG 2000), so that a frame claiming more pixels than the DICOM header is refused
//! before a decoder allocates for it: a JPEG whose SOF claimed 32768 × 32768 had
//! jpeg-decoder allocate 1.2 GB before it failed (found by mutation testing).

/// Width and height as the frame's codestream declares them, or `None` when its start
/// is no JPEG or JPEG 2000 header this can read (the decoder then reports it).
pub fn claimed(frame: &[u8]) -> Option<(usize, usize)> {
    match frame {
        [0xFF, 0xD8, ..] => jpeg_sof(frame),
        [0xFF, 0x4F, 0xFF, 0x51, ..] => j2k_siz(&frame[4..]),
        _ => None,
    }
}

/// Walks the marker segments after SOI to the first start-of-frame: SOF0–SOF15 but DHT
/// (C4), JPG (C8) and DAC (CC), or JPEG-LS's SOF55 (F7). Each holds P, Y (height), X.
fn jpeg_sof(frame: &[u8]) -> Option<(usize, usize)> {
    let u16_at = |at: usize| {
        Some(usize::from(u16::from_be_bytes([
            *frame.get(at)?,
            *frame.get(at + 1)?,
        ])))
    };
    let mut at = 2;
    loop {
        if *frame.get(at)? != 0xFF {
            return None;
        }
        let marker = *frame.get(at + 1)?;
        match marker {
            // Fill bytes, then standalone markers without a length.
            0xFF => at += 1,
            0x01 | 0xD0..=0xD7 => at += 2,
            0xC0..=0xCF | 0xF7 if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return Some((u16_at(at + 7)?, u16_at(at + 5)?));
            }
            // Entropy-coded data begins (SOS) or the image ends: no frame header first.
            0xDA | 0xD9 => return None,
            _ => at += 2 + u16_at(at + 2)?,
        }
    }
}

/// The SIZ segment right after SOC: length, Rsiz, then Xsiz, Ysiz, XOsiz, YOsiz.
fn j2k_siz(siz: &[u8]) -> Option<(usize, usize)> {
    let u32_at = |at: usize| -> Option<u64> {
        Some(u64::from(u32::from_be_bytes(
            siz.get(at..at + 4)?.try_into().ok()?,
        )))
    };
    let (x, y, x0, y0) = (u32_at(4)?, u32_at(8)?, u32_at(12)?, u32_at(16)?);
    let size = |end: u64, origin: u64| usize::try_from(end.checked_sub(origin)?).ok();
    Some((size(x, x0)?, size(y, y0)?))
}

#[cfg(test)]
mod tests {
    use super::claimed;

    #[test]
    fn reads_the_size_a_jpeg_frame_header_claims() {
        // SOI, an APP0 segment of 4 bytes, then SOF0: length 11, P 8, Y 300, X 512.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x0B, 8, 0x01, 0x2C,
            0x02, 0x00, 1, 1, 0x11, 0,
        ];
        assert_eq!(claimed(&jpeg), Some((512, 300)));
        // JPEG-LS: SOF55.
        let mut ls = jpeg;
        ls[9] = 0xF7;
        assert_eq!(claimed(&ls), Some((512, 300)));
        // A DHT before the frame header is skipped, not taken for one.
        let mut dht = jpeg;
        dht[3] = 0xC4;
        assert_eq!(claimed(&dht), Some((512, 300)));
        assert_eq!(claimed(&jpeg[..12]), None, "cut inside the frame header");
    }

    #[test]
    fn reads_the_size_a_jpeg_2000_siz_claims() {
        let mut j2k = vec![0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x29, 0x00, 0x00];
        for v in [640u32, 480, 128, 0] {
            j2k.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(claimed(&j2k), Some((512, 480)));
        j2k[20] = 0xFF; // XOsiz beyond Xsiz
        assert_eq!(claimed(&j2k), None);
        assert_eq!(claimed(b"not a codestream"), None);
    }
}
