// Probe, not part of the build: a scan that walks the whole sequence per channel strip (no carries
// between blocks; registers hold the next tile while this one is scanned), for the plain scan and
// the RG-LRU forward, in fp32 and bf16, at the microbenchmarks' shapes and a few block shapes.
// It answers one question for bench/README.md ("A scan that walks the sequence per strip"):
// whether dropping the chunked scans' look-back for this layout reaches the copy ceiling.
// Build here and carry the binary (the H200 image has nvcc too):
//   nvcc -std=c++17 -O3 -gencode=arch=compute_90,code=sm_90 -o .deps/strip/strip_bench \
//     bench/probes/strip_scan_probe.cu
// then run .deps/strip/strip_bench on the H200 (output:
// results/h200/2026-12-02-strip-scan-probe.txt; "copy3" is a vectorised read-two-write-one copy of
// the same bytes, err the largest relative difference from a one-thread-per-channel scan, -1 where
// that reference was skipped).
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define CK(x)                                                      \
  do {                                                             \
    cudaError_t e_ = (x);                                          \
    if (e_ != cudaSuccess) {                                       \
      printf("CUDA %s at %d\n", cudaGetErrorString(e_), __LINE__); \
      exit(1);                                                     \
    }                                                              \
  } while (0)

template <typename T>
struct Lanes16;
template <>
struct Lanes16<float> {
  static constexpr int N = 4;
};
template <>
struct Lanes16<__nv_bfloat16> {
  static constexpr int N = 8;
};

__device__ __forceinline__ void Unpack(const uint4& r, float (&o)[4]) {
  o[0] = __uint_as_float(r.x);
  o[1] = __uint_as_float(r.y);
  o[2] = __uint_as_float(r.z);
  o[3] = __uint_as_float(r.w);
}
__device__ __forceinline__ float2 B2(unsigned u) {
  return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&u));
}
__device__ __forceinline__ void Unpack(const uint4& r, float (&o)[8]) {
  float2 f;
  f = B2(r.x);
  o[0] = f.x;
  o[1] = f.y;
  f = B2(r.y);
  o[2] = f.x;
  o[3] = f.y;
  f = B2(r.z);
  o[4] = f.x;
  o[5] = f.y;
  f = B2(r.w);
  o[6] = f.x;
  o[7] = f.y;
}
__device__ __forceinline__ uint4 Pack(const float (&o)[4]) {
  return make_uint4(__float_as_uint(o[0]), __float_as_uint(o[1]), __float_as_uint(o[2]),
                    __float_as_uint(o[3]));
}
__device__ __forceinline__ unsigned P2(float a, float b) {
  __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
  return *reinterpret_cast<unsigned*>(&h);
}
__device__ __forceinline__ uint4 Pack(const float (&o)[8]) {
  return make_uint4(P2(o[0], o[1]), P2(o[2], o[3]), P2(o[4], o[5]), P2(o[6], o[7]));
}

// Plain scan source.
template <typename T>
struct PlainSource {
  static constexpr int N = Lanes16<T>::N;
  struct Raw {
    uint4 a, x;
  };
  const T* a;
  const T* x;
  T* y;
  __device__ Raw Load(int64_t off, bool in) const {
    Raw r;
    if (in) {
      r.a = __ldcs(reinterpret_cast<const uint4*>(a + off));
      r.x = __ldcs(reinterpret_cast<const uint4*>(x + off));
    } else {
      float one[N], zero[N];
      for (int v = 0; v < N; ++v) one[v] = 1.f, zero[v] = 0.f;
      r.a = Pack(one);
      r.x = Pack(zero);
    }
    return r;
  }
  __device__ void Decode(const Raw& r, int64_t, int, float (&av)[N], float (&bv)[N]) const {
    Unpack(r.a, av);
    Unpack(r.x, bv);
  }
  __device__ void Store(int64_t off, const float (&h)[N]) const {
    __stcs(reinterpret_cast<uint4*>(y + off), Pack(h));
  }
};

__device__ __forceinline__ float Sigm(float v) { return 1.f / (1.f + expf(-v)); }

template <typename T>
struct RgLruSource {
  static constexpr int N = Lanes16<T>::N;
  struct Raw {
    uint4 x, gx, ga;
    int reset;
  };
  const T* x;
  const T* gx;
  const T* ga;
  const int64_t* pos;
  const float* sp;
  T* y;
  int64_t seq_len;
  int dim;
  __device__ Raw Load(int64_t off, bool in) const {
    Raw r;
    if (in) {
      r.x = __ldcs(reinterpret_cast<const uint4*>(x + off));
      r.gx = __ldcs(reinterpret_cast<const uint4*>(gx + off));
      r.ga = __ldcs(reinterpret_cast<const uint4*>(ga + off));
      r.reset = __ldg(pos + off / dim) == 0;
    } else {
      r.x = make_uint4(0, 0, 0, 0);
      r.gx = r.x;
      r.ga = r.x;
      r.reset = 2;
    }
    return r;
  }
  __device__ void Decode(const Raw& r, int64_t, int col, float (&av)[N], float (&bv)[N]) const {
    if (r.reset == 2) {
      for (int v = 0; v < N; ++v) av[v] = 1.f, bv[v] = 0.f;
      return;
    }
    float xv[N], gxv[N], gav[N];
    Unpack(r.x, xv);
    Unpack(r.gx, gxv);
    Unpack(r.ga, gav);
#pragma unroll
    for (int v = 0; v < N; ++v) {
      const float i = Sigm(gxv[v]), rr = Sigm(gav[v]);
      const float log_a = -8.f * rr * sp[col + v];
      float a = expf(log_a);
      const float a2 = expf(2.f * log_a);
      float mult = sqrtf(1.f - a2);
      if (r.reset) a = 0.f, mult = 1.f;
      av[v] = a;
      bv[v] = xv[v] * i * mult;
    }
  }
  __device__ void Store(int64_t off, const float (&h)[N]) const {
    __stcs(reinterpret_cast<uint4*>(y + off), Pack(h));
  }
};

// grid: batch * strips; strip = kLanes * N channels; block: kThreads = segs * kLanes; each thread
// kS consecutive rows of a tile of segs * kS rows.
template <class Src, int kLanes, int kThreads, int kS>
__global__ void __launch_bounds__(kThreads) StripScan(Src src, int64_t seq_len, int dim) {
  constexpr int N = Src::N;
  constexpr int kSegs = kThreads / kLanes, kRows = kSegs * kS, kWarps = kThreads / 32;
  constexpr int kSegsPerWarp = 32 / kLanes;
  __shared__ float s_A[2][kWarps][kLanes * N], s_H[2][kWarps][kLanes * N];
  const int strips = dim / (kLanes * N);
  const int64_t b = blockIdx.x / strips;
  const int strip = blockIdx.x % strips;
  const int tid = threadIdx.x, lr = tid % kLanes, seg = tid / kLanes, warp = tid / 32;
  const int seg_in_warp = seg % kSegsPerWarp;
  const int col = strip * kLanes * N + lr * N;
  const int64_t base = b * seq_len * dim + col;
  const int64_t tiles = (seq_len + kRows - 1) / kRows;
  float carry[N];
#pragma unroll
  for (int v = 0; v < N; ++v) carry[v] = 0.f;
  typename Src::Raw cur[kS];
  auto load = [&](int64_t tile, typename Src::Raw(&r)[kS]) {
#pragma unroll
    for (int s = 0; s < kS; ++s) {
      const int64_t row = tile * kRows + seg * kS + s;
      r[s] = src.Load(base + row * dim, row < seq_len);
    }
  };
  load(0, cur);
  for (int64_t tile = 0; tile < tiles; ++tile) {
    typename Src::Raw nxt[kS];
    if (tile + 1 < tiles) load(tile + 1, nxt);
    float av[kS][N], bv[kS][N];
#pragma unroll
    for (int s = 0; s < kS; ++s) src.Decode(cur[s], 0, col, av[s], bv[s]);
    float A[N], H[N];
#pragma unroll
    for (int v = 0; v < N; ++v) {
      A[v] = 1.f;
      H[v] = 0.f;
#pragma unroll
      for (int s = 0; s < kS; ++s) {
        H[v] = av[s][v] * H[v] + bv[s][v];
        A[v] *= av[s][v];
      }
    }
#pragma unroll
    for (int off = 1; off < kSegsPerWarp; off <<= 1) {
#pragma unroll
      for (int v = 0; v < N; ++v) {
        const float Ap = __shfl_up_sync(0xffffffffu, A[v], off * kLanes);
        const float Hp = __shfl_up_sync(0xffffffffu, H[v], off * kLanes);
        if (seg_in_warp >= off) {
          H[v] = A[v] * Hp + H[v];
          A[v] *= Ap;
        }
      }
    }
    float Ae[N], He[N];
#pragma unroll
    for (int v = 0; v < N; ++v) {
      Ae[v] = __shfl_up_sync(0xffffffffu, A[v], kLanes);
      He[v] = __shfl_up_sync(0xffffffffu, H[v], kLanes);
      if (seg_in_warp == 0) Ae[v] = 1.f, He[v] = 0.f;
    }
    const int buf = tile & 1;
    if (seg_in_warp == kSegsPerWarp - 1) {
#pragma unroll
      for (int v = 0; v < N; ++v)
        s_A[buf][warp][lr * N + v] = A[v], s_H[buf][warp][lr * N + v] = H[v];
    }
    __syncthreads();
    float h[N];
#pragma unroll
    for (int v = 0; v < N; ++v) {
      float c = carry[v];
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        if (w == warp) h[v] = c;
        c = s_A[buf][w][lr * N + v] * c + s_H[buf][w][lr * N + v];
      }
      carry[v] = c;
      h[v] = Ae[v] * h[v] + He[v];
    }
#pragma unroll
    for (int s = 0; s < kS; ++s) {
#pragma unroll
      for (int v = 0; v < N; ++v) h[v] = av[s][v] * h[v] + bv[s][v];
      const int64_t row = tile * kRows + seg * kS + s;
      if (row < seq_len) src.Store(base + row * dim, h);
    }
#pragma unroll
    for (int s = 0; s < kS; ++s) cur[s] = nxt[s];
  }
}

// Reference: one thread per channel, fp32 state.
template <class Src>
__global__ void RefScan(Src src, int64_t batch, int64_t seq_len, int dim) {
  constexpr int N = Src::N;
  int64_t g = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (g >= batch * dim / N) return;
  int64_t b = g / (dim / N);
  int col = (g % (dim / N)) * N;
  float h[N];
  for (int v = 0; v < N; ++v) h[v] = 0.f;
  for (int64_t t = 0; t < seq_len; ++t) {
    int64_t off = (b * seq_len + t) * dim + col;
    auto r = src.Load(off, true);
    float a[N], x[N];
    src.Decode(r, 0, col, a, x);
    for (int v = 0; v < N; ++v) h[v] = a[v] * h[v] + x[v];
    src.Store(off, h);
  }
}

template <typename T>
__global__ void Copy3(const uint4* a, const uint4* x, uint4* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    uint4 p = __ldcs(a + i), q = __ldcs(x + i);
    __stcs(y + i, make_uint4(p.x ^ q.x, p.y ^ q.y, p.z ^ q.z, p.w ^ q.w));
  }
}

__global__ void FillRandom(uint16_t* p, int64_t n, uint32_t seed, int mode, int is_bf16) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 13;
    h *= 0x5bd1e995;
    h ^= h >> 15;
    float u = (h & 0xffffff) / 16777216.f;
    float v = mode == 0 ? 0.9f + 0.1f * u : (mode == 1 ? u - 0.5f : 4.f * u - 2.f);
    if (is_bf16) {
      __nv_bfloat16 bb = __float2bfloat16(v);
      p[i] = *reinterpret_cast<uint16_t*>(&bb);
    } else
      reinterpret_cast<float*>(p)[i] = v;
  }
}

struct Timer {
  void* flush;
  size_t flush_bytes = 256u << 20;
  Timer() { CK(cudaMalloc(&flush, flush_bytes)); }
  template <class F>
  float Median(F f, int reps = 20) {
    std::vector<float> ms;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    f();
    CK(cudaDeviceSynchronize());
    for (int r = 0; r < reps; ++r) {
      CK(cudaMemsetAsync(flush, r, flush_bytes));
      cudaEventRecord(e0);
      f();
      cudaEventRecord(e1);
      CK(cudaEventSynchronize(e1));
      float m;
      cudaEventElapsedTime(&m, e0, e1);
      ms.push_back(m);
    }
    CK(cudaGetLastError());
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2] * 1000.f;
  }
};

template <typename T>
float MaxDiff(const T* p, const T* q, int64_t n) {
  std::vector<T> a(n), b(n);
  CK(cudaMemcpy(a.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(b.data(), q, n * sizeof(T), cudaMemcpyDeviceToHost));
  float m = 0;
  for (int64_t i = 0; i < n; ++i) {
    float u, w;
    if constexpr (sizeof(T) == 2) {
      u = __bfloat162float(a[i]);
      w = __bfloat162float(b[i]);
    } else {
      u = a[i];
      w = b[i];
    }
    m = std::max(m, std::fabs(u - w) / (1.f + std::fabs(w)));
  }
  return m;
}

struct Shape {
  int64_t B, T;
  int D;
};
static Timer* timer;

template <typename T, class Src, int kLanes, int kThreads, int kS>
void RunVariant(const char* op, const Src& src, const Shape& sh, double bytes, const T* ref_y,
                bool check) {
  constexpr int N = Src::N;
  if (sh.D % (kLanes * N) != 0) return;
  const int64_t blocks = sh.B * (sh.D / (kLanes * N));
  auto f = [&] {
    StripScan<Src, kLanes, kThreads, kS><<<(unsigned)blocks, kThreads>>>(src, sh.T, sh.D);
  };
  float us = timer->Median(f);
  int regs = 0;
  cudaFuncAttributes at;
  cudaFuncGetAttributes(&at, StripScan<Src, kLanes, kThreads, kS>);
  regs = at.numRegs;
  int occ = 0;
  cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, StripScan<Src, kLanes, kThreads, kS>,
                                                kThreads, 0);
  float err = check ? MaxDiff(src.y, ref_y, sh.B * sh.T * sh.D) : -1.f;
  printf(
      "%-6s %-5s B%lld_T%lld_D%d lanes=%d thr=%d S=%d blocks=%lld regs=%d occ=%d : %9.1f us  "
      "%5.1f%%  err=%.2e\n",
      op, sizeof(T) == 2 ? "bf16" : "f32", (long long)sh.B, (long long)sh.T, sh.D, kLanes, kThreads,
      kS, (long long)blocks, regs, occ, us, 100.0 * bytes / (us * 1e-6) / 4.25e12, err);
}

template <typename T, class Src>
void Variants(const char* op, const Src& src, const Shape& sh, double bytes, const T* ref_y,
              bool check) {
  RunVariant<T, Src, 1, 128, 4>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 1, 256, 4>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 2, 128, 4>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 2, 256, 4>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 2, 256, 2>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 2, 512, 2>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 4, 256, 4>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 1, 256, 8>(op, src, sh, bytes, ref_y, check);
  RunVariant<T, Src, 2, 128, 8>(op, src, sh, bytes, ref_y, check);
}

template <typename T>
void RunShape(const Shape& sh) {
  const int64_t n = sh.B * sh.T * sh.D;
  const double e = sizeof(T);
  T *a, *x, *g, *y, *ref;
  int64_t* pos;
  float* sp;
  CK(cudaMalloc(&a, n * e));
  CK(cudaMalloc(&x, n * e));
  CK(cudaMalloc(&g, n * e));
  CK(cudaMalloc(&y, n * e));
  CK(cudaMalloc(&ref, n * e));
  CK(cudaMalloc(&pos, sh.B * sh.T * 8));
  CK(cudaMalloc(&sp, sh.D * 4));
  FillRandom<<<1024, 256>>>((uint16_t*)a, n, 1, 0, sizeof(T) == 2);
  FillRandom<<<1024, 256>>>((uint16_t*)x, n, 2, 1, sizeof(T) == 2);
  FillRandom<<<1024, 256>>>((uint16_t*)g, n, 3, 2, sizeof(T) == 2);
  std::vector<int64_t> hp(sh.B * sh.T);
  for (int64_t i = 0; i < sh.B * sh.T; ++i) hp[i] = (i % sh.T) % 3000;
  CK(cudaMemcpy(pos, hp.data(), hp.size() * 8, cudaMemcpyHostToDevice));
  std::vector<float> hs(sh.D);
  for (int d = 0; d < sh.D; ++d) hs[d] = 0.01f + 0.3f * (d % 17) / 17.f;
  CK(cudaMemcpy(sp, hs.data(), hs.size() * 4, cudaMemcpyHostToDevice));
  const bool check = n <= (int64_t)64 << 20;
  {
    float us = timer->Median([&] {
      Copy3<T>
          <<<132 * 16, 256>>>((const uint4*)a, (const uint4*)x, (uint4*)y, (int64_t)(n * e / 16));
    });
    printf("copy3  %-5s B%lld_T%lld_D%d : %9.1f us  %5.1f%%\n", sizeof(T) == 2 ? "bf16" : "f32",
           (long long)sh.B, (long long)sh.T, sh.D, us, 100.0 * 3 * n * e / (us * 1e-6) / 4.25e12);
  }
  PlainSource<T> ps{a, x, y};
  if (check) {
    PlainSource<T> rs{a, x, ref};
    RefScan<<<(unsigned)((sh.B * sh.D / ps.N + 127) / 128), 128>>>(rs, sh.B, sh.T, sh.D);
    CK(cudaDeviceSynchronize());
  }
  Variants<T>("scan", ps, sh, 3.0 * n * e, ref, check);
  RgLruSource<T> rg{x, g, a, pos, sp, y, sh.T, sh.D};
  if (check) {
    RgLruSource<T> rs = rg;
    rs.y = ref;
    RefScan<<<(unsigned)((sh.B * sh.D / rg.N + 127) / 128), 128>>>(rs, sh.B, sh.T, sh.D);
    CK(cudaDeviceSynchronize());
  }
  Variants<T>("rglru", rg, sh, 4.0 * n * e, ref, check);
  cudaFree(a);
  cudaFree(x);
  cudaFree(g);
  cudaFree(y);
  cudaFree(ref);
  cudaFree(pos);
  cudaFree(sp);
}

int main() {
  timer = new Timer;
  const Shape shapes[] = {
      {1, 16384, 2560}, {8, 16384, 2560}, {64, 2048, 4096}, {1, 131072, 4096}, {256, 256, 128}};
  for (const Shape& s : shapes) {
    RunShape<__nv_bfloat16>(s);
    RunShape<float>(s);
    fflush(stdout);
  }
}
