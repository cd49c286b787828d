//! The Cohort view: a folder of many patients' studies chosen, each study measured in
//! turn with progress and Stop, one row per study in a table — measured, or failed with
//! its reason — and the de-identified cohort table to download (the columns of
//! `sarcoscope batch`, so the Statistics view and R read it alike).

use leptos::prelude::*;

use super::client::{Cohort, DEFAULT_SETTINGS};
use super::join::ClinicalJoin;
use super::masks;
use crate::download::{save_blob, save_text};
use crate::picked::picked_folder;
use crate::shell::{go, Route};
use crate::statistics::Statistics;
use crate::workspace::Workspace;
use leptos::task::spawn_local;
use sarcoscope::batch::masks::without_masks;
use sarcoscope::batch::review::{doubts, review_order, Doubt};
use sarcoscope::batch::{keys, row};

/// The columns the table on the page shows (the download has them all).
const SHOWN: [(&str, &str); 9] = [
    ("case", "Case"),
    ("source_folder", "Folder"),
    ("status", "Status"),
    ("l3_status", "L3"),
    ("level_slice", "Slice"),
    ("sma_cm2", "SMA (cm²)"),
    ("smi_cm2_m2", "SMI (cm²/m²)"),
    ("muscle_hu", "Muscle HU"),
    ("sarcopenia", "Sarcopenia"),
];

#[component]
pub fn CohortView(
    cohort: Cohort,
    ws: Workspace,
    stats: Statistics,
    shown: RwSignal<Route>,
) -> impl IntoView {
    let s = cohort.state;
    let can_pick = super::folder::can_pick();
    let folder = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    let on_pick = move |ev: leptos::ev::Event| {
        let (files, names) = picked_folder(&ev);
        if !files.is_empty() {
            cohort.start(files, names, None);
        }
    };
    // The table in the archive's order, or the studies to look at first first; then the
    // rows the filter keeps, sorted by a column when its header was clicked.
    let review_first = RwSignal::new(false);
    let filter = RwSignal::new(Filter::All);
    let sorted_by = RwSignal::new(None::<(usize, bool)>);
    let ordered = Memo::new(move |_| {
        let rows = s.rows.get();
        let doubts = doubts(&rows);
        let mut order: Vec<usize> = if review_first.get() {
            review_order(&doubts)
        } else {
            (0..rows.len()).collect()
        };
        let keep = filter.get();
        order.retain(|&k| keep.keeps(&rows[k], &doubts[k]));
        if let Some((column, ascending)) = sorted_by.get() {
            let name = SHOWN[column].0;
            order.sort_by(|&a, &b| {
                let (x, y) = (rows[a].value(name), rows[b].value(name));
                let by = row::compare_values(x, y);
                // Empty cells (a failed study's SMA) stay last either way.
                let empty = |v: Option<&str>| v.is_none_or(str::is_empty);
                if ascending || empty(x) || empty(y) {
                    by
                } else {
                    by.reverse()
                }
            });
        }
        order
            .into_iter()
            .map(|k| (rows[k].clone(), doubts[k].why()))
            .collect::<Vec<_>>()
    });
    let sort_by = move |column: usize| {
        sorted_by.update(|s| {
            *s = match *s {
                Some((c, true)) if c == column => Some((column, false)),
                _ => Some((column, true)),
            }
        })
    };
    let arrow = move |column: usize| match sorted_by.get() {
        Some((c, true)) if c == column => " ▲",
        Some((c, false)) if c == column => " ▼",
        _ => "",
    };
    let aria_sort = move |column: usize| match sorted_by.get() {
        Some((c, true)) if c == column => "ascending",
        Some((c, false)) if c == column => "descending",
        _ => "none",
    };
    let download = move |_| {
        let table = s
            .rows
            .with_untracked(|rows| row::table(DEFAULT_SETTINGS, rows));
        let _ = save_text("cohort.csv", "text/csv", &table);
    };
    // Identifying: asked for explicitly, and confirmed.
    let download_keys = move |_| {
        let sure = web_sys::window().is_some_and(|w| {
            w.confirm_with_message(
                "The key table links each case code to its PatientID, StudyInstanceUID and study date: it identifies the patients. Keep it inside the hospital, apart from the cohort table. Download it?",
            )
            .unwrap_or(false)
        });
        let table = s
            .kept
            .with_untracked(|k| k.as_ref().map(|k| keys::table(&k.keys)));
        if let (true, Some(table)) = (sure, table) {
            let _ = save_text("cohort-keys.csv", "text/csv", &table);
        }
    };
    let download_masks = move |_| {
        let rows = s.rows.get_untracked();
        s.masks_said.set("Putting the masks together…".into());
        spawn_local(async move {
            s.masks_said.set(match masks::zip().await {
                Err(e) => format!("The masks' ZIP could not be made: {e}."),
                Ok((blob, names)) => {
                    let missing = without_masks(&rows, &names);
                    let missing = if missing.is_empty() {
                        String::new()
                    } else {
                        format!(" No mask is kept for {} (measured before masks were kept, or the browser's disk refused it).", missing.join(", "))
                    };
                    match save_blob("cohort-masks.zip", &blob) {
                        Ok(()) => format!("cohort-masks.zip: {} files.{missing}", names.len()),
                        Err(_) => "This browser would not save the ZIP.".into(),
                    }
                }
            })
        });
    };
    let value = |row: &sarcoscope::batch::row::Row, name: &str| {
        row.value(name).unwrap_or_default().to_owned()
    };
    view! {
        <div class="view cohort" id="view-cohort" data-stored=move || s.stored.get() hidden=move || shown.get() != Route::Cohort>
            <section class="cohort-start" id="cohort-empty">
                <h2>"Cohort: a whole archive, study by study"</h2>
                <p>
                    "Choose the folder that holds the patients' CT studies (any layout). Each study's abdominal CT is chosen, "
                    "L3 found (a study of a few slices is measured where it is), segmented and measured in this browser; "
                    "nothing is uploaded. A study that cannot be measured gets a row with the reason, and the run goes on."
                </p>
                <label class="field">
                    <span>"Case codes start with"</span>
                    <input id="cohort-prefix" size="8" maxlength="16" prop:value=move || s.prefix.get() on:input=move |ev| s.prefix.set(event_target_value(&ev)) prop:disabled=move || s.running.get()/>
                </label>
                <label class="button">
                    "Choose the archive folder…"
                    <input id="cohort-folder" type="file" multiple node_ref=folder on:change=on_pick/>
                </label>
                <button class="action" id="cohort-pick" hidden=move || !can_pick || s.running.get() on:click=move |_| cohort.pick()>"Choose with the folder picker…"</button>
                <button class="action" id="cohort-reopen-folder" hidden=move || s.running.get() || s.kept_folder.with(Option::is_none) || s.kept.with(Option::is_none) on:click=move |_| cohort.reopen_folder()>
                    {move || format!("Go on with the kept folder “{}”", s.kept_folder.get().unwrap_or_default())}
                </button>
                <button class="action" id="cohort-stop" hidden=move || !s.running.get() on:click=move |_| cohort.cancel()>"Stop"</button>
                <button class="action" id="cohort-forget" hidden=move || s.running.get() || s.kept.with(Option::is_none) on:click=move |_| cohort.forget()>"Forget the kept run"</button>
                <p class="hint">"Case codes are this prefix and a number (C1- gives C1-0001, C1-0002, …): a centre's own keeps a multi-centre study's codes apart. A kept run goes on with its own. "
                "Cut-offs: sarcopenia Carey 2017, myosteatosis Ebadi 2022 (the cirrhosis defaults). The table carries no name, identifier or date; the same columns as "<code>"sarcoscope batch"</code>". "
                "After every study the run is kept in this browser (never sent anywhere): after a reload, choose the same folder and it goes on where it stopped."</p>
                <p id="cohort-status" aria-live="polite">{move || s.status.get()}</p>
                <details id="cohort-damaged" hidden=move || s.left_out.with(Vec::is_empty)>
                    <summary>{move || {
                        match s.left_out.with(Vec::len) {
                            1 => "1 file could not be read and was left out of its study".to_owned(),
                            n => format!("{n} files could not be read and were left out of their studies"),
                        }
                    }}</summary>
                    <ul>
                        {move || s.left_out.get().into_iter().map(|(name, why)| view! { <li><code>{name}</code>": "{why}</li> }).collect_view()}
                    </ul>
                </details>
                {move || s.progress.get().filter(|(_, total)| *total > 0).map(|(done, total)| view! {
                    <progress id="cohort-progress" max=total value=done>{format!("{done} of {total}")}</progress>
                })}
            </section>
            <section class="cohort-results" hidden=move || s.rows.with(Vec::is_empty)>
                <label class="field">
                    <span>"Order"</span>
                    <select id="cohort-order" on:change=move |ev| {
                        review_first.set(event_target_value(&ev) == "review");
                        sorted_by.set(None);
                    }>
                        <option value="archive" selected=true>"As in the archive"</option>
                        <option value="review">"To look at first: failed, uncertain level, QC warnings, outliers"</option>
                    </select>
                </label>
                <label class="field">
                    <span>"Show"</span>
                    <select id="cohort-filter" on:change=move |ev| filter.set(Filter::from_key(&event_target_value(&ev)))>
                        {Filter::ALL.iter().map(|f| view! { <option value=f.key()>{f.label()}</option> }).collect_view()}
                    </select>
                </label>
                <p class="hint" id="cohort-shown">{move || {
                    let shown = ordered.with(Vec::len);
                    let all = s.rows.with(Vec::len);
                    format!("{shown} of {all} studies shown. Click a column's title to sort by it (again: the other way).")
                }}</p>
                <div class="scroll">
                <table class="metrics" id="cohort-table">
                    <thead><tr>{SHOWN.iter().enumerate().map(|(k, (_, title))| view! {
                        <th aria-sort=move || aria_sort(k)>
                            <button class="sort" data-column=k on:click=move |_| sort_by(k)>{*title}{move || arrow(k)}</button>
                        </th>
                    }).collect_view()}<th>"Reason / why look"</th><th>"Review"</th></tr></thead>
                    <tbody>
                        {move || ordered.get().into_iter().map(|(row, why)| {
                            let failed = value(&row, "status") == "failed";
                            let why = if failed { value(&row, "reason") } else { why };
                            let code = value(&row, "case");
                            let openable = s.reopenable.with(|r| r.contains(&code));
                            let open = move |_| {
                                if cohort.open(&code, ws) {
                                    go(Route::Patient);
                                }
                            };
                            view! {
                                <tr class:failed=failed data-status=value(&row, "status") data-reviewed=value(&row, "reviewed")>
                                    {SHOWN.iter().map(|(name, _)| view! { <td>{value(&row, name)}</td> }).collect_view()}
                                    <td class="why">{why}</td>
                                    <td>{openable.then(|| view! {
                                        <button class="open" data-case=value(&row, "case") on:click=open>"Open"</button>
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
                <p class="cite">"An outlier is an SMI or muscle HU beyond 3 scaled median absolute deviations from this cohort's median (robust to the outliers it looks for)."</p>
                <p class="hint">"Open shows a study in the Patient view at its row's level with its mask; the level and the mask corrected there are saved back to its row, marked reviewed with the pixels changed. "
                "Studies can be opened while the folder chosen in this page is at hand (after a reload, choose it again)."</p>
                <button class="action" id="cohort-download" on:click=download>"Download the cohort table (CSV)"</button>
                <button class="action" id="cohort-keys" on:click=download_keys>"Download the key table (identifying)…"</button>
                <p class="hint">"The cohort table is de-identified: case codes, no name, ID, UID or date. The key table links each case code to the study's PatientID, "
                "StudyInstanceUID, date and folder; it stays in this browser and leaves it only through this button, as a file of its own (as "<code>"sarcoscope batch --keys"</code>" writes it)."</p>
                <button class="action" id="cohort-masks" on:click=download_masks>"Download the masks (ZIP)"</button>
                <p id="cohort-masks-said" aria-live="polite">{move || s.masks_said.get()}</p>
                <p class="hint">"Each measured study's mask as DICOM SEG (de-identified) and PNG (labels 0 background, 1 muscle, 2 IMAT, 3 VAT, 4 SAT), named by case code as "
                <code>"sarcoscope batch --seg-dir"</code>" writes them. They are written to this browser's own disk as the run goes (a corrected mask replaces the automatic one) "
                "and the ZIP is put together from there, so it does not need the memory of the whole cohort."</p>
            </section>
            <ClinicalJoin cohort=cohort stats=stats/>
        </div>
    }
}

/// Which rows the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    Measured,
    Failed,
    ToLook,
}

impl Filter {
    const ALL: [Filter; 4] = [
        Filter::All,
        Filter::Measured,
        Filter::Failed,
        Filter::ToLook,
    ];

    fn key(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Measured => "measured",
            Filter::Failed => "failed",
            Filter::ToLook => "look",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Filter::All => "Every study",
            Filter::Measured => "Measured",
            Filter::Failed => "Failed",
            Filter::ToLook => {
                "With a reason to look, not yet reviewed (failed, level, QC, outlier)"
            }
        }
    }

    fn from_key(key: &str) -> Filter {
        Filter::ALL
            .into_iter()
            .find(|f| f.key() == key)
            .unwrap_or(Filter::All)
    }

    fn keeps(self, row: &sarcoscope::batch::row::Row, doubt: &Doubt) -> bool {
        match self {
            Filter::All => true,
            Filter::Measured => row.value("status") == Some("measured"),
            Filter::Failed => row.value("status") == Some("failed"),
            Filter::ToLook => doubt.to_look(),
        }
    }
}
