#!/usr/bin/env bash
# Run the three studies and draw the README's figures into results/figures/ (PNG and PDF, committed;
# small). Resumable: finished points are never recomputed.
#   bash experiments/make_figures.sh [launcher=joblib]
set -euo pipefail
cd "$(dirname "$0")/.."
launcher="${1:-launcher=joblib}"
for study in patron_vs_independence intervention_effect shock_response; do
  start=$SECONDS
  python -m sim experiment="$study" "$launcher"
  echo "$study: $((SECONDS - start)) s wall"
done
out=results/figures
python -m sim.plot results/sweeps/patron_vs_independence/aggregate --kind heatmap --out "$out"
python -m sim.plot results/sweeps/intervention_effect/aggregate --kind counterfactual --out "$out"
python -m sim.plot results/sweeps/shock_response/aggregate --kind fan --out "$out"
python -m sim.plot results/sweeps/shock_response/aggregate --kind curve --x militia_independence --out "$out"
python -m sim seed=20211107 hydra.run.dir=results/runs/readme
cp results/runs/readme/timeline.png "$out/timeline.png"
ls -la "$out"
