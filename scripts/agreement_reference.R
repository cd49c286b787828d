# R's side of Sarcoscope's agreement statistics (src/agree): the values the tests hold,
# computed once by this script and committed as tests/data/agreement-reference.json with
# the R call that made each. R and its packages from Debian:
#   apt-get install r-base-core r-cran-psych r-cran-epir r-cran-jsonlite
# Usage: Rscript scripts/agreement_reference.R tests/data/agreement-reference.json
# The measurements are invented (seeded), shaped like the study's: skeletal muscle area at
# L3 by the automatic method and by two readers, muscle attenuation, and the calls they give.
suppressMessages({library(psych); library(epiR); library(jsonlite)})
out <- commandArgs(TRUE)[1]
set.seed(20261202)

# Bland–Altman by formula (Bland & Altman, Lancet 1986; CIs of the bias and of the limits
# as in Bland & Altman, Stat Methods Med Res 1999 — the formulas of BlandAltmanLeh's
# bland.altman.stats, which Debian does not package): limits at bias ± 1.96 SD, CIs with
# t(n − 1), the limits' standard error sqrt(3 SD² / n).
bland_altman <- function(x, y) {
  d <- x - y; n <- length(d); s <- sd(d); bias <- mean(d)
  t1 <- qt(0.975, n - 1); se_bias <- s / sqrt(n); se_loa <- sqrt(3 * s^2 / n)
  lo <- bias - 1.96 * s; hi <- bias + 1.96 * s
  list(call = "d <- x - y; mean(d); sd(d); mean(d) -/+ 1.96 * sd(d); CIs: qt(0.975, n - 1) * sd(d) / sqrt(n) for the bias, qt(0.975, n - 1) * sqrt(3 * sd(d)^2 / n) for each limit",
       bias = bias, sd = s, loa_lower = lo, loa_upper = hi,
       bias_ci = c(bias - t1 * se_bias, bias + t1 * se_bias),
       loa_lower_ci = c(lo - t1 * se_loa, lo + t1 * se_loa),
       loa_upper_ci = c(hi - t1 * se_loa, hi + t1 * se_loa))
}

icc <- function(ratings) {
  r <- psych::ICC(ratings, lmer = FALSE)$results
  row <- function(name) list(icc = r[name, "ICC"], lower = r[name, "lower bound"], upper = r[name, "upper bound"],
                             f = r[name, "F"], df1 = r[name, "df1"], df2 = r[name, "df2"], p = r[name, "p"])
  list(call = "psych::ICC(ratings, lmer = FALSE)$results (alpha = 0.05)",
       icc1 = row("Single_raters_absolute"), icc_2_1 = row("Single_random_raters"),
       icc_3_1 = row("Single_fixed_raters"))
}

ccc <- function(x, y) {
  r <- epiR::epi.ccc(x, y, ci = "z-transform", conf.level = 0.95)$rho.c
  list(call = "epiR::epi.ccc(x, y, ci = \"z-transform\", conf.level = 0.95)$rho.c",
       est = r$est, lower = r$lower, upper = r$upper)
}

paired <- function(name, x, y) {
  list(name = name, x = x, y = y, bland_altman = bland_altman(x, y), icc = icc(cbind(x, y)), ccc = ccc(x, y))
}

kappa <- function(name, a, b) {
  k <- psych::cohen.kappa(cbind(a, b), levels = c(0, 1))
  tp <- sum(a == 1 & b == 1); fn <- sum(a == 0 & b == 1); tn <- sum(a == 0 & b == 0); fp <- sum(a == 1 & b == 0)
  list(name = name, test = a, reference = b,
       call = "psych::cohen.kappa(cbind(test, reference), levels = c(0, 1)) — unweighted kappa, its variance (Fleiss, Cohen & Everitt 1969) and 95% CI kappa ± qnorm(0.975) sqrt(var)",
       kappa = k$kappa, var = k$var.kappa, lower = k$confid[1, "lower"], upper = k$confid[1, "upper"],
       sensitivity = tp / (tp + fn), specificity = tn / (tn + fp))
}

n <- 40
truth <- round(rnorm(n, 140, 28), 1)                      # cm², men and women together
reader1 <- round(truth + rnorm(n, 0, 4), 1)
reader2 <- round(truth + rnorm(n, 1.5, 5), 1)
auto <- round(0.97 * truth + 2 + rnorm(n, 0, 6), 1)
height <- round(runif(n, 1.55, 1.90), 2)
hu_reader <- round(rnorm(n, 36, 8), 1)
hu_auto <- round(hu_reader - 1 + rnorm(n, 0, 2.5), 1)
hu_rough <- round(hu_reader + rnorm(n, 0, 7), 1)          # a poorer method: more disagreement
# Sarcopenia called under one cut-off (SMI < 50 cm²/m², the Carey 2017 male value) on
# each method's SMI.
smi <- function(a) a / height^2
small <- head(seq_len(n), 6)

reference <- list(
  generated_by = "Rscript scripts/agreement_reference.R tests/data/agreement-reference.json",
  r_version = as.character(getRversion()),
  packages = list(psych = as.character(packageVersion("psych")), epiR = as.character(packageVersion("epiR"))),
  paired = list(
    paired("sma_auto_vs_reader1", auto, reader1),
    paired("sma_reader1_vs_reader2", reader1, reader2),
    paired("smi_auto_vs_reader1", round(smi(auto), 3), round(smi(reader1), 3)),
    paired("muscle_hu_auto_vs_reader1", hu_auto, hu_reader),
    paired("sma_six_cases", auto[small], reader1[small])),
  icc_three = list(name = "sma_auto_reader1_reader2", ratings = unname(split(cbind(auto, reader1, reader2), seq_len(n))),
                   icc = icc(cbind(auto, reader1, reader2))),
  kappa = list(
    kappa("sarcopenia_auto_vs_reader1", as.integer(smi(auto) < 50), as.integer(smi(reader1) < 50)),
    kappa("sarcopenia_reader1_vs_reader2", as.integer(smi(reader1) < 50), as.integer(smi(reader2) < 50)),
    kappa("myosteatosis_auto_vs_reader1", as.integer(hu_auto < 33), as.integer(hu_reader < 33)),
    kappa("myosteatosis_rough_vs_reader1", as.integer(hu_rough < 33), as.integer(hu_reader < 33))))
writeLines(toJSON(reference, digits = NA, auto_unbox = TRUE, pretty = TRUE), out)
