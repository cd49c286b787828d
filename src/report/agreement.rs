//! The agreement study's outputs, the same from the command line and the page: a JSON of
//! the aggregate figures (keys fixed by the study's protocol), Bland–Altman plots as
//! standalone SVG, and a printable HTML report that cites how every figure was computed.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::agree::calls::CallAgreement;
use crate::agree::case::{CaseAgreement, Cutoffs, MeasureAgreement, Summary};
use crate::agree::session::Failed;
use crate::agree::AgreementError;
use crate::survival::plot::{escape, COLOURS};

/// Everything one agreement run produced, with what it was run on.
pub struct AgreementReport<'a> {
    pub cases: &'a [CaseAgreement],
    pub failed: &'a [Failed],
    pub summary: &'a Summary,
    /// Who made the automatic masks ("sarcoscope-l3-unet 0.1.0 on CPU") or where they
    /// were read from.
    pub automatic: &'a str,
    pub cutoffs: Cutoffs,
    /// When the report was made (as the page or the command line says it).
    pub made_at: &'a str,
}

/// How each figure is computed, as printed under the report (and checked against R in
/// `tests/agreement.rs`).
const METHODS: [(&str, &str); 6] = [
    ("Dice, Jaccard", "Dice, Ecology 1945; Jaccard 1912: overlap of the two masks per tissue"),
    ("HD95", "95th percentile of outline-to-outline distances, both directions pooled (MedPy hd95)"),
    ("Bland–Altman", "Bland & Altman, Lancet 1986 (bias ± 1.96 SD); CIs Bland & Altman, Stat Methods Med Res 1999, as BlandAltmanLeh::bland.altman.stats"),
    ("ICC", "Shrout & Fleiss 1979, McGraw & Wong 1996: ICC(2,1) two-way random, absolute agreement, single rater; ICC(3,1) two-way mixed, consistency; as psych::ICC"),
    ("Lin's CCC", "Lin, Biometrics 1989; CI by Fisher's z, as epiR::epi.ccc"),
    ("Cohen's kappa", "Cohen 1960; variance Fleiss, Cohen & Everitt 1969, as psych::cohen.kappa"),
];

/// A figure, or null with the reason beside it.
fn figure<T>(value: &Result<T, AgreementError>, f: impl FnOnce(&T) -> Value) -> (Value, Value) {
    match value {
        Ok(v) => (f(v), Value::Null),
        Err(e) => (Value::Null, Value::String(e.to_string())),
    }
}

fn measure_json(m: &MeasureAgreement) -> Value {
    let ba = &m.bland_altman;
    json!({
        "cases": ba.cases, "bias": ba.bias, "bias_lower": ba.bias_ci.lower, "bias_upper": ba.bias_ci.upper,
        "loa_lower": ba.loa_lower, "loa_upper": ba.loa_upper,
        "icc_2_1": m.icc.icc_2_1.icc, "icc_2_1_lower": m.icc.icc_2_1.ci.lower, "icc_2_1_upper": m.icc.icc_2_1.ci.upper,
        "icc_3_1": m.icc.icc_3_1.icc, "icc_3_1_lower": m.icc.icc_3_1.ci.lower, "icc_3_1_upper": m.icc.icc_3_1.ci.upper,
        "ccc": m.concordance.ccc, "ccc_lower": m.concordance.ci.lower, "ccc_upper": m.concordance.ci.upper,
    })
}

fn call_json(c: &CallAgreement) -> Value {
    json!({
        "cases": c.cases, "kappa": c.kappa, "kappa_lower": c.ci.lower, "kappa_upper": c.ci.upper,
        "sensitivity": c.sensitivity, "specificity": c.specificity,
        "both_yes": c.both_yes, "auto_only": c.test_only, "reference_only": c.reference_only, "both_no": c.both_no,
    })
}

impl AgreementReport<'_> {
    /// The per-case rows and the aggregate figures: `cases` (one row per case and
    /// tissue), `sma`, `smi`, `muscle_hu` (null with `*_unavailable` saying why),
    /// `sarcopenia_kappa`, the calls in full, the level, the failures.
    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .cases
            .iter()
            .flat_map(|c| {
                c.tissues.iter().map(move |(tissue, o)| {
                    json!({
                        "case": c.case, "tissue": tissue.key(), "dice": o.dice, "jaccard": o.jaccard,
                        "hd95_mm": o.hd95_mm, "area_auto_cm2": o.area_test_cm2, "area_ref_cm2": o.area_reference_cm2,
                    })
                })
            })
            .collect();
        let s = self.summary;
        let (sma, sma_reason) = figure(&s.sma, measure_json);
        let (smi, smi_reason) = figure(&s.smi, measure_json);
        let (hu, hu_reason) = figure(&s.muscle_hu, measure_json);
        let (kappa, kappa_reason) = figure(&s.sarcopenia, |k| json!(k.kappa));
        let (sarcopenia, _) = figure(&s.sarcopenia, call_json);
        let (myosteatosis, myosteatosis_reason) = figure(&s.myosteatosis, call_json);
        let (level, level_reason) = figure(&s.level, |l| json!(l));
        let tissues: serde_json::Map<String, Value> = s
            .tissues
            .iter()
            .map(|(t, summary)| (t.key().to_owned(), json!(summary)))
            .collect();
        json!({
            "cases": rows,
            "tissues": tissues,
            "sma": sma, "sma_unavailable": sma_reason,
            "smi": smi, "smi_unavailable": smi_reason,
            "muscle_hu": hu, "muscle_hu_unavailable": hu_reason,
            "sarcopenia_kappa": kappa, "sarcopenia_kappa_unavailable": kappa_reason,
            "sarcopenia": sarcopenia,
            "myosteatosis": myosteatosis, "myosteatosis_unavailable": myosteatosis_reason,
            "level": level, "level_unavailable": level_reason,
            "sarcopenia_cutoffs": self.cutoffs.smi.name(),
            "myosteatosis_cutoffs": self.cutoffs.myosteatosis.name(),
            "failed": self.failed,
            "automatic": self.automatic,
        })
    }

    /// A standalone, printable HTML page: nothing is fetched (no scripts, fonts or
    /// images from anywhere), the plots are inline SVG.
    pub fn html(&self) -> String {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sarcoscope agreement report</title>\
             <style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}}table{{border-collapse:collapse;margin:0.5rem 0 1.5rem}}\
             td,th{{border:1px solid #bbb;padding:0.2rem 0.5rem;text-align:right}}th:first-child,td:first-child{{text-align:left}}\
             .note{{color:#555;font-size:0.9rem}}@media print{{section{{break-inside:avoid}}}}</style></head><body>{}</body></html>",
            self.body_html()
        )
    }

    /// The report's content without a page around it: what the page shows in its
    /// agreement view (no styles inline: the page's stylesheet dresses it).
    pub fn body_html(&self) -> String {
        let s = self.summary;
        let mut out = String::new();
        let _ = write!(
            out,
            "<h1>Agreement of the automatic L3 measurement with readers' masks</h1>\
             <p class=\"note\">Made {} by Sarcoscope {}. Automatic masks: {}. {} cases compared, {} not compared.</p>",
            escape(self.made_at),
            env!("CARGO_PKG_VERSION"),
            escape(self.automatic),
            self.cases.len(),
            self.failed.len()
        );
        out.push_str("<section><h2>Overlap per tissue</h2><table><tr><th>Tissue</th><th>Cases</th><th>Dice, mean (SD)</th><th>HD95, median (mm)</th><th>Area difference, mean (%)</th></tr>");
        for (tissue, t) in &s.tissues {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
                tissue.name(),
                t.cases,
                number(t.dice_mean, 3),
                t.dice_sd
                    .map_or_else(String::new, |sd| format!(" ({sd:.3})")),
                number(t.hd95_median_mm, 1),
                number(t.area_difference_mean_pct, 1)
            );
        }
        out.push_str("</table><p class=\"note\">Area difference: (automatic − reader) / reader.</p></section>");

        out.push_str("<section><h2>Measurements</h2><table><tr><th>Measurement</th><th>Cases</th><th>Bias (95% CI)</th><th>Limits of agreement</th><th>ICC(2,1) (95% CI)</th><th>ICC(3,1) (95% CI)</th><th>Lin's CCC (95% CI)</th></tr>");
        let measures = [
            ("Skeletal muscle area (cm²)", &s.sma),
            ("Skeletal muscle index (cm²/m²)", &s.smi),
            ("Muscle attenuation (HU)", &s.muscle_hu),
        ];
        for (name, m) in measures {
            match m {
                Ok(m) => {
                    let ba = &m.bland_altman;
                    let _ = write!(
                        out,
                        "<tr><td>{name}</td><td>{}</td><td>{:.2} ({:.2} to {:.2})</td><td>{:.2} to {:.2}</td><td>{:.3} ({:.3}–{:.3})</td><td>{:.3} ({:.3}–{:.3})</td><td>{:.3} ({:.3}–{:.3})</td></tr>",
                        ba.cases, ba.bias, ba.bias_ci.lower, ba.bias_ci.upper, ba.loa_lower, ba.loa_upper,
                        m.icc.icc_2_1.icc, m.icc.icc_2_1.ci.lower, m.icc.icc_2_1.ci.upper,
                        m.icc.icc_3_1.icc, m.icc.icc_3_1.ci.lower, m.icc.icc_3_1.ci.upper,
                        m.concordance.ccc, m.concordance.ci.lower, m.concordance.ci.upper,
                    );
                }
                Err(e) => {
                    let _ = write!(
                        out,
                        "<tr><td>{name}</td><td colspan=\"6\">not given: {}</td></tr>",
                        escape(&e.to_string())
                    );
                }
            }
        }
        out.push_str("</table><p class=\"note\">Bias: automatic − reader.</p>");
        for (name, m) in measures {
            if let Ok(m) = m {
                out.push_str(&bland_altman_svg(name, m));
            }
        }
        out.push_str("</section>");

        let _ = write!(
            out,
            "<section><h2>Calls</h2><table><tr><th>Call</th><th>Cases</th><th>Both yes</th><th>Automatic only</th><th>Reader only</th><th>Both no</th><th>Cohen's κ (95% CI)</th><th>Sensitivity</th><th>Specificity</th></tr>"
        );
        let calls = [
            (
                format!("Sarcopenia — {}", self.cutoffs.smi.name()),
                &s.sarcopenia,
            ),
            (
                format!("Myosteatosis — {}", self.cutoffs.myosteatosis.name()),
                &s.myosteatosis,
            ),
        ];
        for (name, c) in &calls {
            match c {
                Ok(c) => {
                    let _ = write!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3} ({:.3} to {:.3})</td><td>{}</td><td>{}</td></tr>",
                        escape(name), c.cases, c.both_yes, c.test_only, c.reference_only, c.both_no,
                        c.kappa, c.ci.lower, c.ci.upper, number(c.sensitivity, 3), number(c.specificity, 3)
                    );
                }
                Err(e) => {
                    let _ = write!(
                        out,
                        "<tr><td>{}</td><td colspan=\"8\">not given: {}</td></tr>",
                        escape(name),
                        escape(&e.to_string())
                    );
                }
            }
        }
        let _ = write!(
            out,
            "</table><p class=\"note\">Cut-offs: {}; {}. Sensitivity and specificity of the automatic call against the reader's.</p></section>",
            escape(&self.cutoffs.smi.source().cite()),
            escape(&self.cutoffs.myosteatosis.source().cite())
        );

        out.push_str("<section><h2>L3 level</h2>");
        match &s.level {
            Ok(l) => {
                let _ = write!(
                    out,
                    "<p>Over {} cases the reader's slice was the automatic L3 in {}, within one slice in {}; distance mean {:.1} mm (signed, reader − automatic: {:.1} mm), largest {:.1} mm.</p>",
                    l.cases, l.same_slice, l.within_one_slice, l.mean_abs_mm, l.mean_mm, l.max_abs_mm
                );
            }
            Err(_) => out.push_str("<p>Not given: no reader's slice lay in a series the automatic L3 was searched in (a folder of single images has no level to search).</p>"),
        }
        out.push_str("</section>");

        out.push_str("<section><h2>Cases</h2><table><tr><th>Case</th><th>Muscle Dice</th><th>SMA automatic</th><th>SMA reader</th><th>SMI automatic</th><th>SMI reader</th><th>Level (slices)</th></tr>");
        for c in self.cases {
            let dice = c
                .tissues
                .iter()
                .find(|(t, _)| *t == crate::segment::TissueClass::SkeletalMuscle)
                .and_then(|(_, o)| o.dice);
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.case),
                number(dice, 3),
                c.auto.sma_cm2,
                c.reference.sma_cm2,
                number(c.auto.smi, 1),
                number(c.reference.smi, 1),
                c.level.map_or_else(|| "—".to_owned(), |l| format!("{:+}", l.slices))
            );
        }
        out.push_str("</table></section>");
        if !self.failed.is_empty() {
            out.push_str("<section><h2>Not compared</h2><ul>");
            for f in self.failed {
                let _ = write!(out, "<li>{}: {}</li>", escape(&f.case), escape(&f.reason));
            }
            out.push_str("</ul></section>");
        }
        out.push_str("<section><h2>Methods</h2><ul>");
        for (name, how) in METHODS {
            let _ = write!(out, "<li><b>{name}</b>: {}</li>", escape(how));
        }
        out.push_str("</ul></section>");
        out
    }
}

fn number(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
}

/// A Bland–Altman plot: each case's difference (automatic − reader) against the mean of
/// the two, with the bias (solid) and the limits of agreement (dashed).
pub fn bland_altman_svg(title: &str, m: &MeasureAgreement) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 300.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 150.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 44.0;
    let ba = &m.bland_altman;
    let points: Vec<(f64, f64)> = m
        .pairs
        .iter()
        .map(|&(a, r)| ((a + r) / 2.0, a - r))
        .collect();
    let range = |values: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let pad = ((hi - lo) * 0.08).max(1e-9);
        (lo - pad, hi + pad)
    };
    let (x_lo, x_hi) = range(&mut points.iter().map(|p| p.0));
    let (y_lo, y_hi) =
        range(
            &mut points
                .iter()
                .map(|p| p.1)
                .chain([ba.loa_lower, ba.loa_upper, 0.0]),
        );
    let inner_w = WIDTH - LEFT - RIGHT;
    let inner_h = HEIGHT - TOP - BOTTOM;
    let x = |v: f64| LEFT + inner_w * (v - x_lo) / (x_hi - x_lo);
    let y = |v: f64| TOP + inner_h * (1.0 - (v - y_lo) / (y_hi - y_lo));
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12" role="img" aria-label="Bland–Altman plot of {0}"><text x="{LEFT}" y="16" font-weight="bold">{0}</text><path d="M{LEFT} {TOP}V{1}H{2}" fill="none" stroke="#444"/>"##,
        escape(title),
        HEIGHT - BOTTOM,
        WIDTH - RIGHT
    );
    for k in 0..=4 {
        let f = f64::from(k) / 4.0;
        let (xv, yv) = (x_lo + f * (x_hi - x_lo), y_lo + f * (y_hi - y_lo));
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{yv:.1}</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{xv:.1}</text>"##,
            LEFT - 6.0,
            y(yv) + 4.0,
            x(xv),
            HEIGHT - BOTTOM + 16.0
        );
    }
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">Mean of automatic and reader</text><text x="14" y="{:.1}" text-anchor="middle" transform="rotate(-90 14 {2:.1})">Automatic − reader</text>"##,
        LEFT + inner_w / 2.0,
        HEIGHT - 8.0,
        TOP + inner_h / 2.0
    );
    for (value, label, dash) in [
        (0.0, None, ""),
        (ba.bias, Some("bias"), ""),
        (
            ba.loa_upper,
            Some("upper limit"),
            r#" stroke-dasharray="6 4""#,
        ),
        (
            ba.loa_lower,
            Some("lower limit"),
            r#" stroke-dasharray="6 4""#,
        ),
    ] {
        let colour = if label.is_some() { COLOURS[1] } else { "#bbb" };
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{0}" y1="{1:.1}" y2="{1:.1}" stroke="{colour}"{dash}/>"##,
            WIDTH - RIGHT,
            y(value)
        );
        if let Some(label) = label {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}">{label} {value:.2}</text>"##,
                WIDTH - RIGHT + 6.0,
                y(value) + 4.0
            );
        }
    }
    for (mean, difference) in &points {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}" class="case"/>"##,
            x(*mean),
            y(*difference),
            COLOURS[0]
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agree::case::{CaseAgreement, LevelDistance, Measured};

    fn case(name: &str, auto: f64, reference: f64) -> CaseAgreement {
        let measured = |sma: f64| Measured {
            sma_cm2: sma,
            smi: Some(sma / 3.0),
            muscle_hu: Some(35.0 + sma / 100.0),
            sarcopenia: Some(sma < 140.0),
            myosteatosis: None,
        };
        CaseAgreement {
            case: name.into(),
            tissues: vec![],
            auto: measured(auto),
            reference: measured(reference),
            level: LevelDistance::of(&[0.0, 3.0, 6.0], 1, 2),
        }
    }

    #[test]
    fn the_report_holds_every_figure_or_why_not() {
        let cases = [
            case("<a>", 150.0, 148.0),
            case("b", 130.0, 141.0),
            case("c", 160.0, 157.0),
            case("d", 120.0, 125.0),
        ];
        let summary = Summary::of(&cases);
        let failed = [Failed::new("e.tag", "cut short")];
        let report = AgreementReport {
            cases: &cases,
            failed: &failed,
            summary: &summary,
            automatic: "test model",
            cutoffs: Cutoffs::default(),
            made_at: "2026-12-02",
        };
        let json = report.json();
        assert_eq!(json["sma"]["cases"], 4);
        let bias = summary.sma.as_ref().expect("sma").bland_altman.bias;
        assert_eq!(json["sma"]["bias"], bias);
        assert!(json["myosteatosis"].is_null());
        assert!(json["myosteatosis_unavailable"]
            .as_str()
            .is_some_and(|r| r.contains("cases with both measurements")));
        assert_eq!(json["level"]["cases"], 4);
        let html = report.html();
        assert!(html.contains("&lt;a&gt;"), "case names are escaped");
        assert!(!html.contains("<a>"));
        assert_eq!(html.matches("<svg").count(), 3, "SMA, SMI and HU plots");
        assert!(html.contains("e.tag: cut short"));
        assert!(html.contains("psych::ICC"));
        assert!(
            !html.contains("src=") && !html.contains("href=") && !html.contains("<script"),
            "nothing is fetched or run: {html}"
        );
    }

    #[test]
    fn the_plot_puts_each_case_between_the_limits_it_draws() {
        let cases = [
            case("a", 150.0, 148.0),
            case("b", 130.0, 141.0),
            case("c", 160.0, 157.0),
        ];
        let summary = Summary::of(&cases);
        let m = summary.sma.expect("three cases");
        let svg = bland_altman_svg("SMA", &m);
        assert_eq!(svg.matches(r#"class="case""#).count(), 3);
        assert!(svg.contains(&format!("bias {:.2}", m.bland_altman.bias)));
        assert!(svg.contains(&format!("upper limit {:.2}", m.bland_altman.loa_upper)));
    }
}
