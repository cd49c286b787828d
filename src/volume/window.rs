//! Display windows: which HU range is drawn from black to white. They change what is
//! seen, never what is measured.

/// HU `level` ± `width` / 2 maps to black..white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub level: f64,
    pub width: f64,
}

impl Window {
    /// Soft tissue: level 40, width 400 HU, where muscle, fat and organs are told apart.
    pub const SOFT_TISSUE: Window = Window {
        level: 40.0,
        width: 400.0,
    };

    /// The grey level (0 black, 255 white) of `hu` in this window.
    pub fn grey(&self, hu: i16) -> u8 {
        let low = self.level - self.width / 2.0;
        ((f64::from(hu) - low) * (255.0 / self.width.max(1.0))).clamp(0.0, 255.0) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_spans_black_to_white() {
        let w = Window::SOFT_TISSUE;
        assert_eq!(
            [w.grey(-1000), w.grey(-160), w.grey(40), w.grey(241)],
            [0, 0, 127, 255]
        );
        assert_eq!(w.grey(3000), 255);
    }
}
