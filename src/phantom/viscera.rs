//! The organs and vessels of one axial plane, outside the bowel: kidneys, aorta, IVC
//! and their branches, pancreas, gallbladder, liver and spleen.

use super::levels::Vertebra;
use super::patient::{Outline, Patient};
use super::shapes::{smoothstep, Bounds, Ellipse};
use super::skeleton::Skeleton;

/// A kidney's cut: the organ and its sinus (fat around the collecting system).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KidneyCut {
    pub organ: Ellipse,
    pub sinus: Option<Ellipse>,
    pub pelvis: Option<Ellipse>,
}

/// The organs and vessels of one plane; [`super::section`] decides their precedence.
pub(crate) struct Viscera {
    pub kidneys: Vec<KidneyCut>,
    pub arteries: Vec<Ellipse>,
    pub veins: Vec<Ellipse>,
    pub pancreas: Option<Ellipse>,
    pub gallbladder: Option<Ellipse>,
    pub liver: Option<Ellipse>,
    pub spleen: Option<Ellipse>,
    /// Around the spine and great vessels: no ascites collects there.
    pub retroperitoneum: Bounds,
}

/// The cross-section scale of an ellipsoid with centre `centre` and half-height `half`
/// at height `z` (0 outside it).
fn ellipsoid_scale(z: f64, centre: f64, half: f64) -> f64 {
    let t = (z - centre) / half;
    if t.abs() >= 1.0 {
        0.0
    } else {
        (1.0 - t * t).sqrt()
    }
}

impl Viscera {
    pub fn new(p: &Patient, z: f64, o: &Outline, bones: &Skeleton) -> Viscera {
        use Vertebra::*;
        let (cx, sy) = (o.spine_x, o.spine_y);
        let (w, d) = (bones.width, bones.depth);
        let mut kidneys = Vec::new();
        let kidney_half = 52.0;
        for (k, side) in [(0usize, -1.0f64), (1, 1.0)] {
            let centre = p.kidney_z[k];
            let s = ellipsoid_scale(z, centre, kidney_half);
            if s <= 0.0 {
                continue;
            }
            let below = (centre - z).max(0.0);
            let kx = cx + side * (w / 2.0 + 50.0 + 0.12 * below);
            let ky = sy + 12.0 - 0.15 * below;
            let turn = -side * 0.6;
            let organ = Ellipse::new(kx, ky, 27.0 * s, 17.0 * s).turned(turn);
            // The hilum faces forwards and inwards.
            let hilum = (-side * 0.6, -0.8);
            let middle = s > 0.55;
            let sinus = middle.then(|| {
                Ellipse::new(
                    kx + hilum.0 * 10.0 * s,
                    ky + hilum.1 * 10.0 * s,
                    11.0 * s,
                    6.5 * s,
                )
                .turned(turn)
            });
            let pelvis = (s > 0.8).then(|| {
                Ellipse::new(kx + hilum.0 * 8.0, ky + hilum.1 * 8.0, 5.0, 3.5).turned(turn)
            });
            kidneys.push(KidneyCut {
                organ,
                sinus,
                pelvis,
            });
        }
        let front = sy - d / 2.0;
        let r = p.aorta_radius;
        let aorta_y = front - r - 2.0;
        let bifurcation = p.zv(L4, 0.45);
        let mut arteries = Vec::new();
        if z >= bifurcation {
            arteries.push(Ellipse::new(cx + 12.0, aorta_y, r, r));
        } else {
            let g = bifurcation - z;
            let ri = 0.62 * r;
            for side in [-1.0, 1.0] {
                arteries.push(Ellipse::new(
                    cx + 12.0 * (1.0 - g / 30.0).max(0.0) + side * (0.55 * g + 3.0),
                    front - ri - 4.0 - 0.15 * g,
                    ri,
                    ri,
                ));
            }
        }
        let sma_origin = p.zv(L1, 0.5);
        let sma_end = p.zv(L4, 0.3);
        let mut veins = Vec::new();
        if z < sma_origin && z > sma_end {
            let below = sma_origin - z;
            let y = aorta_y - r - 7.0 - 0.22 * below.min(60.0);
            arteries.push(Ellipse::new(cx + 4.0, y, 3.5, 3.5));
            veins.push(Ellipse::new(cx - 9.0, y, 5.5, 5.5));
        }
        let confluence = p.zv(L5, 0.6);
        if z >= confluence {
            let liver_part = smoothstep(p.zv(L1, 0.5), p.zv(T12, 0.5), z);
            veins.push(Ellipse::new(
                cx - 22.0 - 6.0 * liver_part,
                front - 10.0 - 12.0 * liver_part,
                12.0,
                8.5,
            ));
        } else {
            let g = confluence - z;
            for side in [-1.0, 1.0] {
                veins.push(Ellipse::new(
                    cx - 22.0 * (1.0 - g / 25.0).max(0.0) + side * (0.5 * g + 4.0),
                    front - 6.0,
                    7.0,
                    7.0,
                ));
            }
        }
        let cav = o.cavity;
        if z > p.zv(T12, 0.3) && z < p.zv(L1, 0.4) {
            veins.push(Ellipse::new(cx - 35.0, aorta_y - 32.0, 16.0, 7.0).turned(-0.5));
        }
        let pancreas = {
            let s = ellipsoid_scale(z, p.zv(L1, 0.5), 15.0);
            (s > 0.0).then(|| {
                Ellipse::new(
                    cx + 15.0,
                    aorta_y - r - 16.0,
                    65.0 * (0.6 + 0.4 * s),
                    9.0 * s,
                )
                .turned(0.3)
            })
        };
        let gallbladder = {
            let s = ellipsoid_scale(z, p.zv(L1, 0.2), 28.0);
            (s > 0.0).then(|| {
                Ellipse::new(
                    cx - 0.45 * cav.ax,
                    cav.cy - 0.35 * cav.ay,
                    13.0 * s,
                    17.0 * s,
                )
                .turned(0.4)
            })
        };
        let liver = (z > p.liver_bottom).then(|| {
            let (fx, fy, sx, sy_) = (
                p.by_level(z, &[(L1, -0.52), (T12, -0.35), (T11, -0.2)]),
                p.by_level(z, &[(L1, 0.05), (T12, 0.0), (T11, -0.05)]),
                p.by_level(z, &[(L1, 0.55), (T12, 0.75), (T11, 0.95)]),
                p.by_level(z, &[(L1, 0.7), (T12, 0.9), (T11, 1.0)]),
            );
            // Below L1 the right lobe tapers to its tip, out at the side.
            let taper = smoothstep(p.liver_bottom, p.zv(L1, 0.5), z);
            let shift = 1.0 - taper;
            let scale = p.liver_scale * (0.25 + 0.75 * taper);
            Ellipse::new(
                cav.cx + (fx - 0.2 * shift) * cav.ax,
                cav.cy + (fy + 0.1 * shift) * cav.ay,
                sx * scale * cav.ax,
                sy_ * scale * cav.ay,
            )
            .turned(-0.35)
        });
        let spleen = {
            let half = 50.0 * p.spleen_scale;
            let s = ellipsoid_scale(z, p.zv(T12, 0.4), half);
            (s > 0.0).then(|| {
                Ellipse::new(
                    cav.cx + 0.62 * cav.ax,
                    cav.cy + 0.42 * cav.ay,
                    42.0 * s * p.spleen_scale,
                    20.0 * s * p.spleen_scale,
                )
                .turned(-0.8)
            })
        };
        let retroperitoneum = Bounds {
            x0: cx - w / 2.0 - 75.0,
            y0: front - 5.0,
            x1: cx + w / 2.0 + 75.0,
            y1: f64::INFINITY,
        };
        Viscera {
            kidneys,
            arteries,
            veins,
            pancreas,
            gallbladder,
            liver,
            spleen,
            retroperitoneum,
        }
    }
}
