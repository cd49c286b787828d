//! One axial plane of the phantom: every structure's outline at that height, worked out
//! once per plane, and the material at any point of it.
//!
//! Structures are tested in order of precedence (skin, bone, muscle, then the contents
//! of the abdomen), so overlapping outlines resolve the way anatomy does: a rib inside
//! the wall muscles is bone, a bowel loop pressing on the liver indents it. The bones
//! ([`super::skeleton`]) and the solid organs and vessels ([`super::viscera`]) are
//! laid out in their own modules; the muscles, the wall and the order live here.

use std::f64::consts::PI;

use super::bowel::TubesAt;
use super::levels::Vertebra;
use super::palette::Material;
use super::patient::{Outline, Patient};
use super::shapes::{lerp, smoothstep, Bounds, Ellipse};
use super::skeleton::Skeleton;
use super::viscera::Viscera;
use crate::rng::NoisePlane;

/// Skin thickness (mm).
const SKIN: f64 = 1.8;

/// One axial plane, ready to say what lies at any point of it.
pub(crate) struct Section<'p> {
    p: &'p Patient,
    z: f64,
    o: Outline,
    bones: Skeleton,
    muscles: Vec<(Ellipse, Bounds)>,
    viscera: Viscera,
    /// Lowest lung base (z, behind); no lung below it. The highest (in front).
    lung_low: f64,
    lung_high: f64,
    tubes: TubesAt,
    marbling: NoisePlane,
    nodules: NoisePlane,
}

fn with_bounds(e: Ellipse) -> (Ellipse, Bounds) {
    (e, e.bounds())
}

impl<'p> Section<'p> {
    /// The plane at height `z`; `field` is the part of the plane that will be asked about.
    pub fn new(p: &'p Patient, z: f64, field: Bounds) -> Section<'p> {
        use Vertebra::*;
        let o = p.outline(z);
        let bones = Skeleton::new(p, z, &o);
        let (cx, sy) = (o.spine_x, o.spine_y);
        let (w, d, back) = (bones.width, bones.depth, bones.back);
        // Muscles around the spine.
        let m = p.muscle;
        let mut muscles = Vec::new();
        for side in [-1.0, 1.0] {
            let para = Ellipse::new(
                cx + side * o.paraspinal.cx,
                o.paraspinal.cy,
                o.paraspinal.ax,
                o.paraspinal.ay,
            );
            muscles.push(with_bounds(para));
        }
        let psoas = m * p.by_level(
            z,
            &[
                (S1, 21.0),
                (L5, 24.0),
                (L4, 22.5),
                (L3, 19.0),
                (L2, 14.0),
                (L1, 8.0),
                (T12, 0.0),
            ],
        );
        if psoas > 1.0 {
            let ex = p.by_level(z, &[(S1, 28.0), (L5, 10.0), (L4, 0.0)]);
            let ey = p.by_level(z, &[(S1, -26.0), (L5, -8.0), (L4, 0.0)]);
            for side in [-1.0, 1.0] {
                muscles.push(with_bounds(Ellipse::new(
                    cx + side * (w / 2.0 + 0.8 * psoas + ex),
                    sy - 0.15 * d + 0.25 * psoas + ey,
                    0.95 * psoas,
                    0.85 * psoas,
                )));
            }
        }
        let ql = m * p.by_level(
            z,
            &[
                (L5, 0.0),
                (L4, 9.0),
                (L3, 12.0),
                (L2, 11.0),
                (L1, 8.0),
                (T12, 3.0),
                (T11, 0.0),
            ],
        );
        if ql > 1.0 {
            let reach = p.by_level(z, &[(L5, 20.0), (L3, 28.0), (L1, 16.0), (T12, 10.0)]);
            for side in [-1.0, 1.0] {
                muscles.push(with_bounds(
                    Ellipse::new(
                        cx + side * (w / 2.0 + reach + 8.0),
                        back + 4.0,
                        1.9 * ql,
                        0.95 * ql,
                    )
                    .turned(side * 0.35),
                ));
            }
        }

        let viscera = Viscera::new(p, z, &o, &bones);
        Section {
            p,
            z,
            o,
            bones,
            muscles,
            viscera,
            lung_low: p.zv(L1, 0.2),
            lung_high: p.zv(T11, 0.6),
            tubes: TubesAt::new(&p.tubes, z),
            marbling: p.marbling.plane(z, field.x0, field.y0, field.x1, field.y1),
            nodules: p.nodules.plane(z, field.x0, field.y0, field.x1, field.y1),
        }
    }

    /// The material at (`x`, `y`) mm.
    pub fn classify(&self, x: f64, y: f64) -> Material {
        let o = &self.o;
        let skin_depth = o.body.distance(x, y).max(y - o.back_flat);
        if skin_depth >= 0.0 {
            return self.outside(x, y);
        }
        if skin_depth > -SKIN {
            return Material::Skin;
        }
        if let Some(m) = self.bones.classify(x, y) {
            return m;
        }
        let dc = o.cavity.distance(x, y);
        if let Some(m) = self.muscle(x, y, dc) {
            return if m == Material::Muscle && self.marbling.at(x, y) > self.p.marbling_threshold {
                Material::Imat
            } else {
                m
            };
        }
        // Between the vertebra and the skin the cavity has ended: ligament in the
        // midline, the deep back muscles (multifidus, intertransversarii) either side.
        let dx = (x - o.spine_x).abs();
        if y > self.bones.back
            && y < o.paraspinal.cy + 0.9 * o.paraspinal.ay
            && dx < self.bones.width / 2.0 + 20.0
        {
            return if dx < 2.5 {
                Material::Fascia
            } else if self.marbling.at(x, y) > self.p.marbling_threshold {
                Material::Imat
            } else {
                Material::Muscle
            };
        }
        if dc >= 0.0 {
            return Material::Sat;
        }
        self.abdomen(x, y, dc)
    }

    /// Air, an arm, or the scanner table under the patient.
    fn outside(&self, x: f64, y: f64) -> Material {
        if let Some(arm) = self.arm(x, y) {
            return arm;
        }
        if x.abs() > 230.0 {
            return Material::Air;
        }
        let top = self.p.table_y - 0.0005 * x * x;
        match y - top {
            t if t < 0.0 => Material::Air,
            t if t < 3.0 => Material::TableShell,
            t if t < 38.0 => Material::TableFoam,
            t if t < 41.0 => Material::TableShell,
            _ => Material::Air,
        }
    }

    /// An upper arm beside each flank at the trunk's mid-depth: humerus, muscle, fat and
    /// skin in rings (radius 38 mm; an average adult upper arm).
    fn arm(&self, x: f64, y: f64) -> Option<Material> {
        let gap = self.p.arms_gap?;
        const RADIUS: f64 = 38.0;
        let body = &self.o.body;
        let side = if x < body.cx { -1.0 } else { 1.0 };
        let centre = body.cx + side * (body.ax + gap + RADIUS);
        let d = (x - centre).hypot(y - body.cy);
        Some(match d {
            d if d < 7.0 => Material::Cancellous,
            d if d < 11.0 => Material::Cortical,
            d if d < RADIUS - 9.0 => Material::ArmMuscle,
            d if d < RADIUS - SKIN => Material::ArmFat,
            d if d < RADIUS => Material::Skin,
            _ => return None,
        })
    }

    fn muscle(&self, x: f64, y: f64, dc: f64) -> Option<Material> {
        for (e, b) in &self.muscles {
            if b.contains(x, y) && e.contains(x, y) {
                return Some(Material::Muscle);
            }
        }
        for (c, b) in &self.bones.wing_muscles {
            if b.contains(x, y) && c.contains(x, y) {
                return Some(Material::Muscle);
            }
        }
        if dc >= 0.0 {
            return self.wall(x, y, dc);
        }
        None
    }

    /// The abdominal wall, `dc` mm outside the cavity: rectus abdominis either side of
    /// the linea alba in front, the three flat muscles (with fat planes between them) at
    /// the sides, ending behind at the lumbar fascia.
    fn wall(&self, x: f64, y: f64, dc: f64) -> Option<Material> {
        let o = &self.o;
        let cav = &o.cavity;
        if y > o.wall_end_y {
            return None;
        }
        let dx = (x - cav.cx).abs();
        let linea = 5.0;
        let rectus_width = 0.5 * cav.ax;
        let front = y < cav.cy;
        if front && dx < linea {
            return (dc < 2.5).then_some(Material::Fascia);
        }
        if front && dx < linea + rectus_width {
            let u = (dx - linea) / rectus_width;
            let lens = (1.0 - (2.0 * u - 1.0).powi(4)).max(0.0).sqrt();
            return (dc < o.rectus * lens).then_some(Material::Muscle);
        }
        let ramp = if front {
            smoothstep(linea + rectus_width - 5.0, linea + rectus_width + 30.0, dx)
        } else {
            1.0
        };
        let taper = smoothstep(o.wall_end_y, o.wall_end_y - 35.0, y);
        let thick = o.wall * (0.35 + 0.65 * ramp) * (0.3 + 0.7 * taper);
        if dc >= thick {
            return None;
        }
        // Fat planes between transversus, internal and external oblique.
        let plane = 1.3;
        let f1 = 0.3 * thick;
        let f2 = 0.63 * thick;
        if thick > 6.0 && ((dc > f1 && dc < f1 + plane) || (dc > f2 && dc < f2 + plane)) {
            return Some(Material::Imat);
        }
        Some(Material::Muscle)
    }

    /// Inside the cavity (`dc` < 0 mm from its wall).
    fn abdomen(&self, x: f64, y: f64, dc: f64) -> Material {
        for k in &self.viscera.kidneys {
            if k.organ.contains(x, y) {
                if k.pelvis.is_some_and(|e| e.contains(x, y)) {
                    return Material::Urine;
                }
                if k.sinus.is_some_and(|e| e.contains(x, y)) {
                    return Material::Vat;
                }
                return Material::Kidney;
            }
        }
        if self.viscera.arteries.iter().any(|e| e.contains(x, y)) {
            return Material::Artery;
        }
        if self.viscera.veins.iter().any(|e| e.contains(x, y)) {
            return Material::Vein;
        }
        if self.z > self.lung_low && dc > -60.0 {
            if let Some(m) = self.lung(x, y, dc) {
                return m;
            }
        }
        if self.viscera.pancreas.is_some_and(|e| e.contains(x, y)) {
            return Material::Pancreas;
        }
        if let Some(m) = self.tubes.at(x, y) {
            return m;
        }
        if dc > -self.o.fluid && !self.viscera.retroperitoneum.contains(x, y) {
            return Material::Ascites;
        }
        if self.viscera.gallbladder.is_some_and(|e| e.contains(x, y)) {
            return Material::Bile;
        }
        if self.viscera.spleen.is_some_and(|e| e.contains(x, y)) {
            return Material::Spleen;
        }
        if let Some(liver) = &self.viscera.liver {
            // Cirrhosis: a nodular surface.
            let bumps = 0.3 * (self.nodules.at(x, y) - 0.5);
            if liver.norm(x, y) < 1.0 + f64::from(bumps) {
                return Material::Liver;
            }
        }
        Material::Vat
    }

    /// The lung bases in the costophrenic recesses, behind and beside the upper
    /// abdomen, with the diaphragm under them.
    fn lung(&self, x: f64, y: f64, dc: f64) -> Option<Material> {
        let angle = self.o.cavity.folded_angle(x, y);
        if angle < 0.3 {
            return None;
        }
        let bottom = lerp(self.lung_low, self.lung_high, (angle / PI).powf(1.3));
        let depth = ((self.z - bottom) * 0.8).clamp(0.0, 50.0);
        if depth <= 0.0 {
            return None;
        }
        if dc > -depth {
            Some(Material::Lung)
        } else if dc > -depth - 4.0 {
            Some(Material::Muscle)
        } else {
            None
        }
    }
}
