//! What the page and the statistics worker say to each other. Every request carries
//! the cohort file (a handle, not its bytes) beside it, so that a worker stopped by
//! Cancel is replaced by one that reads the file again and nothing else is lost.

use serde::{Deserialize, Serialize};

use sarcoscope::survival::aggregate::ValidationReport;
use sarcoscope::survival::analysis::{
    BootstrapPlan, CompetingOutput, FitOutput, KmOutput, ResidualPlot, ValidateOutput,
};
use sarcoscope::survival::cox::Ties;
use sarcoscope::survival::design::{Exclusion, Outcome, Roles};
use sarcoscope::survival::km::ConfType;
use sarcoscope::survival::table::ColumnSummary;

#[derive(Debug, Serialize, Deserialize)]
pub enum ToStatistics {
    /// Read the attached cohort file: its columns and their summaries.
    Read,
    /// Kaplan–Meier curves by `roles.group`, read at `at`, drawn as SVG.
    Km {
        roles: Roles,
        at: Vec<f64>,
        conf: ConfType,
    },
    /// Cumulative incidence of the event and the competing event by `roles.group`,
    /// Gray's test, and the Fine–Gray model when covariates are written.
    Competing { roles: Roles, at: Vec<f64> },
    /// The Cox model, validated by the bootstrap when asked, and its model file.
    Fit {
        roles: Roles,
        ties: Ties,
        bootstrap: Option<BootstrapPlan>,
        publish: Publish,
    },
    /// How well an existing score column (higher = higher risk) separates outcomes.
    RateScore { roles: Roles, horizons: Vec<f64> },
    /// A model file (its text) validated on the attached cohort: an aggregate report.
    Validate {
        outcome: Outcome,
        model: String,
        horizons: Vec<f64>,
        centre: String,
    },
}

/// What the model file says that the fit does not know.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    pub name: String,
    pub time_unit: String,
    pub horizons: Vec<f64>,
}

/// Rows the analysis left out and event codes read as censored: shown on the page
/// (never in an export), so that nothing is dropped unseen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Left {
    pub excluded: Vec<Exclusion>,
    pub censored_codes: Vec<(String, usize)>,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum FromStatistics {
    Ready,
    Read {
        rows: usize,
        dialect: String,
        columns: Vec<ColumnSummary>,
    },
    Km {
        output: KmOutput,
        svg: String,
        left: Left,
    },
    Competing {
        output: Box<CompetingOutput>,
        svg: String,
        left: Left,
    },
    /// `done` of `total` bootstrap refits.
    Progress {
        done: usize,
        total: usize,
    },
    Fitted {
        output: Box<FitOutput>,
        /// The sealed model file, or why it cannot be published.
        model: Result<String, String>,
        /// β(t) of each design column, for the proportional-hazards check.
        residuals: Vec<ResidualPlot>,
        left: Left,
    },
    Validated {
        report: Box<ValidationReport>,
        left: Left,
    },
    Rated {
        output: Box<ValidateOutput>,
        left: Left,
    },
    Failed {
        message: String,
    },
    /// The worker could not read the request; `detail` says why.
    Refused {
        detail: String,
    },
}
