// ATen-facing wrapper of one token's attention: device guard, stream, workspace, launch.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/core/GradMode.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/kernels/decode_attention.cuh"
#include "core/kernels/decode_attention.h"
#include "core/kernels/launch_check.h"
#include "core/kernels/scan_workspace_alloc.h"

namespace griffin::detail {

static_assert(kernels::kDecodeAttentionMaxHeadDim == kDecodeAttentionMaxHeadDim,
              "the kernels' widest head is the checks' (decode_attention.h)");

at::Tensor DecodeAttentionCuda(const DecodeAttentionTensors& t) {
  CheckDecodeAttentionTensors(t);
  CheckOnCuda(t.keys.is_cuda(), "decode attention", t.keys.device().str());
  const c10::cuda::CUDAGuard guard(t.keys.device());
  const at::Tensor qkv = t.qkv.contiguous(), positions = t.positions.contiguous();
  const at::Tensor docs = t.docs.contiguous(), inv_freq = t.inv_freq.contiguous();
  const int64_t B = t.keys.size(0), hd = t.keys.size(3);
  const kernels::DecodeAttentionShape s{B,
                                        t.heads,
                                        t.keys.size(2),
                                        hd,
                                        t.keys.size(1),
                                        t.window,
                                        inv_freq.size(0),
                                        static_cast<float>(t.scale),
                                        KernelScalarKind(t.keys.scalar_type())};
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t splits = kernels::DecodeAttentionSplits(s, sms);
  const at::Tensor work =
      at::empty({kernels::DecodeAttentionWorkFloats(s, splits)}, qkv.options().dtype(at::kFloat));
  at::Tensor out = at::empty({B, 1, t.heads * hd}, qkv.options());
  kernels::DecodeAttentionParams p{};
  p.qkv = qkv.data_ptr();
  p.position = positions.data_ptr<int64_t>();
  p.doc = docs.data_ptr<int64_t>();
  p.start = t.start.data_ptr<int64_t>();
  p.inv_freq = inv_freq.data_ptr<float>();
  p.keys = t.keys.data_ptr();
  p.values = t.values.data_ptr();
  p.key_pos = t.key_pos.data_ptr<int64_t>();
  p.key_doc = t.key_docs.data_ptr<int64_t>();
  p.out = out.data_ptr();
  p.work = work.data_ptr<float>();
  CheckLaunch(kernels::LaunchDecodeAttention(s, p, splits, at::cuda::getCurrentCUDAStream()),
              "decode attention",
              c10::str("step (batch ", B, ", heads ", t.heads, "/", s.kv_heads, ", slots ", s.slots,
                       ", ", splits, " splits)"));
  return out;
}

}  // namespace griffin::detail
