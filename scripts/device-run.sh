#!/usr/bin/env bash
# Everything the H200 machine does in one call: unpack the packages the image lacks, configure
# against the image's torch (/opt/torch/.venv), build Release with ninja on all cores, run the
# GPU-labelled tests (and the rest), the kernel microbenchmarks and the end-to-end model
# benchmarks, and leave a short table, the JSON/HDF5 results and the logs under $OUT.
#   here:   scripts/fetch-device-deps
#   device: run(command="GRIFFIN_GIT_COMMIT=<hash> GRIFFIN_GIT_DIRTY=0 scripts/device-run.sh",
#               carry=[".deps"])   (the copy there has no .git; write the hash in literally)
# Toggles: GRIFFIN_SKIP_TESTS=1, GRIFFIN_GPU_TESTS_ONLY=1, GRIFFIN_TEST_FILTER=regex (GPU test
# binaries, e.g. linear_scan; GTEST_FILTER=pattern picks cases inside them),
# GRIFFIN_GPU_TEST_JOBS=N (GPU test binaries run at once on the GPU, default 4),
# GRIFFIN_SANITIZE="memcheck racecheck ..." (compute-sanitizer over the kernels' GPU tests, below),
# GRIFFIN_NCU="bench-regex kernel-regex[; ...]" (Nsight Compute profiles, see below),
# GRIFFIN_SKIP_MICROBENCH=1, GRIFFIN_SKIP_PEERS=1 (the public peers' table after the
# microbenchmarks: scripts/bench_peers.py, needs .deps from fetch-device-deps; GRIFFIN_PEER_OPS=
# scan_fwd,scan_fwd_bwd,conv1d_fwd,conv1d_bwd picks ops, GRIFFIN_PEERS="accelerated-scan
# triton,fla chunk_hgrn" picks peers; rglru_fwd_bwd reuses scan_fwd_bwd's peer rows),
# GRIFFIN_SKIP_MODEL_BENCH=1, GRIFFIN_TRAIN_BENCH=1 (the training step against its PyTorch peer,
# below),
# GRIFFIN_BENCH_FILTER=regex (microbenchmarks), GRIFFIN_MODEL_BENCH_DECODE=N (default 1000),
# GRIFFIN_MODEL_BENCH_SPECS="preset:ops[:eager|graph[:batches]] ..." (ops: the scan and conv
# implementation; batches, e.g. 1,8, replaces GRIFFIN_MODEL_BENCH_BATCHES for that preset;
# default "gemma-2b:reference recurrentgemma-2b:cuda", eager decode),
# GRIFFIN_MODEL_BENCH_PROMPTS=512,2048,8192, GRIFFIN_MODEL_BENCH_BATCHES=1,8,64,
# GRIFFIN_DECODE_PEERS=1 (transformers and the GEMV chain at the bench's shapes, below),
# GRIFFIN_DECODE_NCU="preset:ops:prompt ..." (the per-token time budget, below), GRIFFIN_STREAM_SPECS="preset:tokens ..." (streamed
# text generation with per-token latency by depth; default none, e.g. "recurrentgemma-2b:20000"),
# GRIFFIN_SOAK_SPECS="preset:tokens:chunk:batch:probe ..." (griffin soak, below),
# GRIFFIN_EXPERIMENTS="memory_2b latency_2b ..." (griffin run experiments/NAME.toml into
# $OUT/runs/, with both plots; default none), GRIFFIN_EXPERIMENT_SET="run.decode=graph ..." (--set
# overrides for those runs), GRIFFIN_EXPERIMENT_TIMEOUT=seconds (a run stopped then resumes in the
# next call on the same warm machine; the timeout applies to each experiment, so on a fresh machine
# keep (experiments x timeout) + ~110 s of start and build under the call's limit, or the tool
# kills the call before the pack step; runs live in GRIFFIN_RUNS_DIR, default /tmp/griffin-runs,
# training checkpoints stay there), GRIFFIN_EXPERIMENT_JOBS=N (recall runs: points trained in N
# worker processes at once; GRIFFIN_MPS=1 runs them under the CUDA MPS daemon). Never export
# OMP_NUM_THREADS for this script: nproc honours it and the build would use one core. Everything but summary.md and log.txt comes back
# packed in results.tar.gz (the tool returns at most 8 files).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
export PATH=/opt/torch/.venv/bin:$PATH
PY=/opt/torch/.venv/bin/python3
BUILD=build/h200
LOG="$OUT/log.txt"
status=0

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)" | tee -a "$LOG"; }

step "unpack device deps"
DEPS=/tmp/griffin-deps
mkdir -p "$DEPS"
for deb in .deps/*.deb; do dpkg -x "$deb" "$DEPS"; done

# The kernels' public peers (scripts/bench_peers.py): wheels installed into a folder of their own,
# and accelerated-scan's warp kernel compiled for sm_90 in the background while the project builds;
# bench_peers waits for it. causal-conv1d compiles from source only with GRIFFIN_PEER_CONV_BUILD=1:
# on 2026-12-01 it did not finish within 420 s on the H200's 16 cores (sm_90 only), so the Conv1D
# peer is torch's cuDNN depthwise conv1d unless it is asked for.
PEERS_SITE=/tmp/griffin-peers
peers_prep=""
install_peer_wheels() {
  mkdir -p "$PEERS_SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$PEERS_SITE" .deps/wheels/*.whl >>"$LOG" 2>&1 ||
    echo "peer wheels did not install" | tee -a "$LOG"
}
if [[ "${GRIFFIN_SKIP_MICROBENCH:-0}" != 1 && "${GRIFFIN_SKIP_PEERS:-0}" != 1 ]]; then
  step "peers: install wheels, compile the CUDA peers in the background"
  install_peer_wheels
  # The same arch list here and in bench_peers' workers, or they rebuild the warp kernel.
  export TORCH_EXTENSIONS_DIR=/tmp/griffin-peers-ext TORCH_CUDA_ARCH_LIST=9.0
  PYTHONPATH=$PEERS_SITE "$PY" scripts/bench_peers.py prepare --site "$PEERS_SITE" \
    $([[ "${GRIFFIN_PEER_CONV_BUILD:-0}" == 1 ]] && ls .deps/causal_conv1d-*.tar.gz | sed 's/^/--conv-src /') \
    >"$OUT/peers_prepare.log" 2>&1 &
  peers_prep=$!
fi

step "configure"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRIFFIN_CUDA=ON \
  -DGRIFFIN_PYTHON="$PY" -DCMAKE_PREFIX_PATH="$DEPS/usr" >>"$LOG" 2>&1 ||
  { tail -40 "$LOG"; exit 1; }

step "build ($(nproc) cores)"
start=$(date +%s)
cmake --build "$BUILD" -j "$(nproc)" >>"$LOG" 2>&1 || { tail -60 "$LOG"; exit 1; }
echo "build took $(($(date +%s) - start)) s" | tee -a "$LOG"

step "griffin --version"
"$BUILD/bin/griffin" --version | tee "$OUT/version.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv \
  >>"$OUT/version.txt" 2>&1

if [[ "${GRIFFIN_SKIP_TESTS:-0}" != 1 ]]; then
  step "tests (GPU-labelled first, then the rest)"
  # The GPU binaries share the GPU, GRIFFIN_GPU_TEST_JOBS (default 4) at a time: most of their time
  # is small launches and the references' per-token ATen steps, which leave the H200 mostly idle
  # (9 binaries: 164 s one at a time at 9c1e8e8). Each writes its cases' times to gtest/NAME.json.
  GTEST_OUTPUT="json:$OUT/gtest/" ctest --test-dir "$BUILD" -L gpu -R "${GRIFFIN_TEST_FILTER:-.}" \
    -j "${GRIFFIN_GPU_TEST_JOBS:-4}" --output-on-failure --timeout 600 >"$OUT/tests.log" 2>&1 ||
    status=1
  "$PY" scripts/gtest_times.py "$OUT/gtest" >>"$OUT/tests.log" 2>&1 || true
  if [[ "${GRIFFIN_GPU_TESTS_ONLY:-0}" != 1 ]]; then
    # The golden run files are bit for bit this project's CPU kind's (tests/cli/test_run_golden.py).
    ctest --test-dir "$BUILD" -LE 'gpu|golden' --output-on-failure --timeout 600 -j 8 \
      >>"$OUT/tests.log" 2>&1 ||
      status=1
  fi
  grep -E "tests passed|tests failed|\*\*\*Failed" "$OUT/tests.log" | tail -20
fi

# GRIFFIN_SANITIZE="memcheck racecheck initcheck synccheck" (any of them): compute-sanitizer runs
# each kernel's GPU test binary (GRIFFIN_SANITIZE_TESTS, a regex over linear_scan, rglru_scan,
# conv1d, recurrent_step, rms_norm, softcap_cross_entropy; default all six) on the tests' small
# grid (GRIFFIN_TEST_SMALL_GRID=1, tests/test_util.h), each under its own timeout
# (GRIFFIN_SANITIZE_TIMEOUT, default 240 s), GRIFFIN_SANITIZE_JOBS of them at once (default 1; the
# tools' cost is mostly host-side instrumentation, and the machine has 16 cores), with
# GTEST_FILTER=GRIFFIN_SANITIZE_GTEST (default: all but the fp64 finite-difference checks, which
# launch the kernels thousands of times to test numerics, not memory). Logs:
# sanitize-TOOL-BINARY.log; the table (tool, binary, errors, exit, seconds) goes to sanitize.md.
# Measured on 2026-12-01 with a 60 s timeout: memcheck of linear_scan took 14 s; memcheck of
# rglru_scan (references on the GPU, one ATen step per token) and racecheck of linear_scan (then
# still with the finite differences) ran out of time.
sanitize_one() {
  local tool=$1 bin=$2 log="$OUT/sanitize-$1-$2.log" start code errors
  start=$(date +%s)
  GRIFFIN_TEST_SMALL_GRID=1 GTEST_FILTER="${GRIFFIN_SANITIZE_GTEST:--*FiniteDifferences*}" \
    timeout -k 30 "${GRIFFIN_SANITIZE_TIMEOUT:-240}" "${CS:-compute-sanitizer}" --tool "$tool" \
    --error-exitcode 99 "$BUILD/tests/${bin}_gpu_test" >"$log" 2>&1
  code=$?
  # memcheck, initcheck, synccheck: "ERROR SUMMARY: N errors"; racecheck: "RACECHECK SUMMARY:
  # H hazards displayed (N errors, W warnings)".
  errors=$(grep -oE "ERROR SUMMARY: [0-9]+|\([0-9]+ errors" "$log" | tail -1 | grep -oE "[0-9]+")
  echo "| $tool | ${bin}_gpu_test | ${errors:-?} | $code$([[ $code == 124 || $code == 137 ]] && echo ' (timed out)') | $(($(date +%s) - start)) |" \
    >"$OUT/sanitize-$tool-$bin.row"
  return "$code"
}
# How many of the given process ids are still running.
alive_count() {
  local n=0 pid
  for pid; do
    if kill -0 "$pid" 2>/dev/null; then n=$((n + 1)); fi
  done
  echo "$n"
}
if [[ -n "${GRIFFIN_SANITIZE:-}" ]]; then
  GRIFFIN_SANITIZE_JOBS=$((${GRIFFIN_SANITIZE_JOBS:-1} > 0 ? ${GRIFFIN_SANITIZE_JOBS:-1} : 1))
  step "compute-sanitizer: $GRIFFIN_SANITIZE ($GRIFFIN_SANITIZE_JOBS at once)"
  CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
  runs=()
  for tool in $GRIFFIN_SANITIZE; do
    for bin in linear_scan rglru_scan conv1d recurrent_step rms_norm softcap_cross_entropy; do
      [[ "$bin" =~ ${GRIFFIN_SANITIZE_TESTS:-.} ]] && runs+=("$tool $bin")
    done
  done
  pids=()
  for run in "${runs[@]}"; do
    # At most GRIFFIN_SANITIZE_JOBS of ours alive (the peers' preparation may run beside them).
    while (($(alive_count "${pids[@]}") >= ${GRIFFIN_SANITIZE_JOBS:-1})); do sleep 1; done
    # shellcheck disable=SC2086 # "tool binary"
    sanitize_one $run &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  printf '| tool | test binary | errors | exit | seconds |\n| --- | --- | ---: | ---: | ---: |\n' \
    >"$OUT/sanitize.md"
  for run in "${runs[@]}"; do
    cat "$OUT/sanitize-${run// /-}.row" >>"$OUT/sanitize.md" && rm "$OUT/sanitize-${run// /-}.row"
  done
  cat "$OUT/sanitize.md"
fi

: >"$OUT/summary.md"
if [[ "${GRIFFIN_SKIP_MICROBENCH:-0}" != 1 ]]; then
  step "kernel microbenchmarks"
  "$BUILD/bin/griffin_microbench" --benchmark_filter="${GRIFFIN_BENCH_FILTER:-.}" \
    --benchmark_out="$OUT/microbench.json" --benchmark_out_format=json >>"$LOG" 2>&1 || status=1
  "$PY" scripts/bench_table.py "$OUT/microbench.json" | tee -a "$OUT/summary.md"
  if [[ -n "$peers_prep" ]]; then
    step "peers: the same method and shapes, one process per peer (scripts/bench_peers.py)"
    wait "$peers_prep"
    tee -a "$LOG" <"$OUT/peers_prepare.log"
    PYTHONPATH=$PEERS_SITE "$PY" scripts/bench_peers.py run --griffin "$OUT/microbench.json" \
      --out "$OUT/peers.json" --table "$OUT/peers.md" ${GRIFFIN_PEER_OPS:+--ops $GRIFFIN_PEER_OPS} \
      ${GRIFFIN_PEERS:+--peers "$GRIFFIN_PEERS"} \
      >>"$LOG" 2>&1 || status=1
    cat "$OUT/peers.md" >>"$OUT/summary.md"
  fi
fi

# GRIFFIN_NCU="benchmark-regex kernel-regex[; benchmark-regex kernel-regex ...]": one Nsight
# Compute profile per pair (speed of light, memory workload, occupancy, warp stall reasons) of the
# second matching kernel launch (the first is the benchmark's warm-up) in the matching
# microbenchmarks, as text in $OUT/ncu.txt, then $OUT/ncu-2.txt, ... (the evidence bench/README.md
# quotes).
if [[ -n "${GRIFFIN_NCU:-}" ]]; then
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  IFS=';' read -ra ncu_pairs <<<"$GRIFFIN_NCU"
  for i in "${!ncu_pairs[@]}"; do
    read -r ncu_bench ncu_kernel <<<"${ncu_pairs[$i]}"
    ncu_out="$OUT/ncu.txt"
    ((i > 0)) && ncu_out="$OUT/ncu-$((i + 1)).txt"
    step "ncu: $ncu_kernel in $ncu_bench"
    "${NCU:-ncu}" --clock-control none --kernel-name "regex:$ncu_kernel" --launch-skip 1 \
      --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy \
      --section LaunchStats --section WarpStateStats --section SchedulerStats \
      --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio" \
      "$BUILD/bin/griffin_microbench" --benchmark_filter="$ncu_bench" >"$ncu_out" 2>&1 || status=1
    grep -E "Memory Throughput|DRAM Throughput|Duration|Achieved Occupancy|Registers Per|Stall" \
      "$ncu_out" | head -20
  done
fi

# GRIFFIN_TRAIN_BENCH=1: the recall-training step (experiments/train_step.toml) against its
# PyTorch peer (scripts/train_step_peer.py, with flash-linear-attention's and accelerated-scan's
# scans), in this order: griffin run, the peers, griffin run again (the same GPU state for both);
# then each one's eager step, and Nsight Compute's kernel list of 2 eager steps of each (NVTX
# start/end ranges "train step", which hold the backward's kernels too, launched from autograd's
# own threads). Table: $OUT/train_step.md (scripts/train_step_table.py).
if [[ "${GRIFFIN_TRAIN_BENCH:-0}" == 1 ]]; then
  step "training step: griffin run against the PyTorch peer"
  [[ -d "$PEERS_SITE" ]] || install_peer_wheels
  tb="$OUT/train_step"
  mkdir -p "$tb"
  train_run() {  # name, --set arguments...
    local name=$1
    shift
    rm -rf "/tmp/griffin-train-$name"  # a killed call's run would resume, finished, and time nothing
    "$BUILD/bin/griffin" run experiments/train_step.toml --out "/tmp/griffin-train-$name" \
      "$@" >"$tb/griffin-$name.md" 2>"$tb/griffin-$name.log" || status=1
    rm -rf "/tmp/griffin-train-$name"
  }
  train_run 1
  for scan in fla accelerated-scan; do
    PYTHONPATH=$PEERS_SITE "$PY" scripts/train_step_peer.py --scan "$scan" \
      --json "$tb/peer-$scan.json" >"$tb/peer-$scan.log" 2>&1 || status=1
  done
  train_run 2
  train_run eager --set train.graph=false --set train.steps=100 --set train.eval_every=25
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  ncu_steps=(--nvtx --nvtx-include "train step" --metrics gpu__time_duration.sum --csv
    --page raw --print-units base --cache-control none --clock-control none)
  "${NCU:-ncu}" "${ncu_steps[@]}" "$BUILD/bin/griffin" run experiments/train_step.toml \
    --out /tmp/griffin-train-ncu --set train.graph=false --set train.steps=2 \
    --set train.eval_every=2 >"$tb/ncu-griffin.csv" 2>"$tb/ncu-griffin.log" || status=1
  rm -rf /tmp/griffin-train-ncu
  PYTHONPATH=$PEERS_SITE "${NCU:-ncu}" "${ncu_steps[@]}" "$PY" scripts/train_step_peer.py \
    --scan fla --nvtx-steps 2 >"$tb/ncu-peer.csv" 2>"$tb/ncu-peer.log" || status=1
  "$PY" scripts/train_step_table.py "$tb" | tee "$OUT/train_step.md" | tee -a "$OUT/summary.md"
fi

if [[ "${GRIFFIN_SKIP_MODEL_BENCH:-0}" != 1 ]]; then
  decode=${GRIFFIN_MODEL_BENCH_DECODE:-1000}
  for spec in ${GRIFFIN_MODEL_BENCH_SPECS:-gemma-2b:reference recurrentgemma-2b:cuda}; do
    IFS=: read -r model scan mode batches <<<"$spec"
    mode=${mode:-eager}
    step "griffin bench $model (bf16, random weights, scan $scan, $mode decode)"
    "$BUILD/bin/griffin" bench --checkpoint "preset:$model" --device cuda --dtype bfloat16 \
      --scan "$scan" --conv "$scan" --decode-mode "$mode" \
      --prompt "${GRIFFIN_MODEL_BENCH_PROMPTS:-512,2048,8192}" --decode "$decode" \
      --batch "${batches:-${GRIFFIN_MODEL_BENCH_BATCHES:-1}}" \
      --repeats 3 --warmup 1 \
      --out "$OUT/bench_${model}_$mode.h5" 2>>"$LOG" | tee -a "$OUT/summary.md" || status=1
  done
fi
# GRIFFIN_DECODE_PEERS=1: Hugging Face transformers and the cuBLAS chain of each model's linear
# layers at the same shapes (scripts/decode_peers.py), after the griffin bench runs above, whose
# graph-decode files the table reads; GRIFFIN_DECODE_PEERS_MODELS (default both 2B presets;
# MODEL:PEER+PEER limits a model to those peers, e.g. gemma-7b:chain).
if [[ "${GRIFFIN_DECODE_PEERS:-0}" == 1 ]]; then
  step "decode peers: transformers and the GEMV chain (scripts/decode_peers.py)"
  griffin_files=()
  for spec in ${GRIFFIN_MODEL_BENCH_SPECS:-}; do
    IFS=: read -r model scan mode _ <<<"$spec"
    [[ "${mode:-eager}" == graph && -f "$OUT/bench_${model}_graph.h5" ]] &&
      griffin_files+=(--griffin "$model=$OUT/bench_${model}_graph.h5")
  done
  "$PY" scripts/decode_peers.py run \
    --models "${GRIFFIN_DECODE_PEERS_MODELS:-gemma-2b,recurrentgemma-2b}" \
    --prompts "${GRIFFIN_MODEL_BENCH_PROMPTS:-2048,8192}" "${griffin_files[@]}" \
    --timeout "${GRIFFIN_DECODE_PEERS_TIMEOUT:-240}" --out "$OUT/decode_peers.json" 2>>"$LOG" | tee "$OUT/decode_peers.md" | tee -a "$OUT/summary.md" ||
    status=1
fi
# GRIFFIN_DECODE_NCU="preset:ops:prompt ...": Nsight Compute's duration of every kernel of two
# eager decode steps at that depth, and the per-token budget (weights, KV or state, the rest,
# and against the graph-decode time of the bench above, launch gaps): scripts/decode_budget.py.
for spec in ${GRIFFIN_DECODE_NCU:-}; do
  IFS=: read -r model scan prompt <<<"$spec"
  step "Nsight Compute: one decode step of $model at $prompt tokens"
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  base="$OUT/ncu_decode_${model}_$prompt"
  "${NCU:-ncu}" --nvtx --nvtx-include "decode step" --metrics gpu__time_duration.sum --csv \
    --page raw --print-units base --cache-control none --clock-control none \
    "$BUILD/bin/griffin" bench --checkpoint "preset:$model" --device cuda --dtype bfloat16 \
    --scan "$scan" --conv "$scan" --decode-mode eager --prompt "$prompt" --decode 2 \
    --repeats 1 --warmup 0 >"$base.csv" 2>"$base.log" || status=1
  bench_args=()
  [[ -f "$OUT/bench_${model}_graph.h5" ]] && bench_args=(--bench "$OUT/bench_${model}_graph.h5")
  "$PY" scripts/decode_budget.py --ncu "$base.csv" --steps 2 --model "$model" \
    --prompt "$prompt" "${bench_args[@]}" --json "$base.json" | tee -a "$OUT/summary.md" || status=1
  gzip -f "$base.csv"
done
for spec in ${GRIFFIN_STREAM_SPECS:-}; do
  model=${spec%%:*} tokens=${spec##*:}
  step "griffin generate $model: $tokens tokens streamed (bf16, random weights, test tokenizer)"
  "$BUILD/bin/griffin" generate --checkpoint "preset:$model" --device cuda --dtype bfloat16 \
    --tokenizer data/tokenizer/test-gemma-384.model --prompt "The history of the" \
    --max-new-tokens "$tokens" --ignore-eos --temperature 1.0 --sample-seed 1 \
    --latency-out "$OUT/stream_$model.json" >"$OUT/stream_$model.txt" 2>"$OUT/stream_$model.log" ||
    status=1
  grep -v "^\[tokenizer\]" "$OUT/stream_$model.log" | tee -a "$OUT/summary.md"
  gzip -f "$OUT/stream_$model.txt"
done
# GRIFFIN_SOAK_SPECS="preset:tokens:chunk:batch:probe ...": griffin soak (bf16, random weights)
# streams `tokens` through one state in `chunk`-token forwards with `probe` decode steps timed after
# each, into $OUT/soak_PRESET.{h5,md,log}; a run that stops out of memory exits 1 by design (its
# rows are kept), so the exit code goes to the summary instead of failing the call; each run stops
# after GRIFFIN_SOAK_TIMEOUT seconds (default 300; its file keeps every finished chunk). Issue 20's soak:
# "recurrentgemma-2b:1000000:8192:1:8 gemma-2b:100000000:1024:128:0".
for spec in ${GRIFFIN_SOAK_SPECS:-}; do
  IFS=: read -r model tokens chunk batch probe <<<"$spec"
  step "griffin soak $model: $tokens tokens, chunks of $chunk, batch $batch, $probe decode steps a chunk"
  start=$(date +%s)
  timeout -k 10 "${GRIFFIN_SOAK_TIMEOUT:-300}" \
    "$BUILD/bin/griffin" soak --checkpoint "preset:$model" --device cuda --dtype bfloat16 \
      --tokens "$tokens" --chunk "$chunk" --batch "$batch" --decode-probe "$probe" \
      --out "$OUT/soak_$model.h5" >"$OUT/soak_$model.md" 2>"$OUT/soak_$model.log"
  code=$?
  { cat "$OUT/soak_$model.md"; echo "exit code $code after $(($(date +%s) - start)) s; last lines:"
    tail -2 "$OUT/soak_$model.log"; } | tee -a "$OUT/summary.md"
done
# Runs live in $RUNS, outside $OUT (emptied before every call), so that a run cut short by
# GRIFFIN_EXPERIMENT_TIMEOUT (seconds) resumes from its journal and training checkpoints in the
# next call while the machine is still warm; each call copies the run's files into $OUT/runs.
RUNS=${GRIFFIN_RUNS_DIR:-/tmp/griffin-runs}
mkdir -p "$RUNS" "$OUT/runs"
# GRIFFIN_MPS=1 (with GRIFFIN_EXPERIMENT_JOBS > 1): run the workers under the CUDA MPS daemon,
# so their kernels share the GPU instead of time-slicing it; quit again at the end.
mps=0
if [[ "${GRIFFIN_MPS:-0}" == 1 && -n "${GRIFFIN_EXPERIMENTS:-}" ]]; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/griffin-mps CUDA_MPS_LOG_DIRECTORY=/tmp/griffin-mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d >>"$LOG" 2>&1; then
    mps=1
    echo "CUDA MPS daemon started" | tee -a "$LOG"
  else
    echo "CUDA MPS daemon did not start; workers time-slice the GPU" | tee -a "$LOG"
  fi
fi
for name in ${GRIFFIN_EXPERIMENTS:-}; do
  step "griffin run experiments/$name.toml"
  if [[ -f "$RUNS/$name.h5" ]]; then
    echo "$RUNS/$name.h5 is finished already (from an earlier call)" | tee -a "$LOG"
  else
    # shellcheck disable=SC2086  # GRIFFIN_EXPERIMENT_SET is a list of --set arguments
    timeout -s TERM "${GRIFFIN_EXPERIMENT_TIMEOUT:-0}" "$BUILD/bin/griffin" run \
      "experiments/$name.toml" --out "$RUNS" --resume --jobs "${GRIFFIN_EXPERIMENT_JOBS:-1}" \
      ${GRIFFIN_EXPERIMENT_SET:+$(printf -- '--set %s ' $GRIFFIN_EXPERIMENT_SET)} \
      >"$OUT/run_$name.md" 2>>"$RUNS/$name.log" || status=1
  fi
  tail -3 "$RUNS/$name.log"
  cat "$OUT/run_$name.md" | tee -a "$OUT/summary.md"
  find "$RUNS" -maxdepth 1 -type f -name "$name.*" -exec cp {} "$OUT/runs/" \;
  if [[ -f "$OUT/runs/$name.h5" ]]; then
    # Plots are redrawn from the HDF5 file anywhere; a python without matplotlib is not a failure.
    if grep -q '"niah_text"' "experiments/$name.toml"; then
      "$PY" scripts/plot_niah.py "$OUT/runs/$name.h5" "$OUT/runs/$name-niah.png" || true
    elif grep -q '"recall"' "experiments/$name.toml"; then
      "$PY" scripts/plot_recall.py "$OUT/runs/$name.h5" "$OUT/runs/$name-recall.png" || true
    else
      "$PY" scripts/plot_memory.py "$OUT/runs/$name.h5" "$OUT/runs/$name-memory.png" || true
      "$PY" scripts/plot_latency.py "$OUT/runs/$name.h5" "$OUT/runs/$name-latency.png" || true
    fi
  fi
done

if [[ $mps == 1 ]]; then echo quit | nvidia-cuda-mps-control; fi

# The device tool returns at most 8 files: keep summary.md and log.txt loose, pack the rest.
step "pack results"
(cd "$OUT" && find . -type f ! -name summary.md ! -name log.txt ! -name results.tar.gz -print0 |
  tar --null -czf results.tar.gz --files-from - --remove-files) || status=1
find "$OUT" -mindepth 1 -type d -empty -delete
ls -la "$OUT" | tee -a "$LOG"
exit $status
