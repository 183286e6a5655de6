#include "core/model/attention_cache.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace griffin {

AttentionCache::AttentionCache(int64_t batch, int64_t kv_heads, int64_t head_dim, int64_t window,
                               c10::ScalarType dtype, c10::Device device, int64_t chunk_tokens)
    : batch_(batch),
      kv_heads_(kv_heads),
      head_dim_(head_dim),
      window_(window),
      chunk_tokens_(chunk_tokens) {
  TORCH_CHECK(window >= 0 && chunk_tokens > 0, "attention cache: bad window or chunk size");
  const auto opts = at::TensorOptions(device);
  const int64_t slots = local() ? window : 0;
  keys_ = at::zeros({batch, slots, kv_heads, head_dim}, opts.dtype(dtype));
  values_ = at::zeros({batch, slots, kv_heads, head_dim}, opts.dtype(dtype));
  positions_ = at::full({batch, slots}, -1, opts.dtype(at::kLong));
  docs_ = at::full({batch, slots}, -1, opts.dtype(at::kLong));
}

int64_t AttentionCache::slots() const { return local() ? window_ : fixed_ ? keys_.size(1) : held_; }
at::Tensor AttentionCache::keys() const { return keys_.narrow(1, 0, slots()); }
at::Tensor AttentionCache::values() const { return values_.narrow(1, 0, slots()); }
at::Tensor AttentionCache::positions() const { return positions_.narrow(1, 0, slots()); }
at::Tensor AttentionCache::docs() const { return docs_.narrow(1, 0, slots()); }

int64_t AttentionCache::BytesPerToken(int64_t kv_heads, int64_t head_dim, c10::ScalarType dtype) {
  return 2 * kv_heads * head_dim * static_cast<int64_t>(c10::elementSize(dtype)) + 2 * 8;
}

int64_t AttentionCache::HeldBytes() const {
  return batch_ * (local() ? window_ : held_) *
         BytesPerToken(kv_heads_, head_dim_, keys_.scalar_type());
}

int64_t AttentionCache::ReservedBytes() const {
  return batch_ * keys_.size(1) * BytesPerToken(kv_heads_, head_dim_, keys_.scalar_type());
}

void AttentionCache::Reserve(int64_t tokens, bool exact) {
  const int64_t capacity = keys_.size(1);
  if (exact ? tokens == capacity : tokens <= capacity) return;
  const int64_t grown =
      exact ? tokens : (tokens + chunk_tokens_ - 1) / chunk_tokens_ * chunk_tokens_;
  const int64_t bytes = batch_ * grown * BytesPerToken(kv_heads_, head_dim_, keys_.scalar_type());
  // An out-of-memory error whatever ran out, so that callers that carry on past one (a sweep's
  // point, `griffin soak`) know it from other failures.
  const auto fail = [&](const char* why) {
    return c10::OutOfMemoryError(c10::SourceLocation{__func__, __FILE__, __LINE__},
                                 fmt::format("KV cache: cannot grow to {} tokens (batch {}, {} MiB "
                                             "for this layer): {}; the context is "
                                             "longer than memory allows",
                                             grown, batch_, bytes >> 20, why));
  };
  // Host memory overcommits: an allocation that cannot be backed would be killed later, not
  // refused now, so check what is physically available first.
  if (keys_.is_cpu()) {
    const int64_t available =
        static_cast<int64_t>(::sysconf(_SC_AVPHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
    if (bytes > available) throw fail("not enough free host memory");
  }
  const auto grow = [&](const at::Tensor& old, std::vector<int64_t> shape, double fill) {
    shape[1] = grown;
    at::Tensor t = at::full(shape, fill, old.options());
    t.narrow(1, 0, held_).copy_(old.narrow(1, 0, held_));
    return t;
  };
  try {
    at::Tensor k = grow(keys_, keys_.sizes().vec(), 0.0);
    keys_ = k;  // free the old buffer before allocating the next one
    at::Tensor v = grow(values_, values_.sizes().vec(), 0.0);
    values_ = v;
    positions_ = grow(positions_, positions_.sizes().vec(), -1.0);
    docs_ = grow(docs_, docs_.sizes().vec(), -1.0);
  } catch (const c10::OutOfMemoryError&) {
    // The buffers remade before the failure go back to the old capacity, or all four to the
    // smaller one when shrinking (views, no allocation), so that they agree and the cache stays
    // usable up to it.
    const int64_t keep = std::min(capacity, grown);
    keys_ = keys_.narrow(1, 0, keep);
    values_ = values_.narrow(1, 0, keep);
    positions_ = positions_.narrow(1, 0, keep);
    docs_ = docs_.narrow(1, 0, keep);
    throw fail("out of device memory");
  }
}

void AttentionCache::Write(const at::Tensor& k, const at::Tensor& v, const at::Tensor& positions,
                           const at::Tensor& docs, const at::Tensor& start) {
  const int64_t T = k.size(1);
  if (T == 0) return;
  MakeRoom(T);
  // Ring: only the last `window` tokens of the chunk survive; token n goes to slot n mod window.
  const int64_t n = local() ? std::min(T, window_) : T;
  at::Tensor slots = start + at::arange(T - n, T, start.options());
  if (local()) slots = at::remainder(slots, window_);
  keys_.index_copy_(1, slots, k.narrow(1, T - n, n));
  values_.index_copy_(1, slots, v.narrow(1, T - n, n));
  positions_.index_copy_(1, slots, positions.narrow(1, T - n, n));
  docs_.index_copy_(1, slots, docs.narrow(1, T - n, n));
  CountWritten(T);
}

void AttentionCache::MakeRoom(int64_t tokens) {
  if (local()) return;
  if (fixed_ && held_ + tokens > keys_.size(1)) {
    throw std::runtime_error(fmt::format(
        "KV cache: {} more tokens do not fit the {} reserved for fixed-shape decode steps", tokens,
        keys_.size(1)));
  }
  Reserve(held_ + tokens);
}

void AttentionCache::FixShape(int64_t more_tokens) {
  TORCH_CHECK(more_tokens >= 0, "attention cache: negative room");
  // Exactly the room asked: the steps that fill it are known, and the state then holds exactly
  // the analytic count (AnalyticStateSize) once they have run.
  if (!local()) Reserve(held_ + more_tokens, /*exact=*/true);
  fixed_ = true;
}

void AttentionCache::CountWritten(int64_t tokens) {
  held_ = local() ? std::min(window_, held_ + tokens) : held_ + tokens;
}

}  // namespace griffin
