// Device work replayed from a CUDA graph: the first `warmup` runs execute eagerly (cuBLAS
// handles, workspaces and the allocator get ready), the next run is captured and replayed, and
// every later run is one graph launch, with no host code and no host synchronisation.
// On the CPU (and in builds without CUDA) every run executes the work eagerly.
#pragma once

#include <c10/core/Device.h>

#include <functional>
#include <memory>

namespace griffin {

class CapturedStep {
 public:
  // `work` must only enqueue device work on the current stream and touch the same buffers on
  // every run (anything it allocates during capture lives in the graph's own memory pool).
  CapturedStep(std::function<void()> work, c10::Device device, int warmup = 2);
  ~CapturedStep();
  CapturedStep(const CapturedStep&) = delete;
  CapturedStep& operator=(const CapturedStep&) = delete;

  // Runs the work once. Returns true when it was a replay: the host code in `work` did not run,
  // so whatever host-side bookkeeping it does is the caller's to do.
  bool Run();
  bool captured() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether work queued now on the current stream of `device` is being captured into a CUDA graph
// (always false on the CPU): ops with a capture-safe variant pick it then.
bool CapturingOn(c10::Device device);

}  // namespace griffin
