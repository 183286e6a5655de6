// Probe, not part of the build: one decode token's chain of matrix products at the real shapes of
// RecurrentGemma-2B and Gemma-2B (batch 1, bf16, random weights), each layer's products separated
// by one-block kernels standing for the norms, the recurrent step and the GeGLU, captured in one
// CUDA graph. It answers two questions for bench/README.md ("Decode against its peers"):
//  - how much of the products' distance from the copy ceiling is each kernel's ramp and tail, which
//    programmatic dependent launch (PDL: the next kernel's blocks start streaming their weights
//    while this one drains, and wait for its output only before they read it) would hide;
//  - whether rows of 2560-4096 are faster walked by one warp or split over two.
// Each variant's output is compared bit for bit with the same kernel launched without PDL.
// Build here and carry the binary (the H200 image has nvcc too):
//   nvcc -std=c++17 -O3 -gencode=arch=compute_90,code=sm_90 -I. -o .deps/probe/decode_chain \
//     bench/probes/decode_chain_probe.cu
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/kernels/block_reduce.cuh"
#include "core/kernels/vector_access.cuh"

#define CK(x)                                                              \
  do {                                                                     \
    cudaError_t e_ = (x);                                                  \
    if (e_ != cudaSuccess) {                                               \
      printf("CUDA %s at line %d\n", cudaGetErrorString(e_), __LINE__);   \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

using griffin::kernels::LoadRaw;
using griffin::kernels::Packed;
using griffin::kernels::WarpSum;
using griffin::kernels::Widen;
using bf16 = __nv_bfloat16;

constexpr int kWarps = 8, kThreads = 256, kVec = 8, kUnroll = 8, kWarpElems = 32 * kVec;

__device__ __forceinline__ void AllowDependents() {
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
}
__device__ __forceinline__ void WaitForPrerequisites() {
  asm volatile("griddepcontrol.wait;" ::: "memory");
}

// y[n] = w[n, :] . x, kSlices warps a row; with kPdl the first round of weight loads is issued
// before waiting for the kernel that wrote x.
template <int kSlices, bool kPdl>
__global__ void __launch_bounds__(kThreads)
    Gemv(int64_t in, int64_t out, const bf16* x, const bf16* w, bf16* y) {
  if constexpr (kPdl) AllowDependents();
  __shared__ float partial[kWarps];
  constexpr int kRowsPerBlock = kWarps / kSlices;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, slice = warp % kSlices;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp / kSlices;
  const int64_t loads = (in + kWarpElems - 1) / kWarpElems;
  const int64_t per = (loads + kSlices - 1) / kSlices * kWarpElems;
  const int64_t begin = slice * per, end = std::min(begin + per, in);
  const bf16* row = w + n * in;
  float acc = 0.f;
  bool waited = !kPdl;
  for (int64_t k0 = begin + lane * kVec; n < out && k0 < end; k0 += kWarpElems * kUnroll) {
    Packed<bf16, kVec> wr[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t k = k0 + u * kWarpElems;
      wr[u] = LoadRaw<bf16, kVec>(row + k, k < end ? in - k : 0, true, bf16(0.f));
    }
    if (!waited) {
      WaitForPrerequisites();
      waited = true;
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t k = k0 + u * kWarpElems;
      if (k >= end) break;
      float wf[kVec], xf[kVec];
      Widen(wr[u], wf);
      Widen(LoadRaw<bf16, kVec>(x + k, in - k, true, bf16(0.f)), xf);
#pragma unroll
      for (int e = 0; e < kVec; ++e) acc = fmaf(wf[e], xf[e], acc);
    }
  }
  if (!waited) WaitForPrerequisites();
  acc = WarpSum(acc);
  if constexpr (kSlices > 1) {
    if (lane == 0) partial[warp] = acc;
    __syncthreads();
    if (slice != 0) return;
    for (int t = 1; t < kSlices; ++t) acc += partial[warp + t];
  }
  if (n < out && lane == 0) y[n] = __float2bfloat16(acc);
}

// One block: y = x / rms(x) over `width` elements, standing for the norms, the recurrent step and
// the GeGLU (a few microseconds of one-block work between products).
template <bool kPdl>
__global__ void __launch_bounds__(kThreads) SmallStep(int64_t width, const bf16* x, bf16* y) {
  if constexpr (kPdl) {
    AllowDependents();
    WaitForPrerequisites();
  }
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < width; i += kThreads) {
    const float v = __bfloat162float(x[i]);
    ss += v * v;
  }
  ss = griffin::kernels::BlockReduce<kWarps>(ss, [](float a, float b) { return a + b; });
  const float scale = rsqrtf(ss / width + 1e-6f);
  for (int64_t i = threadIdx.x; i < width; i += kThreads) {
    y[i] = __float2bfloat16(__bfloat162float(x[i]) * scale);
  }
}

struct Product {
  int64_t in, out;
  bf16* w;
};
struct Step {
  bool product;   // else a SmallStep over `width`
  int64_t width;  // SmallStep's width
  Product p;
};

template <typename Kernel, typename... Args>
void Launch(bool pdl, unsigned blocks, cudaStream_t stream, Kernel kernel, Args... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(blocks);
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = pdl ? 1 : 0;
  CK(cudaLaunchKernelEx(&config, kernel, args...));
}

int Slices(int64_t in, int64_t slice_elems) {
  const int64_t want = (in + slice_elems - 1) / slice_elems;
  return want <= 1 ? 1 : want <= 2 ? 2 : want <= 4 ? 4 : 8;
}

template <bool kPdl>
void LaunchGemv(const Product& p, int slices, const bf16* x, bf16* y, cudaStream_t stream) {
  const unsigned blocks =
      static_cast<unsigned>((p.out + kWarps / slices - 1) / (kWarps / slices));
  switch (slices) {
    case 1: return Launch(kPdl, blocks, stream, Gemv<1, kPdl>, p.in, p.out, x, p.w, y);
    case 2: return Launch(kPdl, blocks, stream, Gemv<2, kPdl>, p.in, p.out, x, p.w, y);
    case 4: return Launch(kPdl, blocks, stream, Gemv<4, kPdl>, p.in, p.out, x, p.w, y);
    default: return Launch(kPdl, blocks, stream, Gemv<8, kPdl>, p.in, p.out, x, p.w, y);
  }
}

// Ping-pong between two activation buffers: step i reads buf[i % 2], writes buf[(i + 1) % 2].
void Enqueue(const std::vector<Step>& chain, bool pdl, int64_t slice_elems, bf16* const buf[2],
             cudaStream_t stream) {
  for (size_t i = 0; i < chain.size(); ++i) {
    const bf16* x = buf[i % 2];
    bf16* y = buf[(i + 1) % 2];
    const Step& s = chain[i];
    if (!s.product) {
      Launch(pdl, 1, stream, pdl ? SmallStep<true> : SmallStep<false>, s.width, x, y);
    } else if (pdl) {
      LaunchGemv<true>(s.p, Slices(s.p.in, slice_elems), x, y, stream);
    } else {
      LaunchGemv<false>(s.p, Slices(s.p.in, slice_elems), x, y, stream);
    }
  }
}

__global__ void FillRandom(bf16* p, int64_t n, uint32_t seed, float scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
    p[i] = __float2bfloat16(scale * ((h & 0xffffff) / float(0xffffff) - 0.5f));
  }
}

bf16* RandomBuffer(int64_t n, uint32_t seed, float scale) {
  bf16* p;
  CK(cudaMalloc(&p, n * sizeof(bf16)));
  FillRandom<<<1024, 256>>>(p, n, seed, scale);
  CK(cudaGetLastError());
  return p;
}

struct Model {
  const char* name;
  std::vector<Step> chain;
  int64_t weight_bytes = 0;
  int64_t products = 0, small = 0;
  void AddProduct(int64_t in, int64_t out) {
    chain.push_back({true, 0, {in, out, RandomBuffer(in * out, chain.size() * 7919u, 0.05f)}});
    weight_bytes += in * out * 2;
    ++products;
  }
  void AddSmall(int64_t width) {
    chain.push_back({false, width, {}});
    ++small;
  }
};

// blocks: 'R' recurrent, 'A' attention, each followed by the MLP.
Model Build(const char* name, int64_t width, int64_t heads, int64_t kv_heads, int64_t mlp,
            const char* pattern, int layers, int64_t vocab) {
  Model m{name};
  const int64_t head_dim = 256;
  for (int l = 0; l < layers; ++l) {
    const char kind = pattern[l % strlen(pattern)];
    m.AddSmall(width);  // the norm before the temporal block
    if (kind == 'R') {
      m.AddProduct(width, 2 * width);  // y and x branches
      m.AddSmall(width);               // conv + RG-LRU step + gelu product
      m.AddProduct(width, width);      // linear_out
    } else {
      m.AddProduct(width, (heads + 2 * kv_heads) * head_dim);  // q, k, v
      m.AddSmall(heads * head_dim);                           // the attention
      m.AddProduct(heads * head_dim, width);                  // o
    }
    m.AddSmall(width);               // residual add + norm
    m.AddProduct(width, 2 * mlp);    // gate and up
    m.AddSmall(mlp);                 // GeGLU
    m.AddProduct(mlp, width);        // down
  }
  m.AddSmall(width);             // final norm
  m.AddProduct(width, vocab);    // LM head
  return m;
}

float TimeGraph(cudaGraphExec_t exec, cudaStream_t stream, int reps) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 10; ++i) CK(cudaGraphLaunch(exec, stream));
  std::vector<float> ms;
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventRecord(a, stream));
    CK(cudaGraphLaunch(exec, stream));
    CK(cudaEventRecord(b, stream));
    CK(cudaEventSynchronize(b));
    float t;
    CK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Runs the chain once as a graph; returns the median ms and copies the final buffer to `out`.
float Run(const Model& m, bool pdl, int64_t slice_elems, bool products_only, bf16* const buf[2],
          std::vector<uint16_t>& out, cudaStream_t stream) {
  std::vector<Step> chain;
  for (const Step& s : m.chain) {
    if (s.product || !products_only) chain.push_back(s);
  }
  const int64_t max_width = 1 << 18;
  FillRandom<<<64, 256, 0, stream>>>(buf[0], max_width, 12345u, 1.f);
  CK(cudaMemsetAsync(buf[1], 0, max_width * sizeof(bf16), stream));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  Enqueue(chain, pdl, slice_elems, buf, stream);
  CK(cudaStreamEndCapture(stream, &graph));
  CK(cudaGraphInstantiate(&exec, graph, 0));
  // One replay from the initial input, for the bitwise comparison.
  CK(cudaGraphLaunch(exec, stream));
  CK(cudaStreamSynchronize(stream));
  out.resize(4096);
  CK(cudaMemcpy(out.data(), buf[chain.size() % 2], out.size() * 2, cudaMemcpyDeviceToHost));
  const float ms = TimeGraph(exec, stream, 50);
  CK(cudaGraphExecDestroy(exec));
  CK(cudaGraphDestroy(graph));
  return ms;
}

int main() {
  cudaStream_t stream;
  CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  bf16* buf[2];
  for (auto& b : buf) CK(cudaMalloc(&b, (1 << 18) * sizeof(bf16)));
  std::vector<Model> models;
  models.push_back(Build("recurrentgemma-2b", 2560, 10, 1, 7680, "RRA", 26, 256000));
  models.push_back(Build("gemma-2b", 2048, 8, 1, 16384, "A", 18, 256000));
  CK(cudaDeviceSynchronize());
  printf("model,chain,slice_elems,pdl,ms,weight_GB,TB_s,ceiling_ms,launches,bitwise_equal_to_no_pdl\n");
  for (const Model& m : models) {
    const double ceiling_ms = m.weight_bytes / 4.25e12 * 1e3;
    for (int products_only = 1; products_only >= 0; --products_only) {
      for (int64_t slice : {int64_t(2048), int64_t(4096), int64_t(1) << 20}) {
        std::vector<uint16_t> base, with;
        const float ms0 = Run(m, false, slice, products_only, buf, base, stream);
        const float ms1 = Run(m, true, slice, products_only, buf, with, stream);
        const bool equal = base == with;
        const int64_t launches = m.products + (products_only ? 0 : m.small);
        for (int pdl = 0; pdl < 2; ++pdl) {
          const float ms = pdl ? ms1 : ms0;
          printf("%s,%s,%lld,%d,%.4f,%.3f,%.3f,%.4f,%lld,%s\n", m.name,
                 products_only ? "products" : "products+small", (long long)slice, pdl, ms,
                 m.weight_bytes / 1e9, m.weight_bytes / (ms * 1e-3) / 1e12, ceiling_ms,
                 (long long)launches, pdl ? (equal ? "yes" : "NO") : "-");
        }
      }
    }
  }
  return 0;
}
