//! PNG files the exports write: 8-bit greyscale label maps and RGB overlays, through the
//! `png` crate (which also reads readers' masks), the same natively and in the browser.

/// Encodes `pixels` (row-major, one byte each) as a greyscale PNG.
pub fn grey8(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    encode(width, height, pixels, png::ColorType::Grayscale)
}

/// Encodes `pixels` (row-major, red, green, blue) as a colour PNG.
pub fn rgb8(width: usize, height: usize, pixels: &[[u8; 3]]) -> Vec<u8> {
    encode(width, height, pixels.as_flattened(), png::ColorType::Rgb)
}

/// Empty when `bytes` does not fill `width × height` exactly (every caller passes an
/// image's own pixels) or a side does not fit PNG's 32 bits.
fn encode(width: usize, height: usize, bytes: &[u8], colour: png::ColorType) -> Vec<u8> {
    let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    // Rows unfiltered: label maps compress as well, and simple readers (and the tests'
    // own) need not undo filters.
    encoder.set_filter(png::Filter::NoFilter);
    let written = encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(bytes).and(writer.finish()));
    if written.is_err() {
        return Vec::new();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("a PNG header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut pixels).expect("the pixels");
        pixels.truncate(info.buffer_size());
        (info, pixels)
    }

    #[test]
    fn grey_and_colour_images_read_back() {
        let grey: Vec<u8> = (0..12).collect();
        let (info, pixels) = decode(&grey8(4, 3, &grey));
        assert_eq!(
            (info.width, info.height, info.color_type),
            (4, 3, png::ColorType::Grayscale)
        );
        assert_eq!(pixels, grey);
        let colour: Vec<[u8; 3]> = (0..6).map(|i| [i, 100 + i, 200 + i]).collect();
        let (info, pixels) = decode(&rgb8(3, 2, &colour));
        assert_eq!(
            (info.width, info.height, info.color_type),
            (3, 2, png::ColorType::Rgb)
        );
        assert_eq!(pixels, colour.as_flattened());
        assert!(grey8(4, 3, &grey[..11]).is_empty(), "too few pixels");
    }
}
