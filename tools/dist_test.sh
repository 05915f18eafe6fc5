#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Env: NNODES, NODE_RANK, MASTER_ADDR, PORT (defaults: 1, 0, 127.0.0.1, 29500).
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
TOOLS=$(dirname "$0")
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
torchrun \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
