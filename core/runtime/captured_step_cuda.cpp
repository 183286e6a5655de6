// CapturedStep with CUDA graphs (ATen's CUDAGraph; its private memory pool keeps the buffers the
// captured work allocates alive and at fixed addresses between replays).
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/cuda/CUDAGuard.h>

#include <optional>

#include "core/runtime/captured_step.h"

namespace griffin {

struct CapturedStep::Impl {
  std::function<void()> work;
  c10::Device device;
  int warmup = 0;
  int runs = 0;
  std::optional<at::cuda::CUDAStream> side;  // one stream for every warm-up run and the capture
  std::unique_ptr<at::cuda::CUDAGraph> graph;
};

CapturedStep::CapturedStep(std::function<void()> work, c10::Device device, int warmup)
    : impl_(std::make_unique<Impl>(Impl{std::move(work), device, warmup})) {}
CapturedStep::~CapturedStep() = default;

bool CapturedStep::captured() const { return impl_->graph != nullptr; }

bool CapturedStep::Run() {
  Impl& m = *impl_;
  if (!m.device.is_cuda()) {
    m.work();
    return false;
  }
  if (m.graph) {
    m.graph->replay();  // on the current stream
    return true;
  }
  // Warm-up and capture run on a side stream (capture cannot use the default stream), ordered
  // after everything queued before on the current stream and before everything queued after.
  const c10::cuda::CUDAGuard device_guard(m.device);
  const at::cuda::CUDAStream current = at::cuda::getCurrentCUDAStream();
  // The same side stream every time: cuBLAS workspaces are per stream, and the warm-up runs are
  // there to set them up for the stream the capture uses.
  if (!m.side) m.side = at::cuda::getStreamFromPool(/*isHighPriority=*/false, m.device.index());
  const at::cuda::CUDAStream side = *m.side;
  at::cuda::CUDAEvent ready;
  ready.record(current);
  ready.block(side);
  const bool capture = m.runs >= m.warmup;
  {
    const c10::cuda::CUDAStreamGuard stream_guard(side);
    if (capture) {
      auto graph = std::make_unique<at::cuda::CUDAGraph>();
      graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
      try {
        m.work();
      } catch (...) {
        // End the capture before the error leaves: a stream left capturing fails every later
        // call on it. The capture itself is discarded (its own error, if any, is secondary).
        try {
          graph->capture_end();
        } catch (...) {
        }
        throw;
      }
      graph->capture_end();
      m.graph = std::move(graph);
    } else {
      m.work();
    }
  }
  at::cuda::CUDAEvent done;
  done.record(side);
  done.block(current);
  ++m.runs;
  // Capturing records the work without running it: this run's work is the first replay.
  if (capture) m.graph->replay();
  return false;
}

bool CapturingOn(c10::Device device) {
  if (!device.is_cuda()) return false;
  const c10::cuda::CUDAGuard guard(device);
  return c10::cuda::currentStreamCaptureStatusMayInitCtx() != c10::cuda::CaptureStatus::None;
}

}  // namespace griffin
