# R's side of scripts/bench: the Cox model (survival::coxph) and the Cox model with a
# 200-refit bootstrap validation (rms::cph + rms::validate) on the same invented cohorts
# Sarcoscope fits (`sarcoscope cohort synth`). Only the model work is timed (the file is
# read first); each figure is the median of its runs.
# Usage: Rscript scripts/bench_cox.R <folder with cohort-1000.csv, cohort-10000.csv>
suppressMessages({library(survival); library(rms)})
dir <- commandArgs(TRUE)[1]
timed <- function(runs, f) median(sapply(seq_len(runs), function(i) system.time(f())[["elapsed"]]))
cat(sprintf("R %s, survival %s, rms %s\n", getRversion(), packageVersion("survival"), packageVersion("rms")))
for (n in c(1000, 10000)) {
  d <- read.csv(file.path(dir, sprintf("cohort-%d.csv", n)))
  fit <- timed(5, function() coxph(Surv(time, status == 1) ~ meld + sarcopenia + age_years + albumin, data = d))
  boot <- timed(1, function() {
    g <- cph(Surv(time, status == 1) ~ meld + sarcopenia + age_years + albumin, data = d, x = TRUE, y = TRUE)
    set.seed(1)
    validate(g, B = 200)
  })
  cat(sprintf("R       n = %5d: Cox fit %8.3f s; Cox + 200 bootstrap refits %8.3f s\n", n, fit, boot))
}
