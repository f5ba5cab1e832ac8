#!/usr/bin/env bash
# Re-run the README's results table at the current commit (JAX, float32; about 6 minutes on a quiet 2-core machine).
#   bash docs/reproduce.sh [output folder, default ./results, of the folder it is run from] (sets up .venv with ./run setup first)
set -euo pipefail
out="${1:-results}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # where the caller ran this, before the cd into the checkout
cd "$(dirname "$0")/.."
./run setup
python() { "${NNXP_VENV:-.venv}/bin/python" "$@"; }
export NNXP_BACKEND="${NNXP_BACKEND:-jax}"
for S in 0 1 2; do
  python examples/train.py --seed $S --history "$out/a_$S.json"
  python examples/train.py --sizes 784 100 10 --seed $S --history "$out/b_$S.json"
  python examples/train.py --init default --eta 0.1 --epochs 1 --seed $S --history "$out/cd_$S.json"
  python examples/train.py --init large --eta 0.1 --epochs 1 --seed $S --history "$out/cl_$S.json"
  python examples/train.py --sizes 784 100 10 --activation relu --init he --cost log_likelihood \
      --eta 0.01 --momentum 0.9 --lmbda 10.0 --schedule 5 --epochs 60 --seed $S \
      --history "$out/d_$S.json"
done
# (e) the first row and the first epoch of (c) in float64, NumPy and JAX: the same counts
for B in numpy jax; do
  NNXP_BACKEND=$B python examples/train.py --seed 0 --dtype float64 --history "$out/e_a_$B.json"
  NNXP_BACKEND=$B python examples/train.py --init large --eta 0.1 --epochs 1 --seed 0 \
      --dtype float64 --history "$out/e_cl_$B.json"
done
