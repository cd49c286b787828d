//! Training and evaluation samples: labelled slices put on the model grid.
//!
//! Two sources. Procedural phantoms ([`crate::phantom`]) give exact labels over the
//! whole range of body builds, ascites, contrast and noise; real reference labels give
//! real anatomy and real noise. A slice becomes a sample through the same resampling the
//! browser uses ([`super::grid`]), with a random scale, shift and left–right mirror, so
//! that what the network learns from is what it will be shown.

use serde::{Deserialize, Serialize};

use super::grid::{self, InputSpec, Placement};
use super::{AxialSlice, HuWindows, TissueClass, Trunk};
use crate::phantom::{Grid, Phantom, PhantomParams, Sex, Tissue};
use crate::rng::Rng;
use crate::units::{Hu, Millimetres};

/// A target pixel that carries no label and does not count in the loss.
pub const IGNORE: u8 = 255;

/// A labelled slice on its own grid: HU, [`TissueClass`] labels (or [`IGNORE`]), spacing.
#[derive(Debug, Clone)]
pub struct LabelledSlice {
    pub name: String,
    pub hu: Vec<i16>,
    pub labels: Vec<u8>,
    pub columns: usize,
    pub rows: usize,
    pub pixel_spacing: [Millimetres; 2],
}

impl LabelledSlice {
    pub fn slice(&self) -> Option<AxialSlice<'_>> {
        AxialSlice::new(&self.hu, self.columns, self.rows, self.pixel_spacing).ok()
    }

    /// The slice as the network is shown it ([`Trunk`]): what lies outside the trunk is
    /// air, labelled background. Done once per training slice, not per crop.
    pub fn trunk_only(&self) -> Option<LabelledSlice> {
        let trunk = Trunk::find(&self.slice()?);
        let labels = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                if trunk.contains(i) {
                    l
                } else {
                    TissueClass::Background.label()
                }
            })
            .collect();
        Some(LabelledSlice {
            hu: trunk.only_trunk(&self.hu),
            labels,
            ..self.clone()
        })
    }
}

/// One training example on the model grid.
#[derive(Debug, Clone)]
pub struct Sample {
    pub input: Vec<f32>,
    pub target: Vec<u8>,
}

/// How a phantom's materials map onto the network's classes: bone, organs, fluid and
/// bowel are all "background" to body composition.
pub fn class_of(tissue: Tissue) -> TissueClass {
    match tissue {
        Tissue::SkeletalMuscle => TissueClass::SkeletalMuscle,
        Tissue::Imat => TissueClass::Imat,
        Tissue::Vat => TissueClass::Vat,
        Tissue::Sat => TissueClass::Sat,
        Tissue::Background | Tissue::Bone | Tissue::Other | Tissue::BowelLumen => {
            TissueClass::Background
        }
    }
}

/// The range phantoms are drawn from (every field uniform unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhantomRange {
    /// Cachectic (0) to obese (1).
    pub habitus: [f64; 2],
    pub muscle_scale: [f64; 2],
    pub myosteatosis: [f64; 2],
    /// Share of phantoms with ascites (then 0.2..1).
    pub ascites_share: f64,
    pub contrast_share: f64,
    pub noise_sd: [f64; 2],
    /// Field of view (mm) over 512 pixels.
    pub field_mm: [f64; 2],
    /// Where the slice lies relative to L3's centre (mm): L3 is a range, and users
    /// choose slices by hand.
    pub offset_mm: [f64; 2],
}

impl Default for PhantomRange {
    fn default() -> PhantomRange {
        PhantomRange {
            habitus: [0.0, 1.0],
            muscle_scale: [0.75, 1.15],
            myosteatosis: [0.0, 1.0],
            ascites_share: 0.3,
            contrast_share: 0.5,
            noise_sd: [6.0, 25.0],
            field_mm: [340.0, 500.0],
            offset_mm: [-20.0, 20.0],
        }
    }
}

/// Phantom slice number `index` of the set drawn from `seed`: a different synthetic
/// patient each time, near L3, on a 512² grid.
pub fn phantom_slice(seed: u64, index: u64, range: &PhantomRange) -> LabelledSlice {
    let mut rng = Rng::stream(seed, 50_000 + index);
    let pick = |rng: &mut Rng, r: [f64; 2]| rng.range(r[0], r[1]);
    let spacing = pick(&mut rng, range.field_mm) / 512.0;
    let slice_spacing = 3.0;
    // Three slices with L3 placed so that the middle one lies `offset` from its centre.
    let offset = pick(&mut rng, range.offset_mm);
    let params = PhantomParams {
        seed: rng.next_u64() % 1_000_000_007,
        sex: if rng.unit() < 0.5 {
            Sex::Male
        } else {
            Sex::Female
        },
        age_years: 60,
        habitus: pick(&mut rng, range.habitus),
        muscle_scale: pick(&mut rng, range.muscle_scale),
        myosteatosis: pick(&mut rng, range.myosteatosis).powi(2),
        ascites: if rng.unit() < range.ascites_share {
            rng.range(0.2, 1.0)
        } else {
            0.0
        },
        noise_sd: Hu(pick(&mut rng, range.noise_sd)),
        contrast: rng.unit() < range.contrast_share,
        grid: Grid {
            columns: 512,
            rows: 512,
            slices: 3,
            pixel_spacing: Millimetres(spacing),
            slice_spacing: Millimetres(slice_spacing),
        },
        // l3_at maps 0..1 onto the stack: the middle slice is at l3 + offset when the
        // L3 centre sits `offset` below it.
        l3_at: 0.5 - offset / (2.0 * slice_spacing),
        arms_gap_mm: None,
    };
    let phantom = Phantom::generate(&params);
    let hu = phantom.axial_hu(1).map(<[i16]>::to_vec).unwrap_or_default();
    let labels = phantom
        .axial_labels(1)
        .unwrap_or_default()
        .iter()
        .map(|&l| Tissue::from_label(l).map_or(0, |t| class_of(t).label()))
        .collect();
    LabelledSlice {
        name: format!("phantom {seed}/{index}"),
        hu,
        labels,
        columns: 512,
        rows: 512,
        pixel_spacing: [Millimetres(spacing); 2],
    }
}

/// Reference labels given as compartments (muscle, subcutaneous fat, fat inside the
/// trunk) become network classes: fat-attenuation pixels inside the muscle label are
/// intermuscular fat, as the Alberta protocol counts them.
pub fn class_from_reference(muscle: bool, sat: bool, torso_fat: bool, hu: f64) -> TissueClass {
    if muscle {
        if HuWindows::ALBERTA.imat.contains(hu) {
            TissueClass::Imat
        } else {
            TissueClass::SkeletalMuscle
        }
    } else if sat {
        TissueClass::Sat
    } else if torso_fat {
        TissueClass::Vat
    } else {
        TissueClass::Background
    }
}

/// Random augmentation: where a slice lands on the model grid, and how its image looks.
/// The image changes stand in for what differs between scanners and protocols:
/// calibration and contrast (intensity scale and shift, gamma), reconstruction kernels
/// (blur or sharpening), dose (noise), and how the patient lies (rotation, mirror).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    pub scale: f64,
    pub shift: [f64; 2],
    pub mirror: bool,
    /// In-plane rotation about the grid's centre (radians).
    pub rotation: f64,
    /// HU become `hu × intensity[0] + intensity[1]` (soft tissue keeps its place while
    /// the spread between fat and muscle changes).
    pub intensity: [f64; 2],
    /// Exponent on the normalised input range (1 keeps it).
    pub gamma: f64,
    /// Negative blurs with a 3×3 box, positive sharpens (unsharp mask), 0 keeps.
    pub kernel: f64,
    /// Standard deviation (HU) of added white noise, and the seed it is drawn from.
    pub noise_hu: f64,
    pub noise_seed: u64,
}

impl Augment {
    pub const NONE: Augment = Augment {
        scale: 1.0,
        shift: [0.0, 0.0],
        mirror: false,
        rotation: 0.0,
        intensity: [1.0, 0.0],
        gamma: 1.0,
        kernel: 0.0,
        noise_hu: 0.0,
        noise_seed: 0,
    };

    pub fn draw(rng: &mut Rng) -> Augment {
        let sometimes = |rng: &mut Rng, share: f64, lo: f64, hi: f64, otherwise: f64| {
            if rng.unit() < share {
                rng.range(lo, hi)
            } else {
                otherwise
            }
        };
        Augment {
            scale: rng.range(0.85, 1.15),
            shift: [rng.range(-12.0, 12.0), rng.range(-12.0, 12.0)],
            mirror: rng.unit() < 0.5,
            rotation: sometimes(rng, 0.5, -0.17, 0.17, 0.0),
            intensity: [
                sometimes(rng, 0.5, 0.9, 1.1, 1.0),
                sometimes(rng, 0.5, -15.0, 15.0, 0.0),
            ],
            gamma: sometimes(rng, 0.3, 0.8, 1.25, 1.0),
            kernel: sometimes(rng, 0.4, -1.0, 1.0, 0.0),
            noise_hu: sometimes(rng, 0.4, 0.0, 25.0, 0.0),
            noise_seed: rng.next_u64(),
        }
    }
}

/// A labelled slice on the model grid, the way inference would see it (pass slices made
/// by [`LabelledSlice::trunk_only`]): centred and resampled, then augmented.
pub fn sample(slice: &LabelledSlice, spec: &InputSpec, augment: Augment) -> Option<Sample> {
    let original = slice.slice()?;
    let hu: Vec<i16> = original
        .hu
        .iter()
        .map(|&v| {
            let v = f64::from(v);
            if v <= -1000.0 {
                -1000
            } else {
                (v * augment.intensity[0] + augment.intensity[1]).clamp(-1024.0, 3071.0) as i16
            }
        })
        .collect();
    let view = AxialSlice {
        hu: &hu,
        ..original
    };
    let mut placement = Placement::on_body(&view, spec);
    placement.step = placement.step.map(|s| s * augment.scale);
    placement.centre_column += augment.shift[0];
    placement.centre_row += augment.shift[1];
    let mut input = grid::to_model_grid(&view, spec, &placement);
    let mut target =
        grid::labels_to_model_grid(&slice.labels, slice.columns, slice.rows, &placement, IGNORE);
    if augment.mirror {
        for row in input.chunks_mut(spec.size) {
            row.reverse();
        }
        for row in target.chunks_mut(spec.size) {
            row.reverse();
        }
    }
    if augment.rotation != 0.0 {
        let air = spec.normalise(-1000.0);
        (input, target) = rotate(&input, &target, spec.size, augment.rotation, air);
    }
    finish_image(&mut input, spec, &augment);
    Some(Sample { input, target })
}

/// Rotates a model-grid sample about its centre: the image bilinearly, the labels by
/// nearest neighbour; what comes in from beyond the grid is air, unlabelled.
fn rotate(input: &[f32], target: &[u8], size: usize, angle: f64, air: f32) -> (Vec<f32>, Vec<u8>) {
    let (sin, cos) = angle.sin_cos();
    let half = (size as f64 - 1.0) / 2.0;
    let mut image = Vec::with_capacity(input.len());
    let mut labels = Vec::with_capacity(target.len());
    for y in 0..size {
        for x in 0..size {
            let (dx, dy) = (x as f64 - half, y as f64 - half);
            let (sx, sy) = (cos * dx + sin * dy + half, -sin * dx + cos * dy + half);
            let inside = |v: f64| v >= 0.0 && v <= (size - 1) as f64;
            if !(inside(sx) && inside(sy)) {
                image.push(air);
                labels.push(IGNORE);
                continue;
            }
            let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(size - 1), (y0 + 1).min(size - 1));
            let (fx, fy) = ((sx - x0 as f64) as f32, (sy - y0 as f64) as f32);
            let at = |c: usize, r: usize| input[r * size + c];
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            image.push(top * (1.0 - fy) + bottom * fy);
            labels.push(target[sy.round() as usize * size + sx.round() as usize]);
        }
    }
    (image, labels)
}

/// The image-only changes, on the normalised grid: kernel, gamma, noise.
fn finish_image(input: &mut [f32], spec: &InputSpec, augment: &Augment) {
    let size = spec.size;
    if augment.kernel != 0.0 && size >= 3 {
        let source = input.to_vec();
        for y in 1..size - 1 {
            for x in 1..size - 1 {
                let mut sum = 0.0;
                for r in y - 1..=y + 1 {
                    sum += source[r * size + x - 1..=r * size + x + 1]
                        .iter()
                        .sum::<f32>();
                }
                let centre = source[y * size + x];
                let blurred = sum / 9.0;
                // kernel < 0 moves towards the blur, > 0 away from it (unsharp masking).
                input[y * size + x] = centre + (centre - blurred) * augment.kernel as f32;
            }
        }
    }
    let low = spec.normalise(spec.hu_low as f32);
    let high = spec.normalise(spec.hu_high as f32);
    if augment.gamma != 1.0 {
        let span = high - low;
        for v in input.iter_mut() {
            let t = ((*v - low) / span).clamp(0.0, 1.0);
            *v = low + span * t.powf(augment.gamma as f32);
        }
    }
    if augment.noise_hu > 0.0 {
        let mut rng = Rng::stream(augment.noise_seed, 0);
        let sd = (augment.noise_hu / spec.scale) as f32;
        for v in input.iter_mut() {
            *v += rng.normal() * sd;
        }
    }
}
