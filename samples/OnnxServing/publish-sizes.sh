#!/usr/bin/env bash
# Publishes the serving and the training sample (framework-dependent, linux-x64) and runs the serving sample with
# both publish folders, so its --json has serving_publish_mb and training_publish_mb.
# Usage: bash samples/OnnxServing/publish-sizes.sh out/mnist.onnx [figures.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:?usage: publish-sizes.sh MODEL.onnx [figures.json]}
json=${2:-out/onnx-serving.json}
dotnet publish samples/OnnxServing -c Release -o out/publish/serving -nologo -clp:ErrorsOnly
dotnet publish samples/ImageClassification -c Release -o out/publish/training -nologo -clp:ErrorsOnly
dotnet out/publish/serving/OnnxServing.dll --model "$model" --json "$json" \
  --serving-publish out/publish/serving --training-publish out/publish/training
