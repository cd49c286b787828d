//! A procedural CT phantom of the lower trunk: a synthetic patient, not a real one.
//!
//! [`Phantom::generate`] draws an axial CT volume in Hounsfield units from a seed and a
//! few parameters, with an exact tissue label for every voxel and the vertebral level of
//! every slice. It exists for two reasons: a demo case that a first-time user can load
//! without any patient data (written as ordinary DICOM files by
//! [`Phantom::dicom_files`], so that it goes through exactly the ingest path real files
//! do), and training data with exact labels for the muscle and fat segmentation and the
//! L3 locator.
//!
//! What it models: an elliptical trunk with skin, subcutaneous fat of adjustable
//! thickness, the abdominal wall muscles (rectus, and the three flat muscles with fat
//! planes between them), psoas, quadratus lumborum and erector spinae; the vertebral
//! column from the upper sacrum to the lower thoracic spine (bodies with cortex and
//! cancellous bone, discs, canal, pedicles, laminae, spinous and transverse processes,
//! lumbar lordosis), ribs 8–12, iliac wings with iliacus and gluteus medius; liver
//! (nodular, as in cirrhosis), spleen, kidneys, pancreas, gallbladder, aorta, IVC,
//! iliac and mesenteric vessels, stomach, colon and small-bowel loops holding fluid,
//! faeces and gas (gas on the anterior side: the patient is supine); lung bases and the
//! diaphragm at the top; ascites as a rim of fluid inside the wall; myosteatosis as lower
//! muscle attenuation and fat marbling; optional portal-venous contrast; the scanner
//! table. Attenuations are typical adult values; a triangular slice profile and a 3×3
//! in-plane blur give partial-volume edges, and white Gaussian-like noise is added.
//!
//! What it does not model, on purpose or not yet: real anatomical variability beyond
//! a few dozen randomised sizes and positions; organ shapes beyond ellipses and tubes
//! (no true liver segments, no adrenal glands, ureters, bladder or reproductive organs,
//! no costal cartilage, no lumbar or renal vessels); correlated (textured) CT noise,
//! beam hardening, streaks, metal, or truncation artefacts other than a body wider than
//! the field being cut at its edge; arms only as simple cylinders when asked for
//! ([`PhantomParams::arms_gap_mm`]); pathology other than ascites, splenomegaly and myosteatosis. Areas and
//! attenuations are plausible, not validated against any population: measurements made
//! on a phantom say nothing about a patient.
//!
//! Coordinates follow DICOM LPS: x towards the patient's left, y towards the back, z
//! towards the head, in millimetres; slice 0 is the most inferior. The same seed and
//! parameters give the same volume on every run; the generator uses only a seeded
//! SplitMix64 (written here, so seeds keep their meaning) and arithmetic noise, so
//! results are identical on every platform except where the standard library's `sin`,
//! `cos`, `atan2` or `powf` round differently in the last bit, which can move a rare
//! boundary voxel.

mod bowel;
mod levels;
mod palette;
mod patient;
mod section;
mod shapes;
mod skeleton;
mod viscera;

use serde::{Deserialize, Serialize};

pub use levels::{Level, Vertebra, VertebraSpan};

use crate::dicom::write::{self, AxialGeometry, SeriesFacts, WriteError};
use crate::rng::{self, Rng};
use crate::units::{Hu, Millimetres};
use palette::Material;
use patient::Patient;
use section::Section;
use shapes::Bounds;

/// The sampling grid of the volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub columns: usize,
    pub rows: usize,
    pub slices: usize,
    /// In-plane spacing, the same along rows and columns.
    pub pixel_spacing: Millimetres,
    /// Distance between slice centres, which is also the slice thickness (contiguous
    /// slices, as reconstructed for body composition).
    pub slice_spacing: Millimetres,
}

impl Default for Grid {
    /// 192 × 192 pixels of 1.8 mm (a 346 mm field) and 64 slices of 4 mm (256 mm):
    /// from the upper sacrum to T11 with the default L3 position. Fewer slices would not
    /// reach both ends: T11 to S1 is about 270 mm of spine.
    fn default() -> Grid {
        Grid {
            columns: 192,
            rows: 192,
            slices: 64,
            pixel_spacing: Millimetres(1.8),
            slice_spacing: Millimetres(4.0),
        }
    }
}

impl Grid {
    pub fn slice_len(&self) -> usize {
        self.columns * self.rows
    }

    pub fn voxels(&self) -> usize {
        self.slice_len() * self.slices
    }

    /// x (mm) of the centre of pixel column `column`; the field is centred on 0.
    pub fn x(&self, column: usize) -> f64 {
        (column as f64 - (self.columns as f64 - 1.0) / 2.0) * self.pixel_spacing.0
    }

    /// y (mm) of the centre of pixel row `row`.
    pub fn y(&self, row: usize) -> f64 {
        (row as f64 - (self.rows as f64 - 1.0) / 2.0) * self.pixel_spacing.0
    }

    /// z (mm) of the centre of slice `slice`; the stack is centred on 0.
    pub fn z(&self, slice: usize) -> f64 {
        (slice as f64 - (self.slices as f64 - 1.0) / 2.0) * self.slice_spacing.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    /// The DICOM PatientSex code.
    pub fn dicom_code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
        }
    }
}

/// What to draw. Every field has a sensible default ([`PhantomParams::default`]); the
/// seed decides everything else (about forty sizes and positions, the bowel, the noise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhantomParams {
    pub seed: u64,
    pub sex: Sex,
    /// Recorded in the DICOM header only.
    pub age_years: u8,
    /// Body build from cachectic (0) through average (0.4) to obese (1): subcutaneous
    /// fat thickness, visceral fat (the depth of the abdomen in front of the spine) and,
    /// less strongly, muscle size. Above about 0.45 the trunk is wider than the default
    /// 346 mm field (the lower chest first, L3 from about 0.55) and is cut at its edge,
    /// as on a scanner; a pixel spacing of 2.6 mm (a 500 mm field) holds habitus 1.
    pub habitus: f64,
    /// Multiplies the linear size of every muscle on top of habitus (1: as habitus
    /// implies; 0.8 shrinks muscle areas by a third): sarcopenia at any habitus.
    pub muscle_scale: f64,
    /// 0 (none) to 1 (severe): muscle attenuation lowered by about 28 HU, and fat
    /// marbling within muscle added, so that IMAT (with the fat planes between muscles)
    /// grows from about 7 % to about 20 % of the muscle compartment at L3.
    pub myosteatosis: f64,
    /// 0 (none) to 1 (large): a rim of fluid up to 32 mm deep inside the abdominal wall,
    /// displacing bowel and organs inwards, and a larger spleen.
    pub ascites: f64,
    /// Standard deviation of the image noise.
    pub noise_sd: Hu,
    /// Portal-venous phase contrast: enhanced vessels, liver, spleen, kidneys, bowel wall.
    pub contrast: bool,
    pub grid: Grid,
    /// Where the centre of L3's body lies in the stack: 0 at the first (most inferior)
    /// slice, 1 at the last. Varying it moves the anatomy along the body axis, which a
    /// level locator must not take for granted.
    pub l3_at: f64,
    /// Arms beside the trunk, this far (mm) from the skin of the flank (0: touching),
    /// or none, as in most abdominal CT (arms raised above the head). Their muscle and
    /// fat carry the label [`Tissue::Other`]: they are not the trunk's, and L3 muscle
    /// area must leave them out. Left out of the fingerprint when absent, so phantoms
    /// without arms keep their UIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arms_gap_mm: Option<f64>,
}

impl Default for PhantomParams {
    fn default() -> PhantomParams {
        PhantomParams {
            seed: 1,
            sex: Sex::Male,
            age_years: 58,
            habitus: 0.4,
            muscle_scale: 1.0,
            myosteatosis: 0.0,
            ascites: 0.0,
            noise_sd: Hu(12.0),
            contrast: false,
            grid: Grid::default(),
            l3_at: 0.43,
            arms_gap_mm: None,
        }
    }
}

impl PhantomParams {
    /// Body-mass index implied by the habitus (15 to 40 kg/m²).
    pub fn bmi(&self) -> f64 {
        15.0 + 25.0 * self.habitus.clamp(0.0, 1.0)
    }

    /// A 64-bit digest of every parameter, so that two phantoms that differ in anything
    /// get different DICOM UIDs even when they share a seed.
    pub fn fingerprint(&self) -> u64 {
        let text = serde_json::to_string(self).unwrap_or_default();
        text.bytes().fold(rng::mix(self.seed), |h, b| {
            rng::mix(h ^ u64::from(b).wrapping_mul(0x100_0000_01B3))
        })
    }
}

/// The tissue label of a voxel, as stored in [`Phantom::labels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Tissue {
    /// Air outside the body, and the scanner table.
    Background = 0,
    SkeletalMuscle = 1,
    /// Intermuscular and intramuscular fat: planes between muscles, marbling.
    Imat = 2,
    /// Visceral fat: fat inside the abdominal cavity and retroperitoneum, including the
    /// renal sinus.
    Vat = 3,
    /// Subcutaneous fat, outside the muscle wall.
    Sat = 4,
    /// Cortical and cancellous bone.
    Bone = 5,
    /// Organs and other soft tissue: skin, fascia, discs, spinal canal, vessels, liver,
    /// spleen, kidneys, pancreas, bowel wall, lung, and fluids: ascites, bile, urine,
    /// cerebrospinal fluid.
    Other = 6,
    /// The contents of the stomach and bowel: gas, fluid, faeces.
    BowelLumen = 7,
}

impl Tissue {
    pub const ALL: [Tissue; 8] = [
        Tissue::Background,
        Tissue::SkeletalMuscle,
        Tissue::Imat,
        Tissue::Vat,
        Tissue::Sat,
        Tissue::Bone,
        Tissue::Other,
        Tissue::BowelLumen,
    ];

    pub fn label(self) -> u8 {
        self as u8
    }

    pub fn from_label(label: u8) -> Option<Tissue> {
        Tissue::ALL.get(usize::from(label)).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Tissue::Background => "background",
            Tissue::SkeletalMuscle => "skeletal muscle",
            Tissue::Imat => "intermuscular fat",
            Tissue::Vat => "visceral fat",
            Tissue::Sat => "subcutaneous fat",
            Tissue::Bone => "bone",
            Tissue::Other => "organs and other soft tissue",
            Tissue::BowelLumen => "bowel lumen",
        }
    }
}

/// A generated phantom: the volume, its exact labels, and what the slices cut.
#[derive(Debug, Clone, PartialEq)]
pub struct Phantom {
    pub params: PhantomParams,
    /// Hounsfield units, slice-major, then row (front to back), then column (patient's
    /// right to left); slice 0 is the most inferior.
    pub hu: Vec<i16>,
    /// [`Tissue`] labels, laid out like `hu`, of the material at each voxel's centre.
    pub labels: Vec<u8>,
    /// The vertebral level each slice's centre plane cuts (`None` beyond T11 to S1).
    pub levels: Vec<Option<Level>>,
    /// Where each named vertebral body lies (z, mm), from S1 up.
    pub vertebrae: Vec<VertebraSpan>,
    /// z of each slice centre (mm), ascending.
    pub slice_positions_mm: Vec<f64>,
    pub height_m: f64,
    pub weight_kg: f64,
}

impl Phantom {
    pub fn generate(params: &PhantomParams) -> Phantom {
        let grid = params.grid;
        let n = grid.slices;
        let l3_centre = (params.l3_at - 0.5) * (n as f64 - 1.0).max(0.0) * grid.slice_spacing.0;
        let patient = Patient::new(params, l3_centre);
        let positions: Vec<f64> = (0..n).map(|k| grid.z(k)).collect();
        let field = Bounds {
            x0: grid.x(0) - 2.0,
            y0: grid.y(0) - 2.0,
            x1: grid.x(grid.columns.saturating_sub(1)) + 2.0,
            y1: grid.y(grid.rows.saturating_sub(1)) + 2.0,
        };
        let len = grid.slice_len();
        let mut hu = vec![0i16; grid.voxels()];
        let mut labels = vec![0u8; grid.voxels()];
        let mut clean = vec![0f32; len];
        let mut scratch = vec![0f32; len];
        let palette = &patient.palette;
        // A triangular slice profile: the centre plane and planes a third of the
        // thickness either side, weighted 2:1:1.
        let offset = grid.slice_spacing.0 / 3.0;
        for (k, &z) in positions.iter().enumerate() {
            let centre = Section::new(&patient, z, field);
            let below = Section::new(&patient, z - offset, field);
            let above = Section::new(&patient, z + offset, field);
            let texture = patient
                .texture
                .plane(z, field.x0, field.y0, field.x1, field.y1);
            let fine = patient
                .fine
                .plane(z, field.x0, field.y0, field.x1, field.y1);
            let slice_labels = &mut labels[k * len..(k + 1) * len];
            for row in 0..grid.rows {
                let y = grid.y(row);
                for column in 0..grid.columns {
                    let x = grid.x(column);
                    let i = row * grid.columns + column;
                    let t = texture.at(x, y);
                    let value = |m: Material| {
                        let f = if m == Material::Stool {
                            fine.at(x, y)
                        } else {
                            0.0
                        };
                        palette.hu(m, t, f)
                    };
                    let m = centre.classify(x, y);
                    slice_labels[i] = m.tissue().label();
                    clean[i] = 0.5 * value(m)
                        + 0.25 * value(below.classify(x, y))
                        + 0.25 * value(above.classify(x, y));
                }
            }
            blur(&mut clean, &mut scratch, grid.columns, grid.rows);
            let mut noise = Rng::stream(params.seed, 1000 + k as u64);
            let sd = params.noise_sd.0.max(0.0) as f32;
            for (out, &v) in hu[k * len..(k + 1) * len].iter_mut().zip(&clean) {
                let noisy = v + sd * noise.normal();
                *out = noisy.round().clamp(-1024.0, 3071.0) as i16;
            }
        }
        let mut body = Rng::stream(params.seed, 3);
        let height_m = match params.sex {
            Sex::Male => body.range(1.68, 1.86),
            Sex::Female => body.range(1.55, 1.72),
        };
        let height_m = (height_m * 100.0).round() / 100.0;
        let weight_kg = (params.bmi() * height_m * height_m * 10.0).round() / 10.0;
        Phantom {
            params: params.clone(),
            hu,
            labels,
            levels: positions.iter().map(|&z| patient.column.level(z)).collect(),
            vertebrae: patient.column.spans().to_vec(),
            slice_positions_mm: positions,
            height_m,
            weight_kg,
        }
    }

    pub fn grid(&self) -> Grid {
        self.params.grid
    }

    pub fn axial_hu(&self, slice: usize) -> Option<&[i16]> {
        let len = self.grid().slice_len();
        self.hu.get(slice * len..(slice + 1) * len)
    }

    pub fn axial_labels(&self, slice: usize) -> Option<&[u8]> {
        let len = self.grid().slice_len();
        self.labels.get(slice * len..(slice + 1) * len)
    }

    /// The slices whose centre plane cuts `level`, inferior first.
    pub fn slices_at(&self, level: Level) -> Vec<usize> {
        (0..self.levels.len())
            .filter(|&k| self.levels[k] == Some(level))
            .collect()
    }

    /// The slice nearest the centre of L3's body, if L3 is in the stack: the slice that
    /// body composition is measured on.
    pub fn l3_slice(&self) -> Option<usize> {
        let span = self.vertebrae.iter().find(|s| s.vertebra == Vertebra::L3)?;
        let centre = span.centre_mm();
        let slices = self.slices_at(Level::Body(Vertebra::L3));
        slices.into_iter().min_by(|&a, &b| {
            let da = (self.slice_positions_mm[a] - centre).abs();
            let db = (self.slice_positions_mm[b] - centre).abs();
            da.total_cmp(&db)
        })
    }

    /// The area of `tissue` on one slice (cm²), from the exact labels.
    pub fn area_cm2(&self, slice: usize, tissue: Tissue) -> f64 {
        let pixel = self.grid().pixel_spacing.0.powi(2) / 100.0;
        self.axial_labels(slice).map_or(0.0, |labels| {
            labels.iter().filter(|&&l| l == tissue.label()).count() as f64 * pixel
        })
    }

    /// Where the slices lie, for writing them as DICOM.
    pub fn geometry(&self) -> AxialGeometry {
        let grid = self.grid();
        AxialGeometry {
            columns: grid.columns,
            rows: grid.rows,
            pixel_spacing: [grid.pixel_spacing.0; 2],
            slice_thickness: grid.slice_spacing.0,
            positions: self
                .slice_positions_mm
                .iter()
                .map(|&z| [grid.x(0), grid.y(0), z])
                .collect(),
        }
    }

    /// The header facts of the demo series: "DEMO^PHANTOM", the phantom's sex, age,
    /// height and weight, UIDs derived from every parameter.
    pub fn series_facts(&self) -> SeriesFacts {
        let p = &self.params;
        let mut facts = SeriesFacts::demo(p.fingerprint());
        facts.patient_sex = Some(p.sex.dicom_code().to_owned());
        facts.patient_age = Some(format!("{:03}Y", p.age_years.min(120)));
        facts.patient_size_m = Some(self.height_m);
        facts.patient_weight_kg = Some(self.weight_kg);
        if p.contrast {
            facts.contrast_agent = Some("Synthetic iodinated contrast, portal venous".into());
        }
        facts
    }

    /// One CT Image Storage file per slice, in slice order.
    pub fn dicom_files(&self) -> Result<Vec<Vec<u8>>, WriteError> {
        write::ct_series(&self.hu, &self.geometry(), &self.series_facts())
    }
}

/// A 3×3 binomial blur ([1 2 1] along rows, then columns), edges clamped: the
/// in-plane partial-volume softening of a reconstruction kernel.
fn blur(image: &mut [f32], scratch: &mut [f32], columns: usize, rows: usize) {
    if columns == 0 || rows == 0 {
        return;
    }
    for r in 0..rows {
        let line = &image[r * columns..(r + 1) * columns];
        let out = &mut scratch[r * columns..(r + 1) * columns];
        for c in 0..columns {
            let left = line[c.saturating_sub(1)];
            let right = line[(c + 1).min(columns - 1)];
            out[c] = 0.25 * left + 0.5 * line[c] + 0.25 * right;
        }
    }
    for r in 0..rows {
        let up = r.saturating_sub(1) * columns;
        let down = (r + 1).min(rows - 1) * columns;
        let here = r * columns;
        for c in 0..columns {
            image[here + c] =
                0.25 * scratch[up + c] + 0.5 * scratch[here + c] + 0.25 * scratch[down + c];
        }
    }
}
