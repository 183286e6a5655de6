# Sourced by the scripts: repo root, the build preset for this machine, and timing helpers.
GRIFFIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${CUDACXX:-}" ]] && ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
# nvcc present (here, CI, the H200): compile the kernels; otherwise a CPU-only build.
if command -v nvcc >/dev/null || [[ -n "${CUDACXX:-}" ]]; then
  GRIFFIN_PRESET=${GRIFFIN_PRESET:-cuda-release}
else
  GRIFFIN_PRESET=${GRIFFIN_PRESET:-cpu-release}
fi
GRIFFIN_BUILD="$GRIFFIN_ROOT/build/$GRIFFIN_PRESET"
GRIFFIN_JOBS=${GRIFFIN_JOBS:-$(nproc)}

griffin_build() {  # configure (once) and build the given targets, or everything
  cmake --preset "$GRIFFIN_PRESET" >/dev/null
  if (($#)); then
    cmake --build --preset "$GRIFFIN_PRESET" -j "$GRIFFIN_JOBS" --target "$@"
  else
    cmake --build --preset "$GRIFFIN_PRESET" -j "$GRIFFIN_JOBS"
  fi
}
