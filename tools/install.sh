#!/usr/bin/env bash
# Idempotent installer for mmkd: creates .venv (Python 3.11) and installs the pinned stack.
# A second run checks a stamp file and returns in seconds.
#   mmcv 2.1.0 has no wheel on PyPI. When ../shared/wheels holds a matching wheel it is used
#   as a cache; otherwise mmcv is built from source (about 20-25 minutes on 2 cores).
# Optional extras (setup.py extras_require), after the core stack: MMKD_EXTRAS=quant bash tools/install.sh
#   quant: onnx and onnxruntime for INT8 export and inference (mmkd.quant, tools/deploy.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${MMKD_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
STAMP=$VENV/.mmkd-installed
REQ_HASH=$(cat setup.py tools/install.sh | sha1sum | cut -c1-12)

install_extras() {
  local extra
  local extras=${MMKD_EXTRAS:-}
  for extra in ${extras//,/ }; do
    local extra_stamp=$VENV/.mmkd-installed-$extra
    if [ ! -f "$extra_stamp" ] || [ "$(cat "$extra_stamp")" != "$REQ_HASH" ]; then
      echo "[mmkd install] extra: $extra"
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation -e ".[$extra]"
      echo "$REQ_HASH" > "$extra_stamp"
    fi
  done
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_HASH" ]; then
  install_extras
  exit 0
fi

command -v "$PY" >/dev/null || { echo "mmkd install: $PY not found; install Python 3.11 or set PYTHON=/path/to/python3.11" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "[mmkd install] torch and build tools"
$PIP install -q "torch==2.13.0" "setuptools>=77.0.3,<81" wheel "numpy<2.3" ninja

echo "[mmkd install] mmengine, mmdet and their dependencies"
$PIP install -q "mmengine==0.10.7" addict yapf opencv-python pycocotools pytest matplotlib "scipy==1.17.1" "ruff==0.17.5"

WHEELS="$ROOT/../shared/wheels"
if ! $VENV/bin/python -c "import mmcv.ops" 2>/dev/null; then
  if ls "$WHEELS"/mmcv-2.1.0-*.whl >/dev/null 2>&1 && \
     $PIP install -q --find-links "$WHEELS" --only-binary mmcv "mmcv==2.1.0"; then
    echo "[mmkd install] mmcv 2.1.0 from the prebuilt wheel cache $WHEELS"
  else
    echo "[mmkd install] building mmcv 2.1.0 from source with its C++ ops (measured 495 s on 2 cores)"
    start=$(date +%s)
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} $PIP install --no-build-isolation "mmcv==2.1.0"
    echo "[mmkd install] mmcv built in $(( $(date +%s) - start )) s"
  fi
fi

$PIP install -q "mmdet==3.3.0"
$PIP install -q --no-build-isolation --no-deps -e .
# The NEON tree-crown photos and their boxes ship inside this wheel; its dependencies are not needed.
$PIP install -q --no-deps "deepforest==2.1.0"
$VENV/bin/python -c "import mmkd, mmcv.ops, mmdet; print('[mmkd install] ok: mmdet', mmdet.__version__)"
echo "$REQ_HASH" > "$STAMP"
install_extras
