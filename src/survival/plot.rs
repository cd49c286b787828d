//! The Kaplan–Meier plot as a standalone SVG with the numbers at risk under it, the way
//! survival papers print it (one step line per group, censoring ticks, optional dashed
//! confidence limits). Written by hand rather than with `plotters`: its text needs a
//! font engine (and, in WebAssembly, a shipped font) even for SVG, and this plot is a
//! few lines and labels. Presentation attributes only, no `style`: the page's
//! Content-Security-Policy forbids inline styles.

use std::fmt::Write as _;

use super::km::{ConfType, KaplanMeier};

/// Okabe–Ito colours: told apart with the common colour-vision deficiencies.
const COLOURS: [&str; 8] = [
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl KmPlot<'_> {
    pub fn svg(&self) -> String {
        let t_max = self
            .ticks
            .iter()
            .copied()
            .chain(
                self.groups
                    .iter()
                    .filter_map(|(_, km)| km.times.last().copied()),
            )
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let inner = WIDTH - LEFT - RIGHT;
        let x = |t: f64| LEFT + inner * (t / t_max).clamp(0.0, 1.0);
        let y = |s: f64| TOP + PLOT_HEIGHT * (1.0 - s.clamp(0.0, 1.0));
        let axis_y = TOP + PLOT_HEIGHT;
        let table_top = axis_y + 44.0;
        let height = table_top + ROW * (self.groups.len() as f64 + 1.0) + 8.0;
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12" role="img" aria-label="Kaplan–Meier survival curves">"#
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
        // One step line per group, with a tick at each censoring.
        for (g, (label, km)) in self.groups.iter().enumerate() {
            let colour = COLOURS[g % COLOURS.len()];
            let steps = |values: &dyn Fn(usize) -> Option<f64>| {
                let mut d = format!("M{:.1} {:.1}", x(0.0), y(1.0));
                for k in 0..km.times.len() {
                    match values(k) {
                        Some(v) => {
                            let _ = write!(d, "H{:.1}V{:.1}", x(km.times[k]), y(v));
                        }
                        None => break,
                    }
                }
                d
            };
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"><title>{}</title></path>"#,
                steps(&|k| Some(km.surv[k])),
                escape(label)
            );
            if let Some((conf, level)) = self.interval {
                for pick in [0, 1] {
                    let limit = |k: usize| {
                        let (lo, hi) =
                            super::km::interval(km.surv[k], km.greenwood[k], conf, level);
                        if pick == 0 {
                            lo
                        } else {
                            hi
                        }
                    };
                    let _ = write!(
                        out,
                        r#"<path d="{}" fill="none" stroke="{colour}" stroke-dasharray="4 3"/>"#,
                        steps(&limit)
                    );
                }
            }
            for k in (0..km.times.len()).filter(|&k| km.n_censor[k] > 0) {
                let (cx, cy) = (x(km.times[k]), y(km.surv[k]));
                let _ = write!(
                    out,
                    r#"<line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}"/>"#,
                    cy - 4.0,
                    cy + 4.0
                );
            }
        }
        // Numbers at risk.
        let _ = write!(
            out,
            r#"<text x="4" y="{table_top}" font-weight="bold">Number at risk</text>"#
        );
        for (g, (label, km)) in self.groups.iter().enumerate() {
            let row_y = table_top + ROW * (g as f64 + 1.0);
            let _ = write!(
                out,
                r#"<text x="4" y="{row_y}" fill="{}">{}</text>"#,
                COLOURS[g % COLOURS.len()],
                escape(&shorten(label))
            );
            for &t in &self.ticks {
                let n = km.at(t, ConfType::Log, 0.95).n_risk;
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
