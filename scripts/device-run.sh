#!/usr/bin/env bash
# Everything the H200 machine does in one call: unpack the packages the image lacks, configure
# against the image's torch (/opt/torch/.venv), build Release with ninja on all cores, run the
# GPU-labelled tests (and the rest), run the microbenchmarks, and leave a short table, the JSON
# and the logs under $OUT.
#   here:   scripts/fetch-device-deps
#   device: run(command="GRIFFIN_GIT_COMMIT=$(git rev-parse HEAD) GRIFFIN_GIT_DIRTY=0 scripts/device-run.sh",
#               carry=[".deps"])   (the copy there has no .git; write the hash in literally)
# Optional: GRIFFIN_BENCH_FILTER (a --benchmark_filter regex), GRIFFIN_SKIP_BENCH=1.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
export PATH=/opt/torch/.venv/bin:$PATH
PY=/opt/torch/.venv/bin/python3
BUILD=build/h200
status=0

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "unpack device deps"
DEPS=/tmp/griffin-deps
mkdir -p "$DEPS"
for deb in .deps/*.deb; do dpkg -x "$deb" "$DEPS"; done

step "configure"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRIFFIN_CUDA=ON \
  -DGRIFFIN_PYTHON="$PY" -DCMAKE_PREFIX_PATH="$DEPS/usr" >"$OUT/build.log" 2>&1 ||
  { tail -40 "$OUT/build.log"; exit 1; }

step "build ($(nproc) cores)"
start=$(date +%s)
cmake --build "$BUILD" -j "$(nproc)" >>"$OUT/build.log" 2>&1 || { tail -60 "$OUT/build.log"; exit 1; }
echo "build took $(($(date +%s) - start)) s"

step "griffin --version"
"$BUILD/bin/griffin" --version | tee "$OUT/version.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv \
  >>"$OUT/version.txt" 2>&1

step "tests (GPU-labelled first, then the rest)"
ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 600 >"$OUT/tests.log" 2>&1 || status=1
ctest --test-dir "$BUILD" -LE gpu --output-on-failure --timeout 600 -j 8 >>"$OUT/tests.log" 2>&1 || status=1
grep -E "tests passed|tests failed|Skipped|Failed|\*\*\*" "$OUT/tests.log" | tail -20

if [[ "${GRIFFIN_SKIP_BENCH:-0}" != 1 ]]; then
  step "microbenchmarks"
  "$BUILD/bin/griffin_microbench" --benchmark_filter="${GRIFFIN_BENCH_FILTER:-.}" \
    --benchmark_out="$OUT/microbench.json" --benchmark_out_format=json \
    >"$OUT/microbench.txt" 2>&1 || status=1
  "$PY" scripts/bench_table.py "$OUT/microbench.json" | tee "$OUT/summary.md"
fi
exit $status
