#!/usr/bin/env bash
# Run the studies and publish what the README and docs/ODD.md show: figures into results/figures/ (PNG
# and PDF, committed, byte-stable) and small tables into results/tables/ (committed). Resumable: finished
# points and calibration blocks are never recomputed. On this 2-core machine the whole script takes
# about an hour and a half (docs/PERFORMANCE.md has each study's time).
#   bash experiments/make_figures.sh [launcher=joblib]
set -euo pipefail
cd "$(dirname "$0")/.."
launcher="${1:-launcher=joblib}"
timed() { local start=$SECONDS; "$@"; echo "$*: $((SECONDS - start)) s wall"; }
for study in patron_vs_independence intervention_effect shock_response morris sobol discovery policies; do
  timed python -m sim experiment="$study" "$launcher"
done
timed python -m sim params_from=prior draws=1000 replicates=100 hydra.run.dir=results/runs/uncertainty
timed python -m sim.calibrate --out results/calibration
# the calibration on the record's counts (ABC-SMC with a model index over the structures: the headline, the same
# with the outcome in, forecasts from 1 July and 10 October 2021), results/calibration_counts/
timed python -m sim.calibrate --method smc
out=results/figures
python -m sim.plot results/sweeps/patron_vs_independence/aggregate --kind heatmap --out "$out"
python -m sim.plot results/sweeps/intervention_effect/aggregate --kind counterfactual --out "$out"
python -m sim.plot results/sweeps/shock_response/aggregate --kind fan --out "$out"
python -m sim.plot results/sweeps/shock_response/aggregate --kind curve --x militia_independence --out "$out"
python -m sim.plot results/sweeps/morris/aggregate --kind morris --out "$out"
python -m sim.plot results/sweeps/sobol/aggregate --kind sobol --out "$out"
python -m sim.plot results/sweeps/discovery/aggregate --kind prim --out "$out"   # prim.png, prim_stability.png
python -m sim.plot results/sweeps/discovery/aggregate --kind pawn --out "$out"
python -m sim.plot results/runs/uncertainty --kind uncertainty --out "$out"
python -m sim.plot results/sweeps/policies --kind policies --out "$out"                  # policies.png
cp results/calibration/figures/calibration_escalation.* results/calibration/figures/calibration_marginals.* "$out/"
cp results/calibration_counts/figures/calibration_counts_monthly.* "$out/"
python -m sim seed=20211107 hydra.run.dir=results/runs/readme
cp results/runs/readme/timeline.png results/runs/readme/timeline.pdf "$out/"
# the app's screenshots (chromium needed): app.png on 10 November 2021, app_ensemble.png from the browser test
python experiments/app_screenshot.py --out "$out/app.png"
python -m pytest -q tests/test_app_browser.py -k ensemble && cp results/test-artifacts/app_ensemble.png "$out/"
python -m sim.publish
# issue 25: how the model is judged, per structure (today's and each rival alone); each publishes its own table
# into results/tables/ and is sized to take minutes here (docs/ODD.md section 9, 'The studies' sizes')
timed python -m sim.counterfactuals          # counterfactual outputs at the defaults, Monte Carlo intervals
timed python -m sim.long_run                 # a year past the timeline with no new shocks, each door closed
timed python -m sim.patron_effect            # the headline per structure against independence (+ its figure)
timed python tests/pass_rates.py --write     # the share of prior draws passing each observation
python -m sim.docs
ls -la "$out" results/tables
