// CapturedStep without CUDA: every run executes the work.
#include "core/runtime/captured_step.h"

namespace griffin {

struct CapturedStep::Impl {
  std::function<void()> work;
};

CapturedStep::CapturedStep(std::function<void()> work, c10::Device, int)
    : impl_(std::make_unique<Impl>(Impl{std::move(work)})) {}
CapturedStep::~CapturedStep() = default;

bool CapturedStep::Run() {
  impl_->work();
  return false;
}

bool CapturedStep::captured() const { return false; }

bool CapturingOn(c10::Device) { return false; }

}  // namespace griffin
