#!/usr/bin/env bash
# One CamVid recipe trial: `fcn train --dataset camvid` stopped by SIGINT (Ctrl-C) after MINUTES of wall
# time (or at its last epoch), then `fcn eval` on the val split at full resolution. Prints one result line.
# usage: bench/camvid-recipe.sh LABEL MINUTES DATA_DIR [fcn train flags...]
#   e.g. bash bench/camvid-recipe.sh poly 10 ../shared/data/camvid --preset cpu
set -euo pipefail
cd "$(dirname "$0")/.."
label=$1 minutes=$2 data=$3; shift 3
out=${FCN_RUNS:-runs}/recipe-$label
rm -rf "$out"; mkdir -p "$(dirname "$out")"
start=$(date +%s)
timeout -s INT --kill-after=120 "$((minutes * 60))" node bin/fcn.cjs train --dataset camvid --data "$data" --out "$out" \
  --no-progress "$@" > "$out.train.log" 2>&1 || true
trained=$(( $(date +%s) - start ))
node bin/fcn.cjs eval --run "$out" --split val --no-progress > "$out.eval.log" 2>&1
epochs=$(node -e "const h=require('./$out/history.json'); console.log(h.length)")
miou=$(grep -m1 '^mean IoU' "$out.eval.log" | awk '{print $3}')
acc=$(grep -m1 '^pixel accuracy' "$out.eval.log" | awk '{print $3}')
echo "$label | $* | ${trained}s | $epochs epochs | val mIoU $miou | pixel acc $acc"
