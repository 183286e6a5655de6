// Both families on the GPU: the fixtures' logits (prefill, decode, greedy) with both scan
// implementations and in bf16, the fused-attention paths of the growing cache, and the real
// RecurrentGemma-2B / Gemma-2B shapes (random weights) past the window.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/io/safetensors.h"
#include "core/model/language_model.h"
#include "core/model/layers.h"
#include "core/model/model.h"
#include "core/model/model_state.h"
#include "core/model/weights.h"
#include "core/runtime/device_decode.h"
#include "core/runtime/generate.h"
#include "test_util.h"

namespace griffin {
void PrintTo(OpImpl impl, std::ostream* os) { *os << OpImplName(impl); }

namespace {

using testing::FixtureDir;
using testing::RelativeError;

std::vector<int64_t> Row(const at::Tensor& t) {
  const at::Tensor r = t.contiguous();
  return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

// On the GPU with `ops` for both the RG-LRU and the Conv1D.
LoadOptions CudaOptions(OpImpl ops) {
  LoadOptions o;
  o.device = at::Device(at::kCUDA);
  o.ops.scan = ops;
  o.ops.conv = ops;
  return o;
}

class GriffinGpu : public ::testing::TestWithParam<OpImpl> {
 protected:
  at::InferenceMode inference_;
};

TEST_P(GriffinGpu, FixtureLogitsMatchReference) {
  GRIFFIN_REQUIRE_CUDA();
  for (const std::string fixture : {"tiny-recurrentgemma", "tiny-gemma"}) {
    SCOPED_TRACE(fixture);
    const auto ref = SafetensorsFile::Open(FixtureDir(fixture) + "/reference.safetensors");
    LoadOptions o = CudaOptions(GetParam());
    const auto model = LoadModel(FixtureDir(fixture), o);
    const at::Tensor ids = ref->Tensor("input_ids").clone();
    auto state = model->NewState(2);
    const at::Tensor logits =
        model->Forward(ids, at::arange(36, at::kLong).expand({2, 36}).contiguous(), *state);
    EXPECT_TRUE(logits.is_cuda());
    EXPECT_LE(RelativeError(logits, ref->Tensor("logits")), 1e-5);
    for (int64_t p : {0, 13}) {
      const at::Tensor got = SequenceLogits(*model, Row(ids[0]), p);
      EXPECT_LE(RelativeError(got, ref->Tensor("logits")[0]), 1e-5) << "decode from " << p;
    }
    GenerateOptions g;
    g.max_new_tokens = 28;
    EXPECT_EQ(Generate(*model, Row(ref->Tensor("prompt_ids")[0]), g),
              Row(ref->Tensor("greedy_ids")[0]));

    // A chunk after a cached prefix (the masked fused path of the growing cache).
    auto chunked = model->NewState(1);
    const at::Tensor row = ids.narrow(0, 0, 1), pos = at::arange(36, at::kLong).unsqueeze(0);
    const at::Tensor first = model->Forward(row.narrow(1, 0, 20), pos.narrow(1, 0, 20), *chunked);
    const at::Tensor rest = model->Forward(row.narrow(1, 20, 16), pos.narrow(1, 20, 16), *chunked);
    EXPECT_LE(RelativeError(at::cat({first, rest}, 1)[0], ref->Tensor("logits")[0]), 1e-5);

    o.dtype = DType::kBFloat16;
    const auto bf16 = LoadModel(FixtureDir(fixture), o);
    const at::Tensor prefill = SequenceLogits(*bf16, Row(ids[0]), std::nullopt);
    EXPECT_LE(RelativeError(prefill, ref->Tensor("logits")[0]), 3e-2);
    // Decode steps in bf16 (the decode attention kernels: softmax and weighted sum in float32)
    // are as close to the float32 reference as the prefill (flash attention, probabilities
    // rounded to bf16); between the two, both roundings (tiny-gemma: 1.3e-2 measured).
    const at::Tensor decoded = SequenceLogits(*bf16, Row(ids[0]), 5);
    EXPECT_LE(RelativeError(decoded, ref->Tensor("logits")[0]), 3e-2);
    EXPECT_LE(RelativeError(decoded, prefill), 2e-2);
  }
}

// Random 2B-shape bf16 model on the GPU: prefill of T tokens in one call == the same tokens in
// `chunks` (a chunk of 1 is a decode step), and the state holds its analytic size.
void ExpectChunkedMatchesWhole(const std::string& spec, OpImpl scan, uint64_t seed,
                               const std::vector<int64_t>& chunks) {
  LoadOptions o = CudaOptions(scan);
  o.dtype = DType::kBFloat16;
  o.seed = seed;
  const auto model = LoadModel(spec, o);
  int64_t T = 0;
  for (int64_t n : chunks) T += n;
  const at::Tensor ids = at::randint(1, model->config().vocab_size, {1, T}, at::kLong);
  const at::Tensor pos = at::arange(T, at::kLong).unsqueeze(0);
  auto whole = model->NewState(1);
  const at::Tensor want = model->Forward(ids, pos, *whole);
  auto chunked = model->NewState(1);
  std::vector<at::Tensor> parts;
  int64_t start = 0;
  for (int64_t n : chunks) {
    parts.push_back(model->Forward(ids.narrow(1, start, n), pos.narrow(1, start, n), *chunked));
    start += n;
  }
  EXPECT_LE(RelativeError(at::cat(parts, 1), want), 2e-2);
  EXPECT_EQ(whole->Bytes(), AnalyticStateSize(model->config(), 1, T, at::kBFloat16).total());
  EXPECT_EQ(chunked->Bytes(), whole->Bytes());
}

TEST(ModelGpu, Gemma2BShapesChunkedEqualsWhole) {
  GRIFFIN_REQUIRE_CUDA();
  std::vector<int64_t> chunks = {1100, 1890};
  chunks.resize(chunks.size() + 10, 1);  // then ten decode steps
  ExpectChunkedMatchesWhole("preset:gemma-2b", OpImpl::kReference, 5, chunks);
}

TEST_P(GriffinGpu, RecurrentGemma2BShapesPastTheWindow) {
  GRIFFIN_REQUIRE_CUDA();
  ExpectChunkedMatchesWhole("preset:recurrentgemma-2b", GetParam(), 3, {2100, 648});  // window 2048
}

// Decode steps replayed from a CUDA graph: the fixtures' greedy ids (16 prompt tokens, 28 new,
// past 3 windows), and every step's logits equal to the same fixed-shape step run eagerly.
TEST_P(GriffinGpu, GraphDecodeMatchesReferenceAndEager) {
  GRIFFIN_REQUIRE_CUDA();
  for (const std::string fixture : {"tiny-recurrentgemma", "tiny-gemma"}) {
    SCOPED_TRACE(fixture);
    const auto ref = SafetensorsFile::Open(FixtureDir(fixture) + "/reference.safetensors");
    const auto model = LoadModel(FixtureDir(fixture), CudaOptions(GetParam()));
    const at::Tensor prompt = ref->Tensor("prompt_ids").clone();
    const int64_t P = prompt.size(1), n = ref->Tensor("greedy_ids").size(1);
    std::vector<std::vector<int64_t>> ids(2);
    std::vector<std::vector<at::Tensor>> logits(2);
    for (int graph = 0; graph < 2; ++graph) {
      auto state = model->NewState(1);
      const at::Tensor last = model->Forward(prompt, at::arange(P, at::kLong).unsqueeze(0), *state,
                                             nullptr, /*last_logits_only=*/true);
      DeviceGreedyDecoder decoder(*model, *state, last.select(1, -1).argmax(-1, true),
                                  at::full({1, 1}, P, at::kLong), n - 1, graph == 1);
      ids[graph].push_back(decoder.tokens()[0][0].item<int64_t>());
      for (int64_t t = 1; t < n; ++t) {
        decoder.Step();
        ids[graph].push_back(decoder.tokens()[0][0].item<int64_t>());
        logits[graph].push_back(decoder.logits().clone());
      }
      EXPECT_EQ(decoder.graphed(), graph == 1);
      EXPECT_EQ(state->tokens_seen(), P + n - 1);
    }
    EXPECT_EQ(ids[1], Row(ref->Tensor("greedy_ids")[0]));
    EXPECT_EQ(ids[0], ids[1]);
    for (size_t t = 0; t < logits[0].size(); ++t) {
      EXPECT_LE(RelativeError(logits[1][t], logits[0][t]), 1e-6) << "step " << t;
    }
  }
}

// The 2B shapes in bf16 at batch 2: prefill past the window, then graph replays against the same
// fixed-shape step run eagerly (the CPU tests tie that step to ordinary decoding).
void ExpectGraphDecodeMatchesEager(const std::string& spec, OpImpl ops, int64_t prompt,
                                   double tol) {
  LoadOptions o = CudaOptions(ops);
  o.dtype = DType::kBFloat16;
  o.seed = 11;
  const auto model = LoadModel(spec, o);
  const at::Tensor ids = at::randint(1, model->config().vocab_size, {2, prompt}, at::kLong);
  const at::Tensor pos = at::arange(prompt, at::kLong).expand({2, prompt}).contiguous();
  std::vector<std::vector<at::Tensor>> logits(2);
  for (int graph = 0; graph < 2; ++graph) {
    auto state = model->NewState(2);
    const at::Tensor last = model->Forward(ids, pos, *state, nullptr, true);
    DeviceGreedyDecoder decoder(*model, *state, last.select(1, -1).argmax(-1, true),
                                at::full({2, 1}, prompt, at::kLong), 12, graph == 1);
    for (int t = 0; t < 12; ++t) {
      decoder.Step();
      logits[graph].push_back(decoder.logits().clone());
    }
    EXPECT_EQ(decoder.graphed(), graph == 1);
  }
  for (size_t t = 0; t < logits[0].size(); ++t) {
    EXPECT_LE(RelativeError(logits[1][t], logits[0][t]), tol) << spec << " step " << t;
  }
}

// bf16 tolerance for Gemma-2B: its graph and eager steps drifted apart from step 8 on, by 2.2e-3
// to 7.7e-3, in two of four H200 runs on 2026-12-01; the cause (a kernel whose last bits vary
// between runs, or cuBLAS choosing other algorithms under capture) is not established. A wrong
// mask or a stale cache slot gives errors of order 1.
TEST(ModelGpu, GraphDecodeGemma2BShapes) {
  GRIFFIN_REQUIRE_CUDA();
  ExpectGraphDecodeMatchesEager("preset:gemma-2b", OpImpl::kReference, 1500, 1e-2);
}

TEST_P(GriffinGpu, GraphDecodeRecurrentGemma2BShapes) {
  GRIFFIN_REQUIRE_CUDA();
  ExpectGraphDecodeMatchesEager("preset:recurrentgemma-2b", GetParam(), 2040, 1e-3);  // window 2048
}

// A fresh stream's first chunk (training, a prompt) runs the local attention as flash attention
// with a left window: the positions, given on the host, show one plain stream. Given on the
// device they take the masked path. Both must give the same logits and weight gradients, within
// bf16 rounding, for windows shorter than, equal to and longer than the chunk, with multi-query
// heads (4 query heads, one key-value head).
TEST(ModelGpu, FreshChunkBandAttentionMatchesMasked) {
  GRIFFIN_REQUIRE_CUDA();
  const c10::InferenceMode not_inference(false);
  const at::Device cuda(at::kCUDA);
  for (const int64_t window : {1, 7, 45, 64}) {
    SCOPED_TRACE("window " + std::to_string(window));
    ModelConfig c = PresetWithOverrides("tiny-griffin,layers=3,window=" + std::to_string(window));
    c.dtype = DType::kBFloat16;
    std::map<std::string, at::Tensor> masters = RandomWeightTensors(c, 3, cuda, DType::kFloat32);
    OpChoice ops;
    ops.scan = ops.conv = OpImpl::kCuda;
    const int64_t B = 3, T = 45;
    const at::Tensor ids = at::randint(c.vocab_size, {B, T}, at::kLong);
    const at::Tensor positions = at::arange(T, at::kLong).expand({B, T}).contiguous();
    std::map<std::string, bool> keep_fp32;  // the trainer's dtype policy (eval/train/trainer.h)
    for (const WeightSpec& spec : WeightSpecs(c)) keep_fp32[spec.name] = spec.keep_fp32;
    const auto run = [&](const at::Tensor& pos) {
      std::map<std::string, at::Tensor> leaves, compute;
      for (const auto& [name, p] : masters) {
        leaves[name] = p.detach().clone().requires_grad_(true);
        compute[name] = leaves[name].to(keep_fp32.at(name) ? at::kFloat : at::kBFloat16);
      }
      const Model model(c, AssembleWeights(c, compute), cuda, ops);
      auto state = model.NewState(B);
      const at::Tensor logits = model.Forward(ids, pos, *state);
      // A loss that weighs every position differently, so no gradient cancels by symmetry.
      (logits * at::linspace(0.5, 1.5, T, logits.options()).view({1, T, 1})).sum().backward();
      std::map<std::string, at::Tensor> grads;
      for (const auto& [name, p] : leaves) grads[name] = p.grad();
      return std::make_pair(logits.detach(), grads);
    };
    const auto [flash, flash_grads] = run(positions);
    const auto [masked, masked_grads] = run(positions.to(cuda));
    EXPECT_LE(RelativeError(flash, masked), 1e-2);
    for (const auto& [name, g] : masked_grads) {
      SCOPED_TRACE(name);
      ASSERT_TRUE(g.defined() && flash_grads.at(name).defined());
      EXPECT_LE(RelativeError(flash_grads.at(name), g), 3e-2);
    }
  }
}

// Linear (core/model/layers.h) forms a training step's bias gradient as a matrix product on the
// GPU: the same gradients as at::linear's autograd, for 3-D inputs, in float32 and bf16, and for a
// transposed weight view (the one-block gates of the RG-LRU).
TEST(ModelGpu, LinearGradientsMatchAten) {
  GRIFFIN_REQUIRE_CUDA();
  const c10::InferenceMode not_inference(false);
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (const bool transposed : {false, true}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + (transposed ? " transposed" : ""));
      const at::TensorOptions o = at::TensorOptions().device(at::kCUDA).dtype(dtype);
      const at::Tensor x0 = at::randn({3, 37, 20}, o), b0 = at::randn({24}, o);
      const at::Tensor w0 = transposed ? at::randn({20, 24}, o).t() : at::randn({24, 20}, o);
      const at::Tensor dy = at::randn({3, 37, 24}, o);
      std::vector<at::Tensor> grads[2];
      for (int ours = 0; ours < 2; ++ours) {
        at::Tensor x = x0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
        at::Tensor w = w0.detach().requires_grad_(true);
        const at::Tensor y = ours ? Linear(x, w, b) : at::linear(x, w, b);
        (y * dy).sum().backward();
        grads[ours] = {y.detach(), x.grad(), w.grad(), b.grad()};
      }
      const double tol = dtype == at::kFloat ? 1e-5 : 1e-2;
      const char* names[] = {"y", "dx", "dw", "db"};
      for (size_t k = 0; k < 4; ++k) {
        EXPECT_LE(RelativeError(grads[1][k], grads[0][k]), tol) << names[k];
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scan, GriffinGpu, ::testing::Values(OpImpl::kReference, OpImpl::kCuda),
                         [](const auto& info) { return std::string(OpImplName(info.param)); });

}  // namespace
}  // namespace griffin
