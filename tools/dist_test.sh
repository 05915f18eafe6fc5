#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# torchrun through the interpreter (`python -m torch.distributed.run`): no PATH set-up needed.
# Env: PYTHON, NNODES, NODE_RANK, MASTER_ADDR, PORT (defaults: 1, 0, 127.0.0.1, 29500).
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
TOOLS=$(cd "$(dirname "$0")" && pwd)
# $PYTHON if set, else the project's .venv (no need to activate it), else python3.
PY=${PYTHON:-$TOOLS/../.venv/bin/python}
[ -x "$PY" ] || PY=python3
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PY" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
