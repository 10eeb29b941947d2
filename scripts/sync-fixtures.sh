#!/usr/bin/env bash
# Copies the golden fixtures from ../shared/fixtures into test resources, so tests run on a clone without ../shared.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${1:-$here/../shared/fixtures}"
dst="$here/engine/src/test/resources/fixtures"
rm -rf "$dst"; mkdir -p "$dst"
for f in nemotron-gqa-f32 nemotron-gqa-bf16-zarr nemotron-tp2-bf16 nemotron3-mha-legacy llama31-f32; do
  cp -r "$src/$f" "$dst/"
done
cp "$src/README.md" "$src/nemotron-test-1k.model" "$src/nemotron-test-1k.golden.json" "$dst/"
chmod -R u+w "$dst"
echo "fixtures copied to $dst"
