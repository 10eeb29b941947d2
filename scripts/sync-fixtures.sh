#!/usr/bin/env bash
# Copies the golden fixtures from ../shared/fixtures into test resources, so tests run on a clone without
# ../shared, then re-creates the two layouts the shared fixtures lack (torch_dist, tp×pp) from their twins.
# Those need Debian's python3-torch; without it the committed copies are restored from git.
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
torchdist="$dst/nemotron-gqa-bf16-zarr/model.torchdist.nemo.d"
tppp="$dst/nemotron-tp2-bf16/model.tp2pp2.nemo"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 "$here/scripts/make-torchdist-fixture.py" "$dst/nemotron-gqa-bf16-zarr/model.nemo.d" "$torchdist"
  /usr/bin/python3 "$here/scripts/make-tp-pp-fixture.py" "$dst/nemotron-tp2-bf16/model.nemo" "$tppp"
else
  echo "python3-torch not installed: restoring the committed torch_dist and tp×pp fixtures" >&2
  git -C "$here" checkout HEAD -- "${torchdist#$here/}" "${tppp#$here/}"
fi
echo "fixtures copied to $dst"
