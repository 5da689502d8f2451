#!/usr/bin/env bash
# Installs what interop/pytorch/ needs (the PyTorch twin, check.py, make_fixtures.py, train_ddp.py): Debian's PyTorch
# and an OpenMP build of OpenBLAS, through apt only (no pip, nothing outside the package manager).
#
#   bash build/get-pytorch.sh
#
#   python3-torch          PyTorch 1.13 with torch.distributed (gloo backend) and torchrun.
#   libopenblas0-openmp    OpenMP OpenBLAS for torch's BLAS calls (apt's alternatives pick it when it has priority).
#
# Idempotent: when both packages are installed and torch imports with gloo and torchrun present, it only says so.
# Neither the build nor the tests need this; CI checks the C# side against committed fixtures made by the twin.
set -euo pipefail

readonly PACKAGES=(python3-torch libopenblas0-openmp)

log() { printf '[get-pytorch] %s\n' "$*" >&2; }
fail() { printf '[get-pytorch] ERROR: %s\n' "$*" >&2; exit 1; }

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

check_torch() {
    /usr/bin/python3 - <<'PY'
import torch, torch.distributed as dist
assert dist.is_available() and dist.is_gloo_available(), "torch.distributed without gloo"
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, gloo available")
PY
    command -v torchrun >/dev/null || fail "torchrun is not on PATH after installing python3-torch"
}

command -v dpkg-query >/dev/null || fail "not a Debian-based system (no dpkg-query); install PyTorch >= 1.13 yourself"
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)); then
    log "already installed: ${PACKAGES[*]}"
else
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || fail "need root (or sudo) to apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
check_torch
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
[[ -n "$blas" ]] && log "libblas.so.3 -> $blas"
log "ready: torchrun --redirects 2 --tee 2 --nproc_per_node=2 interop/pytorch/train_ddp.py --out DIR"
