#!/usr/bin/env bash
# The main job (README command 1): fetch real MNIST digits, then train and evaluate an mHC image
# classifier (Hyper-ResNet, n = 4 streams, doubly stochastic mixing) with ML.NET and print its metrics.
# Extra arguments go to the sample, e.g. `build/main.sh --dataset fashion-mnist` or `--connection residual`.
set -euo pipefail
cd "$(dirname "$0")/.."

args=("$@")
dataset=mnist
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--dataset" ] && [ $((i + 1)) -lt ${#args[@]} ]; then dataset=${args[$((i + 1))]}; fi
done
printf '%s\n' "${args[@]}" | grep -qx -- '--dataset' || args=(--dataset "$dataset" "${args[@]}")
printf '%s\n' "${args[@]}" | grep -qx -- '--json' || args+=(--json out/image-classification.json)
printf '%s\n' "${args[@]}" | grep -qx -- '--out' || args+=(--out out)

bash build/get-data.sh "$dataset"
mkdir -p out
dotnet run --project samples/ImageClassification -c Release -- "${args[@]}"
