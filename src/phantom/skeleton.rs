//! The bones of one axial plane: vertebral body or disc with its canal and processes,
//! sacrum, iliac wings, and ribs 8 to 12.

use std::f64::consts::PI;

use super::levels::{Build, Vertebra};
use super::palette::Material;
use super::patient::{Outline, Patient};
use super::shapes::{lerp, smoothstep, Bounds, Capsule, Ellipse};

/// Cortical shell of vertebral bodies, ilium and ribs (mm).
const CORTEX: f64 = 1.6;
/// Where the ribs leave the spine, as an angle around the rib ellipse from straight
/// behind (radians).
const RIB_START: f64 = 0.38;
/// Half the height of a rib (mm).
const RIB_HALF_HEIGHT: f64 = 5.5;
/// Half the thickness of a rib across the wall (mm).
const RIB_HALF_DEPTH: f64 = 3.6;

/// A rib where it may cross this plane.
#[derive(Debug, Clone, Copy)]
struct Rib {
    /// Height of the rib head (mm).
    head_z: f64,
    /// Descent per radian around the wall (mm).
    descent: f64,
    /// Where the bony rib ends (radians); costal cartilage is not drawn.
    end: f64,
}

impl Rib {
    fn z_at(&self, angle: f64) -> f64 {
        self.head_z - self.descent * (angle - RIB_START)
    }

    fn lowest(&self) -> f64 {
        self.z_at(self.end)
    }
}

fn capsule(a: (f64, f64), b: (f64, f64), r: f64) -> (Capsule, Bounds) {
    let c = Capsule::new(a, b, r);
    (c, c.bounds())
}

/// The bones of one plane, with the muscles that follow the iliac wings.
pub(crate) struct Skeleton {
    z: f64,
    is_disc: bool,
    /// Vertebral body or disc, and whether this plane is on an endplate.
    vertebra: Ellipse,
    endplate: bool,
    canal: Ellipse,
    /// Width and depth of the vertebral body (mm), for placing what lies beside it.
    pub width: f64,
    pub depth: f64,
    /// Back of the vertebral body (y): the abdominal cavity ends there.
    pub back: f64,
    spine_box: Bounds,
    /// Bony capsules: processes, rib necks, sacral crest, iliac wings.
    bones: Vec<(Capsule, Bounds)>,
    alae: Option<Ellipse>,
    rib_ellipse: Ellipse,
    ribs: Vec<Rib>,
    /// Iliacus and gluteus medius, which lie along the iliac wings.
    pub wing_muscles: Vec<(Capsule, Bounds)>,
}

impl Skeleton {
    pub fn new(p: &Patient, z: f64, o: &Outline) -> Skeleton {
        use Vertebra::*;
        let piece = *p.column.at(z);
        let frac = piece.fraction(z);
        let (cx, sy) = (o.spine_x, o.spine_y);
        let (w, d) = if piece.is_disc {
            (piece.width * 1.02, piece.depth * 1.02)
        } else {
            // Bodies are waisted, narrowest halfway up.
            let waist = 1.0 - 0.05 * (PI * frac).sin();
            (piece.width * waist, piece.depth * waist)
        };
        let vertebra = Ellipse::new(cx, sy, w / 2.0, d / 2.0);
        let endplate = !piece.is_disc
            && ((z - piece.bottom) < CORTEX
                || (piece.top - z) < CORTEX && piece.build != Build::Sacral);
        let back = sy + d / 2.0;
        let (canal_rx, canal_ry) = match piece.build {
            Build::Lumbar => (11.0, 8.0),
            Build::Thoracic => (8.5, 8.0),
            Build::Sacral => (12.0, 5.5),
        };
        let canal = Ellipse::new(cx, back + 1.5 + canal_ry, canal_rx, canal_ry);
        let canal_back = canal.cy + canal_ry;
        let mut bones = Vec::new();
        let body_frac = if piece.is_disc { None } else { Some(frac) };
        let in_body = |lo: f64, hi: f64| body_frac.is_some_and(|f| f >= lo && f <= hi);
        let spinous_len = p.by_level(z, &[(S1, 26.0), (L5, 45.0), (L3, 52.0), (T12, 50.0)]);
        let mut alae = None;
        for side in [-1.0, 1.0] {
            match piece.build {
                Build::Lumbar | Build::Thoracic => {
                    let thoracic = piece.build == Build::Thoracic;
                    if in_body(0.35, 0.95) {
                        bones.push(capsule(
                            (cx + side * w * 0.3, back - 4.0),
                            (cx + side * (canal_rx + 3.0), canal.cy),
                            if thoracic { 3.5 } else { 4.5 },
                        ));
                    }
                    if body_frac.is_none_or(|f| f >= 0.25) && !(piece.is_disc && frac > 0.6) {
                        bones.push(capsule(
                            (cx + side * (canal_rx + 3.0), canal.cy + 1.0),
                            (cx, canal_back + 4.0),
                            3.5,
                        ));
                    }
                    if piece.is_disc && frac > 0.2 {
                        bones.push(capsule(
                            (cx + side * (canal_rx + 5.0), canal.cy + 1.0),
                            (cx + side * (canal_rx + 7.0), canal.cy + 8.0),
                            5.0,
                        ));
                    }
                    if !thoracic && in_body(0.45, 0.8) {
                        bones.push(capsule(
                            (cx + side * w * 0.32, canal.cy - 2.0),
                            (
                                cx + side * (w / 2.0 + piece.transverse_reach),
                                canal.cy + 2.0,
                            ),
                            if piece.named == Some(L5) { 6.5 } else { 4.5 },
                        ));
                    }
                    if thoracic && in_body(0.55, 0.95) {
                        bones.push(capsule(
                            (cx + side * (canal_rx + 3.0), canal.cy),
                            (cx + side * (w / 2.0 + 14.0), canal.cy + 9.0),
                            5.0,
                        ));
                    }
                }
                Build::Sacral => {
                    bones.push(capsule(
                        (cx + side * (canal_rx + 1.0), canal.cy + 2.0),
                        (cx, canal_back + 6.0),
                        3.5,
                    ));
                }
            }
        }
        match piece.build {
            Build::Lumbar | Build::Thoracic => {
                // A spinous process hangs from the lower half of its vertebra over the
                // disc below, leaving a gap for the interspinous ligament.
                if body_frac.is_none_or(|f| f <= 0.5) {
                    bones.push(capsule(
                        (cx, canal_back + 3.0),
                        (cx, back + spinous_len),
                        4.0,
                    ));
                }
            }
            Build::Sacral => {
                bones.push(capsule(
                    (cx, canal_back + 4.0),
                    (cx, canal_back + 14.0),
                    4.0,
                ));
                if body_frac.is_none_or(|f| f < 0.9) {
                    alae = Some(Ellipse::new(cx, sy + d * 0.2, w / 2.0 + 36.0, d * 0.42));
                }
            }
        }
        // Iliac wings, from the sacroiliac joints forwards and outwards, growing in
        // reach below the crest; iliacus inside them and gluteus medius outside.
        let mut wing_muscles = Vec::new();
        let crest = p.zv(L4, 0.1);
        if z < crest {
            let below = crest - z;
            let reach = 105.0 * (below / 45.0).min(1.0).sqrt();
            let m = p.muscle;
            for side in [-1.0f64, 1.0] {
                let p0 = (cx + side * 66.0, back + 16.0);
                let dir = (side * 0.62, -0.78);
                let bend = (side * 0.85, -0.53);
                let p1 = (p0.0 + dir.0 * reach * 0.55, p0.1 + dir.1 * reach * 0.55);
                let p2 = (p1.0 + bend.0 * reach * 0.45, p1.1 + bend.1 * reach * 0.45);
                let thick = lerp(6.5, 4.5, (below / 30.0).min(1.0));
                bones.push(capsule(p0, p1, thick + 1.0));
                bones.push(capsule(p1, p2, thick));
                let grow = smoothstep(0.0, 25.0, below);
                let outward = (side * 0.78, 0.62);
                let iliacus = 11.0 * m * grow;
                let gluteus = 15.0 * m * grow;
                if iliacus > 1.0 {
                    let off = -(thick + iliacus * 0.9);
                    wing_muscles.push(capsule(
                        (p1.0 + outward.0 * off, p1.1 + outward.1 * off),
                        (p2.0 + outward.0 * off, p2.1 + outward.1 * off),
                        iliacus,
                    ));
                    let off = thick + gluteus * 0.9;
                    wing_muscles.push(capsule(
                        (p0.0 + outward.0 * off, p0.1 + outward.1 * off),
                        (p2.0 + outward.0 * off, p2.1 + outward.1 * off),
                        gluteus,
                    ));
                }
            }
        }
        // Ribs 8 to 12: heads one level apart, each descending as it wraps forwards.
        let level_step = p.zv(T11, 0.5) - p.zv(T12, 0.5);
        let head_11 = p.zv(T11, 0.7);
        let ribs: Vec<Rib> = [
            (12, 42.0, 1.4),
            (11, 44.0, 1.95),
            (10, 42.0, 2.45),
            (9, 40.0, 2.75),
            (8, 38.0, 2.9),
        ]
        .into_iter()
        .map(|(n, descent, end)| Rib {
            head_z: head_11 + f64::from(11 - n) * level_step,
            descent,
            end,
        })
        .filter(|r| z > r.lowest() - RIB_HALF_HEIGHT && z < r.head_z + RIB_HALF_HEIGHT)
        .collect();
        let rib_ellipse = o.cavity.grown(o.wall * 0.5);
        for rib in &ribs {
            if (z - rib.head_z).abs() < RIB_HALF_HEIGHT {
                for side in [-1.0, 1.0] {
                    let at = (
                        rib_ellipse.cx + side * rib_ellipse.ax * RIB_START.sin(),
                        rib_ellipse.cy + rib_ellipse.ay * RIB_START.cos(),
                    );
                    bones.push(capsule(
                        (cx + side * (w / 2.0 + 2.0), sy + d * 0.15),
                        at,
                        4.0,
                    ));
                }
            }
        }
        let reach = piece.transverse_reach.max(20.0);
        let spine_box = Bounds {
            x0: cx - w / 2.0 - reach - 10.0,
            y0: sy - d / 2.0 - 2.0,
            x1: cx + w / 2.0 + reach + 10.0,
            y1: back + spinous_len + 8.0,
        };

        Skeleton {
            z,
            is_disc: piece.is_disc,
            vertebra,
            endplate,
            canal,
            width: w,
            depth: d,
            back,
            spine_box,
            bones,
            alae,
            rib_ellipse,
            ribs,
            wing_muscles,
        }
    }

    /// Bone, disc or the spinal canal at (`x`, `y`), if any.
    pub fn classify(&self, x: f64, y: f64) -> Option<Material> {
        if self.spine_box.contains(x, y) {
            if self.vertebra.contains(x, y) {
                return Some(if self.is_disc {
                    Material::Disc
                } else if self.endplate || self.vertebra.distance(x, y) > -CORTEX {
                    Material::Cortical
                } else {
                    Material::Cancellous
                });
            }
            if self.canal.contains(x, y) {
                return Some(Material::Csf);
            }
        }
        if let Some(alae) = &self.alae {
            if alae.contains(x, y) {
                return Some(if alae.distance(x, y) > -CORTEX {
                    Material::Cortical
                } else {
                    Material::Cancellous
                });
            }
        }
        for (c, b) in &self.bones {
            if b.contains(x, y) {
                let d = c.distance(x, y);
                if d < 0.0 {
                    return Some(if d > -CORTEX || c.radius < 2.0 * CORTEX {
                        Material::Cortical
                    } else {
                        Material::Cancellous
                    });
                }
            }
        }
        if !self.ribs.is_empty() {
            let across = self.rib_ellipse.distance(x, y);
            if across.abs() < RIB_HALF_DEPTH {
                let angle = self.rib_ellipse.folded_angle(x, y);
                for rib in &self.ribs {
                    if angle < RIB_START || angle > rib.end {
                        continue;
                    }
                    let dz = (self.z - rib.z_at(angle)).abs();
                    if dz < RIB_HALF_HEIGHT {
                        return Some(if across.abs() > RIB_HALF_DEPTH - CORTEX || dz > 4.0 {
                            Material::Cortical
                        } else {
                            Material::Cancellous
                        });
                    }
                }
            }
        }
        None
    }
}
