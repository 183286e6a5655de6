// The keys and values one attention block keeps between calls, with the position and document
// of every cached token (so masks need no other bookkeeping).
//  - Local attention (window > 0): a ring of exactly `window` slots; token n of the stream lives
//    in slot n mod window. Its size never changes.
//  - Global attention (window == 0): a buffer that grows in whole chunks of `chunk_tokens`, so
//    the bytes reserved track the tokens held; a chunk that does not fit is a clear error. Fixed
//    shapes (FixShape) hold exactly the room asked, so that once its steps have run the cache's
//    storage is exactly the analytic count.
// Slots are computed on the device from the stream index of the chunk, so a decode step captured
// in a CUDA graph writes, on every replay, where that replay's token belongs.
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
  // Slots to attend over: all `window` ring slots (unwritten ones carry document -1), the tokens
  // held so far, or with fixed shapes every reserved slot (unwritten: document -1).
  // keys/values [B, S, KV, hd]; positions/docs int64 [B, S].
  at::Tensor keys() const;
  at::Tensor values() const;
  at::Tensor positions() const;
  at::Tensor docs() const;
  int64_t slots() const;
  int64_t held() const { return held_; }  // tokens held (global) or ring slots written (local)

  // Adds a chunk (k, v [B, T, KV, hd]). `start`: int64 [1] on the cache's device, the stream
  // index of the chunk's first token (tokens written before it, pads included).
  void Write(const at::Tensor& k, const at::Tensor& v, const at::Tensor& positions,
             const at::Tensor& docs, const at::Tensor& start);

  // The host side of writing `tokens` tokens: a growing cache reserves room for them, or, with
  // fixed shapes, checks that they fit (Write does this; a kernel writing the slots itself, as
  // the decode attention does, calls it first and CountWritten after).
  void MakeRoom(int64_t tokens);
  // The whole buffers, every reserved slot (keys, values [B, capacity, KV, hd]; positions, docs
  // [B, capacity]), for kernels that read and write them in place.
  struct Buffers {
    at::Tensor keys, values, positions, docs;
  };
  Buffers buffers() const { return {keys_, values_, positions_, docs_}; }

  // Fixed shapes for decode steps captured in a CUDA graph: a growing cache reserves room for
  // `more_tokens` now, and until UnfixShape() every read covers all reserved slots and writing
  // past the room is an error (it would need a new buffer the captured step does not know).
  void FixShape(int64_t more_tokens);
  void UnfixShape() { fixed_ = false; }
  bool fixed() const { return fixed_; }
  // Counts `tokens` written (Write does; replays of a captured step run no host code, so whoever
  // replays them counts here).
  void CountWritten(int64_t tokens);

  int64_t HeldBytes() const;      // bytes of the slots in use
  int64_t ReservedBytes() const;  // bytes allocated
  // Bytes per cached token (keys, values, position, document) for these shapes.
  static int64_t BytesPerToken(int64_t kv_heads, int64_t head_dim, c10::ScalarType dtype);

 private:
  // Room for `tokens` (>= held) tokens: grown to a whole number of chunks when it lacks room, or
  // made exactly `tokens` slots (grown or shrunk, the held slots copied).
  void Reserve(int64_t tokens, bool exact = false);

  int64_t batch_, kv_heads_, head_dim_, window_, chunk_tokens_;
  int64_t held_ = 0;  // tokens held (global), or slots written at least once (ring)
  bool fixed_ = false;
  at::Tensor keys_, values_, positions_, docs_;
};

}  // namespace griffin
