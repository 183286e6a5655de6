// The keys and values one attention block keeps between calls, with the position and document
// of every cached token (so masks need no other bookkeeping).
//  - Local attention (window > 0): a ring of exactly `window` slots; token n of the stream lives
//    in slot n mod window. Its size never changes.
//  - Global attention (window == 0): a buffer that grows in whole chunks of `chunk_tokens`, so
//    the bytes reserved track the tokens held; a chunk that does not fit is a clear error.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace griffin {

class AttentionCache {
 public:
  static constexpr int64_t kDefaultChunkTokens = 1024;

  AttentionCache(int64_t batch, int64_t kv_heads, int64_t head_dim, int64_t window,
                 c10::ScalarType dtype, c10::Device device,
                 int64_t chunk_tokens = kDefaultChunkTokens);

  bool local() const { return window_ > 0; }
  // Slots to attend over: all `window` ring slots (unwritten ones carry document -1), or the
  // tokens held so far. keys/values [B, S, KV, hd]; positions/docs int64 [B, S].
  at::Tensor keys() const;
  at::Tensor values() const;
  at::Tensor positions() const;
  at::Tensor docs() const;
  int64_t slots() const;

  // Adds a chunk (k, v [B, T, KV, hd]); `tokens_seen` counts the stream's tokens before it.
  void Write(const at::Tensor& k, const at::Tensor& v, const at::Tensor& positions,
             const at::Tensor& docs, int64_t tokens_seen);

  int64_t HeldBytes() const;      // bytes of the slots in use
  int64_t ReservedBytes() const;  // bytes allocated
  // Bytes per cached token (keys, values, position, document) for these shapes.
  static int64_t BytesPerToken(int64_t kv_heads, int64_t head_dim, c10::ScalarType dtype);

 private:
  void Reserve(int64_t tokens);

  int64_t batch_, kv_heads_, head_dim_, window_, chunk_tokens_;
  int64_t held_ = 0;  // tokens held (global), or slots written at least once (ring)
  at::Tensor keys_, values_, positions_, docs_;
};

}  // namespace griffin
