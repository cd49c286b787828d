//! The figures of the statistics view as standalone SVG: step curves (Kaplan–Meier
//! survival, cumulative incidence) with the numbers at risk under them, the way
//! survival papers print them (one step line per group, censoring ticks, optional dashed
//! confidence limits); calibration, forest and Schoenfeld-residual plots. Written by
//! hand rather than with `plotters`: its text needs a font engine (and, in
//! WebAssembly, a shipped font) even for SVG, and each of these plots is a few lines
//! and labels. Presentation attributes only, no `style`: the page's
//! Content-Security-Policy forbids inline styles.

use std::fmt::Write as _;

use super::km::{ConfType, KaplanMeier};

/// Okabe–Ito colours: told apart with the common colour-vision deficiencies.
pub(crate) const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

const WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const ROW: f64 = 18.0;

/// What to draw: one curve per group, read at `ticks` for the axis and the table.
pub struct KmPlot<'a> {
    pub groups: Vec<(String, &'a KaplanMeier)>,
    pub ticks: Vec<f64>,
    pub time_label: String,
    /// Dashed confidence limits on this scale and level, if wanted.
    pub interval: Option<(ConfType, f64)>,
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl KmPlot<'_> {
    pub fn svg(&self) -> String {
        let curves = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, (label, km))| {
                let limits = self.interval.map(|(conf, level)| {
                    (0..km.times.len())
                        .map(|k| super::km::interval(km.surv[k], km.greenwood[k], conf, level))
                        .unzip()
                });
                Steps {
                    label: label.clone(),
                    colour: g,
                    dashed: false,
                    start: 1.0,
                    times: km.times.clone(),
                    values: km.surv.clone(),
                    limits,
                    censored: (0..km.times.len())
                        .filter(|&k| km.n_censor[k] > 0)
                        .map(|k| (km.times[k], km.surv[k]))
                        .collect(),
                }
            })
            .collect();
        StepPlot {
            curves,
            at_risk: self
                .groups
                .iter()
                .map(|(label, km)| at_risk(label, km, &self.ticks))
                .collect(),
            ticks: self.ticks.clone(),
            time_label: self.time_label.clone(),
            title: "Kaplan–Meier survival curves",
        }
        .svg()
    }
}

/// A group's row of the numbers at risk under a plot: those followed to each tick.
pub fn at_risk(label: &str, km: &KaplanMeier, ticks: &[f64]) -> (String, Vec<usize>) {
    let counts = ticks
        .iter()
        .map(|&t| km.at(t, ConfType::Log, 0.95).n_risk)
        .collect();
    (label.to_owned(), counts)
}

/// A curve's lower and upper confidence limits after each step (`None`: not defined
/// there, and the dashed line stops).
pub type Limits = (Vec<Option<f64>>, Vec<Option<f64>>);

/// One step line: its value after each time, its limits and its censoring ticks.
pub struct Steps {
    pub label: String,
    /// Index into the Okabe–Ito colours.
    pub colour: usize,
    pub dashed: bool,
    /// The value before the first step (1 for survival, 0 for an incidence).
    pub start: f64,
    pub times: Vec<f64>,
    pub values: Vec<f64>,
    /// Lower and upper limits after each step, drawn dashed and thin.
    pub limits: Option<Limits>,
    /// Where to draw a censoring tick (time, value).
    pub censored: Vec<(f64, f64)>,
}

/// Step curves on a 0–1 scale over time, with the numbers at risk under them.
pub struct StepPlot {
    pub curves: Vec<Steps>,
    pub ticks: Vec<f64>,
    pub time_label: String,
    pub title: &'static str,
    /// Rows under the plot: a label and the number at risk at each tick.
    pub at_risk: Vec<(String, Vec<usize>)>,
}

impl StepPlot {
    pub fn svg(&self) -> String {
        let t_max = self
            .ticks
            .iter()
            .copied()
            .chain(self.curves.iter().filter_map(|c| c.times.last().copied()))
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let inner = WIDTH - LEFT - RIGHT;
        let x = |t: f64| LEFT + inner * (t / t_max).clamp(0.0, 1.0);
        let y = |s: f64| TOP + PLOT_HEIGHT * (1.0 - s.clamp(0.0, 1.0));
        let axis_y = TOP + PLOT_HEIGHT;
        let table_top = axis_y + 44.0;
        let height = table_top + ROW * (self.at_risk.len() as f64 + 1.0) + 8.0;
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12" role="img" aria-label="{}">"#,
            self.title
        );
        // Axes, gridlines and tick labels.
        let _ = write!(
            out,
            r##"<path d="M{LEFT} {TOP}V{axis_y}H{}" fill="none" stroke="#444"/>"##,
            WIDTH - RIGHT
        );
        for k in 0..=4 {
            let s = f64::from(k) / 4.0;
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{0}" y1="{1:.1}" y2="{1:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{s:.2}</text>"##,
                WIDTH - RIGHT,
                y(s),
                LEFT - 6.0,
                y(s) + 4.0
            );
        }
        for &t in &self.ticks {
            let _ = write!(
                out,
                r##"<line x1="{0:.1}" x2="{0:.1}" y1="{axis_y}" y2="{1}" stroke="#444"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"##,
                x(t),
                axis_y + 4.0,
                axis_y + 18.0,
                number(t)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + inner / 2.0,
            axis_y + 34.0,
            escape(&self.time_label)
        );
        for curve in &self.curves {
            let colour = COLOURS[curve.colour % COLOURS.len()];
            let steps = |values: &dyn Fn(usize) -> Option<f64>| {
                let mut d = format!("M{:.1} {:.1}", x(0.0), y(curve.start));
                for (k, &t) in curve.times.iter().enumerate() {
                    match values(k) {
                        Some(v) => {
                            let _ = write!(d, "H{:.1}V{:.1}", x(t), y(v));
                        }
                        None => break,
                    }
                }
                d
            };
            let dash = if curve.dashed {
                r#" stroke-dasharray="8 4""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}><title>{}</title></path>"#,
                steps(&|k| Some(curve.values[k])),
                escape(&curve.label)
            );
            if let Some((lower, upper)) = &curve.limits {
                for limit in [lower, upper] {
                    let _ = write!(
                        out,
                        r#"<path d="{}" fill="none" stroke="{colour}" stroke-dasharray="4 3"/>"#,
                        steps(&|k| limit[k])
                    );
                }
            }
            for &(t, v) in &curve.censored {
                let (cx, cy) = (x(t), y(v));
                let _ = write!(
                    out,
                    r#"<line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}"/>"#,
                    cy - 4.0,
                    cy + 4.0
                );
            }
        }
        let _ = write!(
            out,
            r#"<text x="4" y="{table_top}" font-weight="bold">Number at risk</text>"#
        );
        for (g, (label, counts)) in self.at_risk.iter().enumerate() {
            let row_y = table_top + ROW * (g as f64 + 1.0);
            let _ = write!(
                out,
                r#"<text x="4" y="{row_y}" fill="{}">{}</text>"#,
                COLOURS[g % COLOURS.len()],
                escape(&shorten(label))
            );
            for (&t, n) in self.ticks.iter().zip(counts) {
                let _ = write!(
                    out,
                    r#"<text x="{:.1}" y="{row_y}" text-anchor="middle" class="at-risk">{n}</text>"#,
                    x(t)
                );
            }
        }
        out.push_str("</svg>");
        out
    }
}

/// One coefficient's scaled Schoenfeld residuals against the time scale, with the
/// smooth and its ±2 SE band dashed, the fitted coefficient dotted and zero in grey,
/// as `plot(cox.zph(fit))`: a flat smooth along the dotted line means a constant effect.
/// `times` labels the axis (the follow-up time at each tick of g).
pub fn schoenfeld_svg(
    name: &str,
    g: &[f64],
    times: &[f64],
    residuals: &[f64],
    coef: f64,
    smooth: &super::zph::Smooth,
) -> String {
    const SIZE: f64 = 240.0;
    let inner = WIDTH - LEFT - RIGHT;
    let lower = smooth.fit.iter().zip(&smooth.band).map(|(f, b)| f - b);
    let upper = smooth.fit.iter().zip(&smooth.band).map(|(f, b)| f + b);
    let (lo, hi) = residuals
        .iter()
        .copied()
        .chain(lower)
        .chain(upper)
        .chain([0.0, coef])
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let g_max = g.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
    let x = |v: f64| LEFT + inner * (v / g_max).clamp(0.0, 1.0);
    let y = |v: f64| TOP + SIZE * (1.0 - (v - lo) / span);
    let height = TOP + SIZE + 44.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12" role="img" aria-label="Scaled Schoenfeld residuals of {0}"><title>β(t) of {0}</title><path d="M{LEFT} {TOP}V{1}H{2}" fill="none" stroke="#444"/>"##,
        escape(name),
        TOP + SIZE,
        WIDTH - RIGHT
    );
    // Enough decimals to tell the gridlines apart.
    let decimals = (1.0 - (span / 4.0).log10().floor()).clamp(0.0, 6.0) as usize;
    for k in 0..=4 {
        let v = lo + span * f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.decimals$}</text>"##,
            LEFT - 6.0,
            y(v) + 4.0,
        );
        // The follow-up time where g first reaches this share of its range.
        let at = g_max * f64::from(k) / 4.0;
        if let Some(t) = g.iter().position(|&v| v >= at).map(|i| times[i]) {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                x(at),
                TOP + SIZE + 16.0,
                number(t)
            );
        }
    }
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">Follow-up (spaced as the events accrue: 1 − KM)</text>"##,
        LEFT + inner / 2.0,
        TOP + SIZE + 34.0
    );
    for (v, colour, dash) in [
        (0.0, "#bbb", ""),
        (coef, "#444", r#" stroke-dasharray="2 3""#),
    ] {
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{1:.1}" y2="{1:.1}" stroke="{colour}"{dash}/>"##,
            WIDTH - RIGHT,
            y(v)
        );
    }
    for (gv, r) in g.iter().zip(residuals).filter(|(_, r)| r.is_finite()) {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2" fill="#999" class="residual"/>"##,
            x(*gv),
            y(*r)
        );
    }
    let line = |values: &mut dyn Iterator<Item = f64>| {
        let mut d = String::new();
        for (k, (gv, v)) in smooth.x.iter().zip(values).enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if k == 0 { "M" } else { "L" },
                x(*gv),
                y(v)
            );
        }
        d
    };
    let _ = write!(
        out,
        r##"<path d="{}" fill="none" stroke="{}" stroke-width="2"/>"##,
        line(&mut smooth.fit.iter().copied()),
        COLOURS[0]
    );
    for sign in [-1.0, 1.0] {
        let _ = write!(
            out,
            r##"<path d="{}" fill="none" stroke="{}" stroke-dasharray="4 3"/>"##,
            line(
                &mut smooth
                    .fit
                    .iter()
                    .zip(&smooth.band)
                    .map(|(f, b)| f + sign * b)
            ),
            COLOURS[0]
        );
    }
    out.push_str("</svg>");
    out
}

/// One group of a calibration plot: mean predicted risk against observed risk with
/// its interval (where the group may be shown).
pub struct CalibrationPoint {
    pub predicted: f64,
    pub observed: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// The calibration plot of groups by predicted risk at one horizon (observed 1 − KM
/// with its interval against mean predicted risk; the diagonal is perfect
/// calibration), as TRIPOD's explanation (Collins et al., BMJ 2015) asks reports to show.
pub fn calibration_svg(
    points: &[CalibrationPoint],
    smooth: &[super::calibration::CurvePoint],
    title: &str,
) -> String {
    const SIZE: f64 = 320.0;
    let top = points
        .iter()
        .flat_map(|p| [p.predicted, p.observed, p.upper.unwrap_or(0.0)])
        .chain(smooth.iter().flat_map(|p| [p.predicted, p.observed]))
        .fold(0.1_f64, f64::max);
    // The axes end at the next tenth above every point, the same on both.
    let end = ((top * 10.0).ceil() / 10.0).min(1.0);
    let at = |v: f64| SIZE * (v / end).clamp(0.0, 1.0);
    let (x, y) = (|v: f64| LEFT + at(v), |v: f64| TOP + SIZE - at(v));
    let (width, height) = (LEFT + SIZE + RIGHT, TOP + SIZE + 44.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="12" role="img" aria-label="{}"><title>{0}</title>"##,
        escape(title)
    );
    let _ = write!(
        out,
        r##"<path d="M{LEFT} {TOP}V{0}H{1}" fill="none" stroke="#444"/><line x1="{LEFT}" y1="{0}" x2="{1}" y2="{TOP}" stroke="#999" stroke-dasharray="4 3"/>"##,
        TOP + SIZE,
        LEFT + SIZE
    );
    for k in 0..=4 {
        let v = end * f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.2}</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{v:.2}</text>"##,
            LEFT - 6.0,
            y(v) + 4.0,
            x(v),
            TOP + SIZE + 16.0
        );
    }
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">Predicted risk</text><text x="12" y="{:.1}" text-anchor="middle" transform="rotate(-90 12 {2:.1})">Observed risk (1 − Kaplan–Meier)</text>"##,
        LEFT + SIZE / 2.0,
        TOP + SIZE + 34.0,
        TOP + SIZE / 2.0
    );
    if !smooth.is_empty() {
        let mut d = String::new();
        for (k, p) in smooth.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if k == 0 { "M" } else { "L" },
                x(p.predicted),
                y(p.observed)
            );
        }
        let _ = write!(
            out,
            r##"<path d="{d}" fill="none" stroke="{}" stroke-width="2" class="smooth"><title>Smoothed calibration (Austin et al. 2020)</title></path>"##,
            COLOURS[1]
        );
    }
    for p in points {
        let (cx, cy) = (x(p.predicted), y(p.observed));
        if let (Some(lo), Some(hi)) = (p.lower, p.upper) {
            let _ = write!(
                out,
                r##"<line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="{}"/>"##,
                y(lo),
                y(hi),
                COLOURS[0]
            );
        }
        let _ = write!(
            out,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="4" fill="{}"/>"##,
            COLOURS[0]
        );
    }
    out.push_str("</svg>");
    out
}

/// One threshold of a decision curve.
pub struct NetBenefitPoint {
    pub threshold: f64,
    pub model: f64,
    pub treat_all: f64,
}

/// The decision curve (Vickers & Elkin, Med Decis Making 2006; the survival version of
/// `dcurves::dca`): net benefit of treating by the model against the risk threshold,
/// beside treating everyone (dashed) and no one (grey, zero). The axis stops at −0.05,
/// as dcurves' plot does, so that treat-all's steep fall does not flatten the rest.
pub fn decision_curve_svg(points: &[NetBenefitPoint], title: &str) -> String {
    const W: f64 = 420.0;
    const H: f64 = 260.0;
    const FLOOR: f64 = -0.05;
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let (t0, t1) = (first.threshold, last.threshold.max(first.threshold + 1e-9));
    let top = points
        .iter()
        .flat_map(|p| [p.model, p.treat_all])
        .filter(|v| v.is_finite())
        .fold(0.05_f64, f64::max);
    let x = |t: f64| LEFT + W * (t - t0) / (t1 - t0);
    let y = |v: f64| TOP + H * (1.0 - (v.clamp(FLOOR, top) - FLOOR) / (top - FLOOR));
    let (width, height) = (LEFT + W + RIGHT, TOP + H + 44.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="12" role="img" aria-label="{0}"><title>{0}</title><path d="M{LEFT} {TOP}V{1}H{2}" fill="none" stroke="#444"/>"##,
        escape(title),
        TOP + H,
        LEFT + W
    );
    for k in 0..=4 {
        let v = FLOOR + (top - FLOOR) * f64::from(k) / 4.0;
        let t = t0 + (t1 - t0) * f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{v:.2}</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{:.0} %</text>"##,
            LEFT - 6.0,
            y(v) + 4.0,
            x(t),
            TOP + H + 16.0,
            100.0 * t
        );
    }
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">Risk threshold</text><text x="12" y="{:.1}" text-anchor="middle" transform="rotate(-90 12 {2:.1})">Net benefit</text><line x1="{LEFT}" x2="{3}" y1="{4:.1}" y2="{4:.1}" stroke="#bbb"><title>Treat none</title></line>"##,
        LEFT + W / 2.0,
        TOP + H + 34.0,
        TOP + H / 2.0,
        LEFT + W,
        y(0.0)
    );
    let line = |value: &dyn Fn(&NetBenefitPoint) -> f64| {
        let mut d = String::new();
        for (k, p) in points.iter().filter(|p| value(p).is_finite()).enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if k == 0 { "M" } else { "L" },
                x(p.threshold),
                y(value(p))
            );
        }
        d
    };
    let _ = write!(
        out,
        r##"<path d="{}" fill="none" stroke="#444" stroke-dasharray="6 4" class="treat-all"><title>Treat all</title></path><path d="{}" fill="none" stroke="{}" stroke-width="2" class="model"><title>The model</title></path>"##,
        line(&|p| p.treat_all),
        line(&|p| p.model),
        COLOURS[0]
    );
    out.push_str("</svg>");
    out
}

/// A forest plot of a pooled figure: each centre's estimate and 95 % interval, the
/// pooled estimate as a diamond over its interval, the prediction interval as a line
/// under it, and `reference` (no effect, or perfect calibration) dashed.
pub fn forest_svg(p: &super::pooling::Pooled, title: &str, reference: f64) -> String {
    const LABELS: f64 = 150.0;
    const PLOT: f64 = 320.0;
    let rows = p.centres.len() as f64 + 2.0;
    let (width, height) = (LABELS + PLOT + 180.0, TOP + ROW * rows + 40.0);
    let values = p
        .centres
        .iter()
        .flat_map(|c| [c.lower, c.upper])
        .chain([p.lower, p.upper, reference])
        .chain(p.prediction.iter().flat_map(|&(lo, hi)| [lo, hi]))
        .filter(|v| v.is_finite());
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| LABELS + PLOT * ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="12" role="img" aria-label="{0}"><title>{0}</title>"##,
        escape(title)
    );
    let bottom = TOP + ROW * rows;
    let _ = write!(
        out,
        r##"<line x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{bottom}" stroke="#999" stroke-dasharray="4 3"/><line x1="{LABELS}" x2="{1}" y1="{bottom}" y2="{bottom}" stroke="#444"/>"##,
        x(reference),
        LABELS + PLOT
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{v:.2}</text>"##,
            x(v),
            bottom + 16.0
        );
    }
    let figure = |e: f64, l: f64, u: f64| format!("{e:.3} ({l:.3}–{u:.3})");
    for (i, c) in p.centres.iter().enumerate() {
        let y = TOP + ROW * (i as f64 + 0.5);
        let _ = write!(
            out,
            r##"<text x="4" y="{:.1}">{}</text><line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#444"/><rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            y + 4.0,
            escape(&c.label),
            x(c.lower),
            x(c.upper),
            x(c.estimate) - 4.0,
            y - 4.0,
            COLOURS[0],
            LABELS + PLOT + 8.0,
            y + 4.0,
            figure(c.estimate, c.lower, c.upper)
        );
    }
    let y = TOP + ROW * (p.centres.len() as f64 + 0.8);
    let _ = write!(
        out,
        r##"<text x="4" y="{:.1}" font-weight="bold">Pooled (REML, HKSJ)</text><path d="M{:.1} {y:.1}L{:.1} {:.1}L{:.1} {y:.1}L{:.1} {:.1}Z" fill="{}"/><text x="{:.1}" y="{:.1}" font-weight="bold">{}</text>"##,
        y + 4.0,
        x(p.lower),
        x(p.estimate),
        y - 6.0,
        x(p.upper),
        x(p.estimate),
        y + 6.0,
        COLOURS[1],
        LABELS + PLOT + 8.0,
        y + 4.0,
        figure(p.estimate, p.lower, p.upper)
    );
    if let Some((lo, hi)) = p.prediction {
        let y = y + ROW;
        let _ = write!(
            out,
            r##"<text x="4" y="{:.1}">Prediction interval</text><line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{lo:.3}–{hi:.3}</text>"##,
            y + 4.0,
            x(lo),
            x(hi),
            COLOURS[1],
            LABELS + PLOT + 8.0,
            y + 4.0
        );
    }
    out.push_str("</svg>");
    out
}

/// A group label short enough for the table's first column.
fn shorten(label: &str) -> String {
    if label.chars().count() <= 8 {
        label.to_string()
    } else {
        label.chars().take(7).chain(['…']).collect()
    }
}

/// A tick label: whole numbers without decimals.
fn number(t: f64) -> String {
    if t.fract() == 0.0 {
        format!("{t:.0}")
    } else {
        format!("{t}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibration_plot_puts_perfect_calibration_on_the_diagonal() {
        let point = |v: f64| CalibrationPoint {
            predicted: v,
            observed: v,
            lower: Some(v / 2.0),
            upper: Some(v * 1.5),
        };
        let svg = calibration_svg(&[point(0.1), point(0.3)], &[], "At <5 years>");
        assert!(svg.contains("At &lt;5 years&gt;"));
        // Axes end at 0.5 (the highest upper limit, 0.45, rounded up): a point at 0.3 sits
        // 3/5 of the way along both axes, i.e. on the diagonal.
        let x = LEFT + 320.0 * 0.6;
        let y = TOP + 320.0 * 0.4;
        assert!(
            svg.contains(&format!(r#"cx="{x:.1}" cy="{y:.1}""#)),
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn a_decision_curve_draws_the_model_and_treat_all_within_its_frame() {
        let points: Vec<NetBenefitPoint> = [0.05, 0.25, 0.5]
            .into_iter()
            .map(|t| NetBenefitPoint {
                threshold: t,
                model: 0.2 - t / 4.0,
                treat_all: 0.25 - 1.5 * t,
            })
            .collect();
        let svg = decision_curve_svg(&points, "At <5 years>");
        assert!(svg.contains("At &lt;5 years&gt;") && !svg.contains("style="));
        assert_eq!(svg.matches(r#"class="model""#).count(), 1);
        // Treat all falls to −0.5, drawn at the −0.05 floor: no point below the frame.
        let bottom = TOP + 260.0;
        let treat_all = svg.split(r#"class="treat-all""#).next().unwrap_or("");
        let d = treat_all
            .rsplit("d=\"")
            .next()
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("");
        let ys: Vec<f64> = d
            .split(['M', 'L'])
            .filter_map(|p| p.split_whitespace().nth(1)?.parse().ok())
            .collect();
        assert_eq!(ys.len(), 3);
        assert!(ys.iter().all(|&y| y <= bottom + 1e-9), "{ys:?}");
        assert!(decision_curve_svg(&[], "none").is_empty());
    }

    #[test]
    fn draws_each_group_with_its_numbers_at_risk() {
        let a = KaplanMeier::fit(
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[true, false, true, true, false],
        );
        let b = KaplanMeier::fit(&[2.0, 4.0, 6.0], &[true, true, false]);
        let plot = KmPlot {
            groups: vec![("A & <B>".into(), &a), ("control group".into(), &b)],
            ticks: vec![0.0, 2.0, 4.0, 6.0],
            time_label: "days".into(),
            interval: Some((ConfType::LogLog, 0.95)),
        };
        let svg = plot.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(svg.contains("A &amp; &lt;B&gt;") && !svg.contains("<B>"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
        // Numbers at risk: group A at 0, 2, 4, 6 days is 5, 4, 2, 0.
        let at_risk: Vec<&str> = svg
            .split(r#"class="at-risk">"#)
            .skip(1)
            .map(|s| s.split('<').next().unwrap_or(""))
            .collect();
        assert_eq!(at_risk, ["5", "4", "2", "0", "3", "3", "2", "1"]);
        assert_eq!(svg.matches("stroke-width=\"2\"").count(), 2);
        assert_eq!(svg.matches("stroke-dasharray").count(), 4);
    }
}
