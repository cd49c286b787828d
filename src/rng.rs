//! Randomness that is the same on every platform: a SplitMix64 generator, noise made
//! with integer arithmetic only, and smooth value-noise fields for texture and shapes.
//!
//! The generator is written here rather than taken from a crate so that a seed keeps
//! meaning the same phantom across crate updates (training sets are named by seed).

/// SplitMix64 (Steele, Lea & Flood, 2014): tiny, fast, and statistically adequate
/// for noise and anatomical variation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// An independent stream for one purpose (`stream` names it), so that drawing more
    /// or fewer numbers for one part of the anatomy leaves every other part unchanged.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        Rng(mix(seed ^ mix(stream.wrapping_add(0x5EED))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// An index in 0..n (n > 0), by Lemire's multiply-shift: the bootstrap draws rows
    /// with it, identically in the browser and natively.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// `centre` varied by up to ± `fraction` of itself, uniformly.
    pub fn jitter(&mut self, centre: f64, fraction: f64) -> f64 {
        centre * (1.0 + fraction * (2.0 * self.unit() - 1.0))
    }

    /// Approximately standard normal: the sum of four 16-bit uniforms (Irwin–Hall),
    /// rescaled. Integer arithmetic only, so the same bits everywhere, and one draw per
    /// value; its tails stop at ±3.5 SD, which CT noise does not miss.
    pub fn normal(&mut self) -> f32 {
        let v = self.next_u64();
        let sum = (v & 0xFFFF) + ((v >> 16) & 0xFFFF) + ((v >> 32) & 0xFFFF) + (v >> 48);
        // Each uniform has variance 1/12, so the sum of four has 1/3.
        const SCALE: f32 = 1.732_050_8 / 65_535.0;
        (sum as f32 - 2.0 * 65_535.0) * SCALE
    }
}

/// The SplitMix64 finaliser: a strong 64-bit mixing function, used as a hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A smooth random field in [0, 1] over patient space, with features about `cell_mm`
/// across: random values on a cubic lattice, blended with smoothstep weights.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Noise {
    seed: u64,
    cell_mm: f64,
}

impl Noise {
    pub fn new(seed: u64, stream: u64, cell_mm: f64) -> Noise {
        Noise {
            seed: mix(seed ^ mix(stream)),
            cell_mm,
        }
    }

    fn lattice(&self, i: i64, j: i64, k: i64) -> f32 {
        let h = mix(self.seed
            ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ (k as u64).wrapping_mul(0x1656_67B1_9E37_79F9));
        (h >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// The field on the axial plane at height `z_mm`, over the rectangle from
    /// (`x0`, `y0`) to (`x1`, `y1`) mm: the lattice is blended along z once here, so
    /// each lookup after that costs a bilinear blend.
    pub fn plane(&self, z_mm: f64, x0: f64, y0: f64, x1: f64, y1: f64) -> NoisePlane {
        let inv = 1.0 / self.cell_mm;
        let i0 = (x0 * inv).floor() as i64 - 1;
        let j0 = (y0 * inv).floor() as i64 - 1;
        let nx = ((x1 - x0) * inv).ceil() as usize + 4;
        let ny = ((y1 - y0) * inv).ceil() as usize + 4;
        let kz = z_mm * inv;
        let k = kz.floor() as i64;
        let wz = smooth((kz - kz.floor()) as f32);
        let mut values = Vec::with_capacity(nx * ny);
        for j in 0..ny as i64 {
            for i in 0..nx as i64 {
                let below = self.lattice(i0 + i, j0 + j, k);
                let above = self.lattice(i0 + i, j0 + j, k + 1);
                values.push(below + (above - below) * wz);
            }
        }
        NoisePlane {
            inv,
            i0,
            j0,
            nx,
            ny,
            values,
        }
    }
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// One axial plane of a [`Noise`] field.
#[derive(Debug, Clone)]
pub(crate) struct NoisePlane {
    inv: f64,
    i0: i64,
    j0: i64,
    nx: usize,
    ny: usize,
    values: Vec<f32>,
}

impl NoisePlane {
    /// The field at (`x`, `y`) mm; points outside the planned rectangle are clamped to it.
    #[inline]
    pub fn at(&self, x: f64, y: f64) -> f32 {
        let fx = x * self.inv - self.i0 as f64;
        let fy = y * self.inv - self.j0 as f64;
        let max_x = (self.nx - 2) as f64;
        let max_y = (self.ny - 2) as f64;
        let fx = fx.clamp(0.0, max_x);
        let fy = fy.clamp(0.0, max_y);
        let (ix, iy) = (fx as usize, fy as usize);
        let (wx, wy) = (
            smooth((fx - ix as f64) as f32),
            smooth((fy - iy as f64) as f32),
        );
        let at = |i: usize, j: usize| self.values[j * self.nx + i];
        let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * wx;
        let bottom = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * wx;
        top + (bottom - top) * wy
    }
}
