//! The few shapes the anatomy is drawn with, in axial-plane millimetres (x towards the
//! patient's left, y towards the back, as DICOM LPS). Each can say, cheaply, whether a
//! point is far away (its bounding box), which keeps a slice well under a millisecond
//! per structure.

/// An axis-aligned rectangle, for quick rejection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Bounds {
    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// An ellipse, possibly turned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ellipse {
    pub cx: f64,
    pub cy: f64,
    /// Semi-axis along its own first axis (x before turning).
    pub ax: f64,
    /// Semi-axis along its own second axis.
    pub ay: f64,
    cos: f64,
    sin: f64,
}

impl Ellipse {
    pub fn new(cx: f64, cy: f64, ax: f64, ay: f64) -> Ellipse {
        Ellipse {
            cx,
            cy,
            ax: ax.max(1e-3),
            ay: ay.max(1e-3),
            cos: 1.0,
            sin: 0.0,
        }
    }

    /// The same ellipse turned by `angle` radians (from +x towards +y).
    pub fn turned(self, angle: f64) -> Ellipse {
        Ellipse {
            cos: angle.cos(),
            sin: angle.sin(),
            ..self
        }
    }

    /// Grown (or, negative, shrunk) by `by` mm on both semi-axes.
    pub fn grown(self, by: f64) -> Ellipse {
        Ellipse {
            ax: (self.ax + by).max(1e-3),
            ay: (self.ay + by).max(1e-3),
            ..self
        }
    }

    #[inline]
    fn local(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (x - self.cx, y - self.cy);
        (
            dx * self.cos + dy * self.sin,
            -dx * self.sin + dy * self.cos,
        )
    }

    /// (u/ax)² + (v/ay)² in the ellipse's own axes: below 1 inside.
    #[inline]
    pub fn norm(&self, x: f64, y: f64) -> f64 {
        let (u, v) = self.local(x, y);
        (u / self.ax) * (u / self.ax) + (v / self.ay) * (v / self.ay)
    }

    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.norm(x, y) < 1.0
    }

    /// Approximate signed distance to the outline (mm, negative inside): the first-order
    /// estimate (√n − 1)/|∇√n|, exact for circles and on the axes, and good within a few
    /// millimetres of the outline, which is where rims and bands are drawn.
    #[inline]
    pub fn distance(&self, x: f64, y: f64) -> f64 {
        let (u, v) = self.local(x, y);
        let (a2, b2) = (self.ax * self.ax, self.ay * self.ay);
        let n = u * u / a2 + v * v / b2;
        let root = n.sqrt();
        let (gx, gy) = (u / a2, v / b2);
        let g = (gx * gx + gy * gy).sqrt();
        if g < 1e-12 {
            return -self.ax.min(self.ay);
        }
        (root - 1.0) * root / g
    }

    /// The angle of a point around the ellipse, measured on the ellipse's own
    /// (normalised) axes: 0 along +ay ("behind" for an untuned ellipse), π/2 along ±ax
    /// (either side: the result is folded to 0..=π, so left and right mirror).
    pub fn folded_angle(&self, x: f64, y: f64) -> f64 {
        let (u, v) = self.local(x, y);
        (u / self.ax).abs().atan2(v / self.ay)
    }

    pub fn bounds(&self) -> Bounds {
        let hx = ((self.ax * self.cos).powi(2) + (self.ay * self.sin).powi(2)).sqrt();
        let hy = ((self.ax * self.sin).powi(2) + (self.ay * self.cos).powi(2)).sqrt();
        Bounds {
            x0: self.cx - hx,
            y0: self.cy - hy,
            x1: self.cx + hx,
            y1: self.cy + hy,
        }
    }
}

/// A segment with a radius (a "stadium" in the plane): processes of vertebrae, iliac
/// wings and the muscles that lie along them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Capsule {
    pub a: (f64, f64),
    pub b: (f64, f64),
    pub radius: f64,
}

impl Capsule {
    pub fn new(a: (f64, f64), b: (f64, f64), radius: f64) -> Capsule {
        Capsule { a, b, radius }
    }

    /// Signed distance to the outline (mm, negative inside).
    #[inline]
    pub fn distance(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (self.b.0 - self.a.0, self.b.1 - self.a.1);
        let (px, py) = (x - self.a.0, y - self.a.1);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (ex, ey) = (px - t * dx, py - t * dy);
        (ex * ex + ey * ey).sqrt() - self.radius
    }

    #[inline]
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.distance(x, y) < 0.0
    }

    pub fn bounds(&self) -> Bounds {
        Bounds {
            x0: self.a.0.min(self.b.0) - self.radius,
            y0: self.a.1.min(self.b.1) - self.radius,
            x1: self.a.0.max(self.b.0) + self.radius,
            y1: self.a.1.max(self.b.1) + self.radius,
        }
    }
}

/// Linear interpolation.
#[inline]
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

/// 0 below `edge0`, 1 above `edge1`, smooth in between.
#[inline]
pub(crate) fn smoothstep(edge0: f64, edge1: f64, x: f64) -> f64 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}
