//! One synthetic patient: every size, position and attenuation that the seed and the
//! parameters decide, drawn once before any slice is drawn.
//!
//! Anatomy is placed relative to the vertebral column (so it moves with L3 when the
//! grid does) and sized by smooth tables keyed at vertebral levels, so that outlines
//! change gradually from slice to slice.

use super::bowel::{self, Content, Room, Tube};
use super::levels::{Column, Vertebra};
use super::palette::{Palette, PaletteFacts};
use super::shapes::{lerp, smoothstep, Ellipse};
use super::{PhantomParams, Sex};
use crate::rng::{Noise, Rng};

/// A value given at the centres of some vertebrae, interpolated linearly in between and
/// held beyond the first and last.
pub(crate) type LevelTable<const N: usize> = [(Vertebra, f64); N];

/// The outline of the trunk at one height: what the muscles, fat and organs are fitted to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outline {
    pub spine_x: f64,
    /// Centre of the vertebral body (y, mm).
    pub spine_y: f64,
    /// Smoothed depth of the vertebral body (mm), for placing the soft tissues.
    pub spine_depth: f64,
    /// Inside of the abdominal (or lower thoracic) wall: the abdominal cavity with the
    /// retroperitoneum.
    pub cavity: Ellipse,
    /// Thickness of the lateral wall muscles and of rectus abdominis.
    pub wall: f64,
    pub rectus: f64,
    /// Erector spinae (with multifidus) on one side: semi-axes and centre offsets.
    pub paraspinal: Ellipse,
    /// Where the lateral wall muscles end behind (y).
    pub wall_end_y: f64,
    /// The skin surface, and the flat back where the patient lies on the table.
    pub body: Ellipse,
    pub back_flat: f64,
    /// Thickness of the rim of ascites inside the wall.
    pub fluid: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Patient {
    pub column: Column,
    pub palette: Palette,
    /// Linear size of the muscles (1: average man).
    pub muscle: f64,
    pub ascites: f64,
    pub spine_x: f64,
    pub spine_y_l3: f64,
    lordosis: f64,
    lordosis_apex: f64,
    cavity_half_width: f64,
    cavity_depth: f64,
    wall: f64,
    rectus: f64,
    sat: [f64; 3],
    pub table_y: f64,
    /// Gap (mm) between the flank and each arm, when there are arms.
    pub arms_gap: Option<f64>,
    pub liver_scale: f64,
    /// Lowest point of the right lobe of the liver (z).
    pub liver_bottom: f64,
    pub spleen_scale: f64,
    pub aorta_radius: f64,
    /// Centres (z) of the right and left kidneys.
    pub kidney_z: [f64; 2],
    pub tubes: Vec<Tube>,
    pub marbling: Noise,
    pub nodules: Noise,
    pub texture: Noise,
    pub fine: Noise,
    /// Texture threshold above which muscle is fat-infiltrated (IMAT).
    pub marbling_threshold: f32,
}

impl Patient {
    pub fn new(params: &PhantomParams, l3_centre: f64) -> Patient {
        let seed = params.seed;
        let mut rng = Rng::stream(seed, 1);
        let female = params.sex == Sex::Female;
        let h = params.habitus.clamp(0.0, 1.0);
        let fat = h.powf(1.6);
        let by_sex = |man: f64, woman: f64| if female { woman } else { man };
        // Draws in a fixed order, independent of the parameters' values.
        let height_scale = by_sex(1.0, 0.97) * rng.jitter(1.0, 0.02);
        let width_scale = by_sex(1.0, 0.92) * rng.jitter(1.0, 0.03);
        let column = Column::new(l3_centre, height_scale, width_scale, &mut rng);
        let muscle = params.muscle_scale.max(0.3)
            * (0.85 + 0.45 * h)
            * by_sex(1.0, 0.86)
            * rng.jitter(1.0, 0.06);
        let cavity_half_width = (100.0 + 42.0 * h) * width_scale * rng.jitter(1.0, 0.05);
        let cavity_depth = (62.0 + 100.0 * h) * by_sex(1.0, 0.85) * rng.jitter(1.0, 0.08);
        let sat = [
            (4.0 + 70.0 * fat) * by_sex(1.0, 1.25) * rng.jitter(1.0, 0.15),
            (3.0 + 60.0 * fat) * by_sex(1.0, 1.3) * rng.jitter(1.0, 0.15),
            (3.0 + 40.0 * fat) * by_sex(1.0, 1.2) * rng.jitter(1.0, 0.15),
        ];
        let lordosis = rng.jitter(0.0006, 0.3);
        let spine_x = rng.range(-6.0, 6.0);
        let shift_y = rng.range(-6.0, 6.0);
        let liver_scale = rng.jitter(1.0, 0.12);
        let liver_low = rng.range(0.0, 0.9);
        let spleen_scale = 1.0 + 0.3 * params.ascites.clamp(0.0, 1.0) + rng.range(0.0, 0.3);
        let aorta_radius = rng.range(9.5, 12.5);
        let kidney_shift = [rng.range(-0.3, 0.3), rng.range(-0.3, 0.3)];
        let palette = Palette::new(
            &PaletteFacts {
                myosteatosis: params.myosteatosis.clamp(0.0, 1.0),
                contrast: params.contrast,
            },
            &mut rng,
        );
        let myosteatosis = params.myosteatosis.clamp(0.0, 1.0);
        let mut patient = Patient {
            lordosis_apex: 0.0,
            column,
            palette,
            muscle,
            ascites: params.ascites.clamp(0.0, 1.0),
            spine_x,
            spine_y_l3: 0.0,
            lordosis,
            cavity_half_width,
            cavity_depth,
            wall: 14.0 * muscle,
            rectus: 11.5 * muscle,
            sat,
            table_y: f64::INFINITY,
            arms_gap: params.arms_gap_mm.map(|g| g.max(0.0)),
            liver_scale,
            liver_bottom: 0.0,
            spleen_scale,
            aorta_radius,
            kidney_z: [0.0; 2],
            tubes: Vec::new(),
            marbling: Noise::new(seed, 11, 4.5),
            nodules: Noise::new(seed, 12, 14.0),
            texture: Noise::new(seed, 13, 5.0),
            fine: Noise::new(seed, 14, 2.2),
            // Fraction of muscle above the threshold grows from about 2 % to about 18 %.
            marbling_threshold: (0.9 - 0.16 * myosteatosis) as f32,
        };
        patient.lordosis_apex = patient.zv(Vertebra::L3, 0.3);
        patient.liver_bottom = patient.zv(Vertebra::L2, liver_low);
        patient.kidney_z = [
            patient.zv(Vertebra::L2, 0.35 + kidney_shift[0]),
            patient.zv(Vertebra::L1, 0.85 + kidney_shift[1]),
        ];
        // Centre the trunk in the field at L3 (give or take the patient's own shift),
        // and put the table under the back there.
        let l3 = patient.outline(patient.zv(Vertebra::L3, 0.5));
        let front = l3.body.cy - l3.body.ay;
        let back = l3.body.cy + l3.body.ay;
        patient.spine_y_l3 = -(front + back) / 2.0 + shift_y;
        patient.table_y = back - (front + back) / 2.0 + shift_y + 8.0;
        patient.tubes = patient.gut(&mut Rng::stream(seed, 2));
        patient
    }

    /// The height at `fraction` of the way up the body of `vertebra`.
    pub fn zv(&self, vertebra: Vertebra, fraction: f64) -> f64 {
        let span = self.column.span(vertebra);
        lerp(span.inferior_mm, span.superior_mm, fraction)
    }

    /// Interpolates a table keyed at vertebral centres at height `z`.
    pub fn by_level<const N: usize>(&self, z: f64, table: &LevelTable<N>) -> f64 {
        let key = |i: usize| self.zv(table[i].0, 0.5);
        if N == 0 {
            return 0.0;
        }
        // Tables are written from the sacrum up.
        if z <= key(0) {
            return table[0].1;
        }
        for i in 1..N {
            let (lo, hi) = (key(i - 1), key(i));
            if z <= hi {
                return lerp(table[i - 1].1, table[i].1, (z - lo) / (hi - lo));
            }
        }
        table[N - 1].1
    }

    pub fn spine_y(&self, z: f64) -> f64 {
        let dz = z - self.lordosis_apex;
        let sacrum = (self.zv(Vertebra::S1, 1.0) - z).max(0.0);
        self.spine_y_l3 + self.lordosis * dz * dz + 0.6 * sacrum
    }

    /// The trunk outline at height `z`.
    pub fn outline(&self, z: f64) -> Outline {
        use Vertebra::*;
        let spine_y = self.spine_y(z);
        let depth = self.by_level(
            z,
            &[(S1, 35.0), (L5, 34.0), (L3, 33.0), (L1, 31.0), (T11, 28.0)],
        );
        let m = self.muscle;
        // Erector spinae: largest in the lumbar spine, thin over the sacrum.
        let para_ax = m * self.by_level(
            z,
            &[
                (S1, 21.0),
                (L5, 28.0),
                (L4, 32.0),
                (L2, 32.0),
                (T12, 28.0),
                (T11, 27.0),
            ],
        );
        let para_ay = m * self.by_level(
            z,
            &[
                (S1, 14.0),
                (L5, 21.0),
                (L4, 25.5),
                (L2, 25.5),
                (T12, 22.0),
                (T11, 21.0),
            ],
        );
        let para_cy = spine_y + depth / 2.0 + 13.0 + para_ay;
        let paraspinal = Ellipse::new(2.5 + para_ax, para_cy, para_ax, para_ay);
        let spinous = spine_y
            + depth / 2.0
            + self.by_level(z, &[(S1, 30.0), (L5, 45.0), (L3, 52.0), (T12, 50.0)]);
        let muscular_back = (para_cy + para_ay).max(spinous + 3.0);
        let a = self.cavity_half_width
            * self.by_level(
                z,
                &[
                    (S1, 1.04),
                    (L5, 1.0),
                    (L3, 1.0),
                    (L1, 1.03),
                    (T12, 1.07),
                    (T11, 1.1),
                ],
            );
        let depth_front =
            self.cavity_depth * self.by_level(z, &[(S1, 0.95), (L4, 1.0), (L2, 1.0), (T11, 1.05)]);
        let y_post = spine_y + depth / 2.0 + 30.0;
        let y_front = spine_y - depth / 2.0 - depth_front;
        let cavity = Ellipse::new(
            self.spine_x,
            (y_front + y_post) / 2.0,
            a,
            (y_post - y_front) / 2.0,
        );
        let wall = self.wall * self.by_level(z, &[(S1, 0.9), (L4, 1.0), (L1, 1.0), (T11, 1.2)]);
        let lower = self.by_level(z, &[(S1, 1.15), (L4, 1.05), (L2, 1.0)]);
        let [sat_front, sat_side, sat_back] = self.sat;
        let front = y_front - self.rectus - sat_front * lower;
        let back = muscular_back + sat_back;
        let (cy, by) = ((front + back) / 2.0, (back - front) / 2.0);
        let half = a + wall + sat_side * lower;
        let t = ((cavity.cy - cy) / by).clamp(-0.9, 0.9);
        let body = Ellipse::new(self.spine_x, cy, half / (1.0 - t * t).sqrt(), by);
        Outline {
            spine_x: self.spine_x,
            spine_y,
            spine_depth: depth,
            cavity,
            wall,
            rectus: self.rectus,
            paraspinal,
            // Over the lower ribs the wall muscles (latissimus, serratus, iliocostalis)
            // reach round to the erector spinae.
            wall_end_y: spine_y
                + depth / 2.0
                + lerp(
                    12.0,
                    40.0,
                    smoothstep(self.zv(L1, 0.5), self.zv(T12, 0.5), z),
                ),
            body,
            back_flat: back.min(self.table_y - 1.0),
            fluid: 32.0 * self.ascites,
        }
    }

    /// Stomach, colon and small bowel.
    fn gut(&self, rng: &mut Rng) -> Vec<Tube> {
        use Vertebra::*;
        let mut tubes = Vec::new();
        // A point at height z, placed by fractions of the free cavity there.
        let place = |v: Vertebra, fz: f64, fx: f64, fy: f64| {
            let z = self.zv(v, fz);
            let o = self.outline(z);
            let c = o.cavity.grown(-o.fluid);
            [c.cx + fx * c.ax, c.cy + fy * c.ay, z]
        };
        let mut chain =
            |points: &[[f64; 3]], radius: [f64; 2], gas: f64, content, rng: &mut Rng| {
                let n = points.len().saturating_sub(1).max(1) as f64;
                for (i, w) in points.windows(2).enumerate() {
                    tubes.push(Tube {
                        a: w[0],
                        b: w[1],
                        radius: lerp(radius[0], radius[1], i as f64 / n),
                        wall: 2.5,
                        gas: (gas * rng.jitter(1.0, 0.4)).clamp(0.0, 0.9),
                        content,
                    });
                }
            };
        let stomach = rng.range(24.0, 34.0);
        chain(
            &[
                place(T11, 0.6, 0.3, -0.3),
                place(T12, 0.6, 0.25, -0.45),
                place(L1, 0.5, 0.05, -0.6),
            ],
            [stomach, stomach * 0.7],
            rng.range(0.2, 0.55),
            Content::Fluid,
            rng,
        );
        // Colon: caecum and ascending on the right, transverse in front (sagging),
        // descending on the left, sigmoid down into the pelvis.
        let colon_gas = rng.range(0.2, 0.6);
        chain(
            &[
                place(S1, 0.0, -0.72, -0.15),
                place(L4, 0.5, -0.78, 0.0),
                place(L2, 0.3, -0.78, 0.05),
                place(L1, 0.6, -0.55, -0.45),
                place(L3, 0.2, -0.1, -0.72),
                place(L2, 0.5, 0.4, -0.6),
                place(T12, 0.5, 0.72, 0.1),
                place(L2, 0.2, 0.8, 0.2),
                place(L4, 0.5, 0.8, 0.15),
                place(S1, 0.6, 0.55, -0.1),
                place(S1, 0.0, 0.1, -0.3),
            ],
            [25.0, 17.0],
            colon_gas,
            Content::Stool,
            rng,
        );
        let free = |p: [f64; 3], r: f64| {
            let o = self.outline(p[2]);
            let inner = o.cavity.grown(-(o.fluid + r + 1.0));
            // In front of the spine and great vessels; beside them, in front of the
            // kidneys and quadratus lumborum.
            let limit = if (p[0] - o.spine_x).abs() < 50.0 {
                o.spine_y - o.spine_depth / 2.0 - 2.0 * self.aorta_radius - r
            } else {
                o.spine_y - r
            };
            inner.contains(p[0], p[1]) && p[1] < limit
        };
        let l3 = self.outline(self.zv(L3, 0.5));
        let c = l3.cavity;
        bowel::small_bowel(
            &mut tubes,
            &Room {
                lo: [c.cx - c.ax, c.cy - c.ay, self.zv(S1, 0.0) - 30.0],
                hi: [c.cx + c.ax, c.cy + c.ay, self.zv(L2, 0.6)],
                free: &free,
            },
            120,
            rng,
        );
        tubes
    }
}
