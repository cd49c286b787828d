//! Vertebral levels: which vertebra (or disc) each axial slice cuts, the exact labels a
//! level locator is trained on.
//!
//! The column is laid out along z (mm, superior positive) from the sacrum up, body and
//! disc in turn. Only T11 to S1 are named; the phantom draws the vertebrae beyond them
//! (upper sacrum, T10 and above) so that a large grid still looks like a spine, but a
//! slice through them has no level.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// The vertebrae the phantom names, from the head down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Vertebra {
    T11,
    T12,
    L1,
    L2,
    L3,
    L4,
    L5,
    S1,
}

impl Vertebra {
    /// All named vertebrae, from the most inferior (S1) up.
    pub const FROM_SACRUM: [Vertebra; 8] = [
        Vertebra::S1,
        Vertebra::L5,
        Vertebra::L4,
        Vertebra::L3,
        Vertebra::L2,
        Vertebra::L1,
        Vertebra::T12,
        Vertebra::T11,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Vertebra::T11 => "T11",
            Vertebra::T12 => "T12",
            Vertebra::L1 => "L1",
            Vertebra::L2 => "L2",
            Vertebra::L3 => "L3",
            Vertebra::L4 => "L4",
            Vertebra::L5 => "L5",
            Vertebra::S1 => "S1",
        }
    }

    /// 0 for S1, rising by one per vertebra towards the head.
    pub fn rank_from_sacrum(self) -> u8 {
        match self {
            Vertebra::S1 => 0,
            Vertebra::L5 => 1,
            Vertebra::L4 => 2,
            Vertebra::L3 => 3,
            Vertebra::L2 => 4,
            Vertebra::L1 => 5,
            Vertebra::T12 => 6,
            Vertebra::T11 => 7,
        }
    }

    /// Whether the vertebra carries a rib (T11 and T12 here; T12 is the last).
    pub fn has_ribs(self) -> bool {
        matches!(self, Vertebra::T11 | Vertebra::T12)
    }
}

impl fmt::Display for Vertebra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an axial slice cuts through at the spine, at the slice's centre plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Level {
    /// The body of a vertebra.
    Body(Vertebra),
    /// The disc between `upper` and the vertebra below it, `lower`.
    Disc { upper: Vertebra, lower: Vertebra },
}

impl Level {
    /// Even ranks are bodies, odd ones discs: S1 is 0, the L5–S1 disc 1, L5 2, and so on
    /// up to T11 (14). Slices from inferior to superior have non-decreasing ranks.
    pub fn rank_from_sacrum(self) -> u8 {
        match self {
            Level::Body(v) => 2 * v.rank_from_sacrum(),
            Level::Disc { lower, .. } => 2 * lower.rank_from_sacrum() + 1,
        }
    }

    /// The vertebra whose body the slice cuts, if it cuts a body.
    pub fn body(self) -> Option<Vertebra> {
        match self {
            Level::Body(v) => Some(v),
            Level::Disc { .. } => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Body(v) => write!(f, "{v}"),
            Level::Disc { upper, lower } => write!(f, "{upper}–{lower} disc"),
        }
    }
}

/// Where one vertebral body lies along the body axis (slice-position millimetres, the
/// same z as the DICOM ImagePositionPatient of the slices).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VertebraSpan {
    pub vertebra: Vertebra,
    /// The lower endplate.
    pub inferior_mm: f64,
    /// The upper endplate.
    pub superior_mm: f64,
}

impl VertebraSpan {
    pub fn centre_mm(&self) -> f64 {
        (self.inferior_mm + self.superior_mm) / 2.0
    }
}

/// The build of a vertebra, for drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    Thoracic,
    Lumbar,
    Sacral,
}

/// One body or disc of the column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    pub bottom: f64,
    pub top: f64,
    pub is_disc: bool,
    /// The vertebra (for a disc: the one above it), when it is one of the named ones.
    pub named: Option<Vertebra>,
    /// For a disc, the named vertebra below it.
    pub named_below: Option<Vertebra>,
    pub build: Build,
    /// Body width (left–right) and depth (front–back), mm.
    pub width: f64,
    pub depth: f64,
    /// Lumbar transverse-process reach beyond the body's side, mm.
    pub transverse_reach: f64,
}

impl Piece {
    /// 0 at the piece's lower end, 1 at its upper end.
    pub fn fraction(&self, z: f64) -> f64 {
        ((z - self.bottom) / (self.top - self.bottom)).clamp(0.0, 1.0)
    }
}

/// The vertebral column of one phantom, from the sacrum up.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pieces: Vec<Piece>,
    /// The named bodies, indexed by [`Vertebra::rank_from_sacrum`].
    spans: [VertebraSpan; 8],
}

/// (name, build, body height, disc height above it, width, depth, transverse reach),
/// mm, for an average adult man, from the second sacral segment up to T9.
type Row = (Option<Vertebra>, Build, f64, f64, f64, f64, f64);
const TABLE: [Row; 11] = [
    (None, Build::Sacral, 60.0, 0.0, 50.0, 34.0, 0.0),
    (
        Some(Vertebra::S1),
        Build::Sacral,
        30.0,
        9.0,
        52.0,
        35.0,
        0.0,
    ),
    (
        Some(Vertebra::L5),
        Build::Lumbar,
        29.0,
        10.0,
        51.0,
        34.0,
        20.0,
    ),
    (
        Some(Vertebra::L4),
        Build::Lumbar,
        30.0,
        10.0,
        49.0,
        34.0,
        24.0,
    ),
    (
        Some(Vertebra::L3),
        Build::Lumbar,
        30.0,
        9.5,
        47.0,
        33.0,
        28.0,
    ),
    (
        Some(Vertebra::L2),
        Build::Lumbar,
        29.5,
        9.0,
        45.0,
        32.0,
        24.0,
    ),
    (
        Some(Vertebra::L1),
        Build::Lumbar,
        28.5,
        8.5,
        43.0,
        31.0,
        16.0,
    ),
    (
        Some(Vertebra::T12),
        Build::Thoracic,
        28.0,
        8.0,
        40.0,
        29.0,
        0.0,
    ),
    (
        Some(Vertebra::T11),
        Build::Thoracic,
        27.5,
        8.0,
        38.0,
        28.0,
        0.0,
    ),
    (None, Build::Thoracic, 26.0, 7.0, 36.0, 27.0, 0.0),
    (None, Build::Thoracic, 25.0, 7.0, 34.0, 26.0, 0.0),
];

impl Column {
    /// Lays the column out with the centre of L3's body at `l3_centre` (mm).
    /// `height_scale` and `width_scale` size the whole column; each body and disc is
    /// then varied a little more by `rng`.
    pub fn new(l3_centre: f64, height_scale: f64, width_scale: f64, rng: &mut Rng) -> Column {
        let mut pieces = Vec::with_capacity(2 * TABLE.len());
        let mut z = 0.0;
        for (i, &(named, build, body, disc, width, depth, reach)) in TABLE.iter().enumerate() {
            let body = body * height_scale * rng.jitter(1.0, 0.015);
            let width = width * width_scale * rng.jitter(1.0, 0.03);
            let depth = depth * width_scale * rng.jitter(1.0, 0.03);
            let reach = reach * width_scale * rng.jitter(1.0, 0.1);
            pieces.push(Piece {
                bottom: z,
                top: z + body,
                is_disc: false,
                named,
                named_below: None,
                build,
                width,
                depth,
                transverse_reach: reach,
            });
            z += body;
            if let Some(&(upper, upper_build, ..)) = TABLE.get(i + 1) {
                let disc = disc * height_scale * rng.jitter(1.0, 0.06);
                pieces.push(Piece {
                    bottom: z,
                    top: z + disc,
                    is_disc: true,
                    named: upper,
                    named_below: named,
                    build: upper_build,
                    width,
                    depth,
                    transverse_reach: 0.0,
                });
                z += disc;
            }
        }
        // Shift so that L3's centre lands where it was asked to.
        let l3 = pieces
            .iter()
            .find(|p| !p.is_disc && p.named == Some(Vertebra::L3))
            .map_or(0.0, |p| (p.bottom + p.top) / 2.0);
        for p in &mut pieces {
            p.bottom += l3_centre - l3;
            p.top += l3_centre - l3;
        }
        // The lowest piece stands for the rest of the sacrum, the highest for the
        // thoracic spine above: both reach as far as any grid does.
        if let Some(first) = pieces.first_mut() {
            first.bottom = f64::NEG_INFINITY;
        }
        if let Some(last) = pieces.last_mut() {
            last.top = f64::INFINITY;
        }
        let mut spans = Vertebra::FROM_SACRUM.map(|vertebra| VertebraSpan {
            vertebra,
            inferior_mm: 0.0,
            superior_mm: 0.0,
        });
        for p in pieces.iter().filter(|p| !p.is_disc) {
            if let Some(v) = p.named {
                spans[usize::from(v.rank_from_sacrum())] = VertebraSpan {
                    vertebra: v,
                    inferior_mm: p.bottom,
                    superior_mm: p.top,
                };
            }
        }
        Column { pieces, spans }
    }

    /// The body or disc at height `z`.
    pub fn at(&self, z: f64) -> &Piece {
        let i = self.pieces.partition_point(|p| p.top <= z);
        &self.pieces[i.min(self.pieces.len() - 1)]
    }

    /// The level label at `z`: `None` outside T11 to S1 (and at the T10–T11 disc).
    pub fn level(&self, z: f64) -> Option<Level> {
        let piece = self.at(z);
        if piece.is_disc {
            Some(Level::Disc {
                upper: piece.named?,
                lower: piece.named_below?,
            })
        } else {
            piece.named.map(Level::Body)
        }
    }

    /// The body spans of the named vertebrae, from S1 up.
    pub fn spans(&self) -> &[VertebraSpan; 8] {
        &self.spans
    }

    /// The body span of one named vertebra.
    pub fn span(&self, vertebra: Vertebra) -> VertebraSpan {
        self.spans[usize::from(vertebra.rank_from_sacrum())]
    }
}
