// DeviceTimer and memory readings for builds with CUDA (the CPU path is used for CPU devices).
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Exceptions.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include <chrono>

#include "core/runtime/device_timer.h"

namespace griffin {

struct DeviceTimer::Impl {
  c10::Device device;
  cudaEvent_t start = nullptr, stop = nullptr;
  std::chrono::steady_clock::time_point t0, t1;
};

// Events belong to the device current when they are made, and a record must be on a stream of
// that device: the timer's own device, whichever is current at the caller.
DeviceTimer::DeviceTimer(c10::Device device) : impl_(std::make_unique<Impl>(Impl{device})) {
  if (device.is_cuda()) {
    const c10::cuda::CUDAGuard guard(device);
    AT_CUDA_CHECK(cudaEventCreate(&impl_->start));
    AT_CUDA_CHECK(cudaEventCreate(&impl_->stop));
  }
}

DeviceTimer::~DeviceTimer() {
  if (impl_->start != nullptr) cudaEventDestroy(impl_->start);
  if (impl_->stop != nullptr) cudaEventDestroy(impl_->stop);
}

void DeviceTimer::Start() {
  if (impl_->device.is_cuda()) {
    AT_CUDA_CHECK(
        cudaEventRecord(impl_->start, at::cuda::getCurrentCUDAStream(impl_->device.index())));
  } else {
    impl_->t0 = std::chrono::steady_clock::now();
  }
}

void DeviceTimer::Stop() {
  if (impl_->device.is_cuda()) {
    AT_CUDA_CHECK(
        cudaEventRecord(impl_->stop, at::cuda::getCurrentCUDAStream(impl_->device.index())));
  } else {
    impl_->t1 = std::chrono::steady_clock::now();
  }
}

double DeviceTimer::Seconds() {
  if (!impl_->device.is_cuda()) return std::chrono::duration<double>(impl_->t1 - impl_->t0).count();
  AT_CUDA_CHECK(cudaEventSynchronize(impl_->stop));
  float ms = 0.0f;
  AT_CUDA_CHECK(cudaEventElapsedTime(&ms, impl_->start, impl_->stop));
  return ms * 1e-3;
}

void SynchronizeDevice(c10::Device device) {
  if (device.is_cuda()) cudaDeviceSynchronize();
}

namespace {

// "cuda" without an index is the current device (a rank's own GPU under torchrun), not GPU 0.
c10::DeviceIndex IndexOf(c10::Device device) {
  return device.has_index() ? device.index() : c10::cuda::current_device();
}

}  // namespace

DeviceMemory ReadDeviceMemory(c10::Device device) {
  if (!device.is_cuda()) return {};
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(IndexOf(device));
  const auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
  const auto& a = stats.allocated_bytes[all];
  return {a.current, a.peak, stats.reserved_bytes[all].current};
}

void ResetPeakDeviceMemory(c10::Device device) {
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(IndexOf(device));
  }
}

ProfileRange::ProfileRange(const char* name) : id_(nvtxRangeStartA(name)) {}
ProfileRange::~ProfileRange() { nvtxRangeEnd(id_); }

}  // namespace griffin
