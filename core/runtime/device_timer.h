// Timing and memory readings that work on both devices: CUDA events and the caching allocator's
// statistics on a GPU, the steady clock (and nothing) on the CPU.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <memory>

namespace griffin {

// Times device work: Start() and Stop() enqueue events on the current stream; Seconds() waits for
// the stop event. On the CPU it is a steady-clock stopwatch.
class DeviceTimer {
 public:
  explicit DeviceTimer(c10::Device device);
  ~DeviceTimer();
  DeviceTimer(const DeviceTimer&) = delete;
  DeviceTimer& operator=(const DeviceTimer&) = delete;
  void Start();
  void Stop();
  double Seconds();  // synchronises with the stop event

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Waits for all work queued on `device`.
void SynchronizeDevice(c10::Device device);

// Bytes currently allocated by the device's caching allocator, the peak since the last reset, and
// what the allocator holds from the driver (allocated plus its cached free blocks); all 0 on the
// CPU, where no allocator statistics exist.
struct DeviceMemory {
  int64_t allocated = 0;
  int64_t peak = 0;
  int64_t reserved = 0;
};
DeviceMemory ReadDeviceMemory(c10::Device device);
void ResetPeakDeviceMemory(c10::Device device);

// Names a span of work for profilers while it lives: an NVTX start/end range on CUDA builds, so
// that Nsight Compute (--nvtx --nvtx-include "NAME") profiles only the kernels launched inside it,
// from any thread (autograd runs the backward on threads of its own); nothing on the CPU. Costs
// nothing when no profiler is attached.
class ProfileRange {
 public:
  explicit ProfileRange(const char* name);
  ~ProfileRange();
  ProfileRange(const ProfileRange&) = delete;
  ProfileRange& operator=(const ProfileRange&) = delete;

 private:
  uint64_t id_ = 0;
};

}  // namespace griffin
