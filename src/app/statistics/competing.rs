//! The competing-risks part of the statistics view: cumulative incidence of the event
//! and of the competing event by group with Gray's test, and the Fine–Gray model — what
//! a cirrhosis cohort needs when transplant removes patients from the risk of death.

use leptos::prelude::*;

use super::client::Statistics;
use super::view::LeftOut;
use crate::download::save_text;
use crate::figures::{figure, interval, p_figure, p_value};
use sarcoscope::survival::competing::{GrayTest, IncidencePoint};

#[component]
pub fn CompetingSection(stats: Statistics) -> impl IntoView {
    let competing = stats.state.competing;
    let download = move |_| {
        if let Some(c) = competing.get_untracked() {
            let text = serde_json::to_string_pretty(&c.output).unwrap_or_default();
            let _ = save_text("competing-risks.json", "application/json", &text);
        }
    };
    let incidence = |p: IncidencePoint| {
        format!(
            "{} ({})",
            figure(p.incidence, 4),
            interval(p.lower, p.upper, 4, "not defined")
        )
    };
    let gray = |what: &str, t: Option<GrayTest>| {
        t.map(|t| {
            format!(
                "Gray's test, {what}: χ² = {} on {} df, {}",
                figure(t.chisq, 3),
                t.df,
                p_value(t.p)
            )
        })
    };
    view! {
        <section class="stats-competing" id="stats-competing-section" hidden=move || competing.with(Option::is_none)>
            {move || competing.get().map(|c| {
                let o = c.output;
                view! {
                    <h2>"Competing risks: cumulative incidence (Aalen–Johansen)"</h2>
                    <p class="hint">"Solid: the event studied, with its 95% limits dashed; long dashes: the competing event. 1 − Kaplan–Meier would overstate the event's risk by counting those who had the competing event as if they could still have it."</p>
                    <div class="km-plot" id="stats-competing-plot" inner_html=c.svg></div>
                    <div class="scroll">
                    <table class="metrics" id="stats-competing-table">
                        <thead><tr><th>"Group"</th><th>"Time"</th><th>"At risk"</th><th>"Event (95% CI)"</th><th>"Competing event (95% CI)"</th></tr></thead>
                        <tbody>
                            {o.groups.iter().flat_map(|g| g.at.iter().map(|a| view! {
                                <tr><td>{g.group.clone()}</td><td class="num">{figure(a.time, 2)}</td><td class="num">{a.n_risk}</td><td class="num">{incidence(a.event)}</td><td class="num">{incidence(a.competing)}</td></tr>
                            }).collect::<Vec<_>>()).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <ul id="stats-competing-counts">
                        {o.groups.iter().map(|g| view! {
                            <li>{format!("{}: {} patients, {} events, {} competing events", g.group, g.n, g.events, g.competing)}</li>
                        }).collect_view()}
                    </ul>
                    <ul id="stats-gray">
                        {gray("the event", o.gray_event).map(|t| view! { <li>{t}</li> })}
                        {gray("the competing event", o.gray_competing).map(|t| view! { <li>{t}</li> })}
                    </ul>
                    {o.fine_gray.map(|f| view! {
                        <h3>{format!("Fine–Gray model of the event ({} iterations)", f.iterations)}</h3>
                        <div class="scroll">
                        <table class="metrics" id="stats-fine-gray">
                            <thead><tr><th>"Term"</th><th>"coef"</th><th>"se"</th><th>"z"</th><th>"p"</th><th>"Subdistribution HR (95% CI)"</th></tr></thead>
                            <tbody>
                                {f.coefficients.iter().map(|c| view! {
                                    <tr><td><code>{c.name.clone()}</code></td><td class="num">{figure(c.coef, 4)}</td><td class="num">{figure(c.se, 4)}</td><td class="num">{figure(c.z, 2)}</td><td class="num">{p_figure(Some(c.p))}</td>
                                    <td class="num">{format!("{} ({}–{})", figure(c.hr, 3), figure(c.hr_lower, 3), figure(c.hr_upper, 3))}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    })}
                    <ul class="warnings">{o.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                    <p class="cite">"Cumulative incidence and its variance as cmprsk::cuminc (Gray 1988), intervals on the log(−log) scale; Gray's test as cuminc(…, group); Fine–Gray as cmprsk::crr (Fine & Gray, JASA 1999)."</p>
                    <button class="action" id="stats-download-competing" on:click=download>"Download (JSON, as sarcoscope cohort competing --json)"</button>
                    <LeftOut left=c.left id="stats-competing-left"/>
                }
            })}
        </section>
    }
}
