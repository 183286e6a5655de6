#include "core/runtime/device_name.h"

#include <ATen/Context.h>
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace griffin {

c10::Device ParseDeviceName(std::string_view name) {
  const auto not_a_device = [&] {
    return std::invalid_argument(fmt::format("'{}' is not cpu, cuda or cuda:N", name));
  };
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(std::string(name));
  } catch (const std::exception&) {
    throw not_a_device();
  }
  if (!device.is_cpu() && !device.is_cuda()) throw not_a_device();
  return device;
}

c10::Device ParseDevice(std::string_view name) {
  const c10::Device device = ParseDeviceName(name);
  if (device.is_cuda() && !at::hasCUDA()) {
    throw std::invalid_argument(fmt::format("{}: no CUDA device is available here", name));
  }
  return device;
}

}  // namespace griffin
