// DeviceTimer for CPU-only builds: a steady-clock stopwatch; no device memory statistics.
#include <chrono>

#include "core/runtime/device_timer.h"

namespace griffin {

struct DeviceTimer::Impl {
  std::chrono::steady_clock::time_point t0, t1;
};

DeviceTimer::DeviceTimer(c10::Device) : impl_(std::make_unique<Impl>()) {}
DeviceTimer::~DeviceTimer() = default;
void DeviceTimer::Start() { impl_->t0 = std::chrono::steady_clock::now(); }
void DeviceTimer::Stop() { impl_->t1 = std::chrono::steady_clock::now(); }
double DeviceTimer::Seconds() {
  return std::chrono::duration<double>(impl_->t1 - impl_->t0).count();
}
void SynchronizeDevice(c10::Device) {}
DeviceMemory ReadDeviceMemory(c10::Device) { return {}; }
void ResetPeakDeviceMemory(c10::Device) {}
ProfileRange::ProfileRange(const char*) {}
ProfileRange::~ProfileRange() = default;

}  // namespace griffin
