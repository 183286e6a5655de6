// Both families on the GPU: the fixtures' logits (prefill, decode, greedy) with both scan
// implementations and in bf16, the fused-attention paths of the growing cache, and the real
// RecurrentGemma-2B / Gemma-2B shapes (random weights) past the window.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/io/safetensors.h"
#include "core/model/language_model.h"
#include "core/model/model_state.h"
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

class GriffinGpu : public ::testing::TestWithParam<OpImpl> {
 protected:
  at::InferenceMode inference_;
};

TEST_P(GriffinGpu, FixtureLogitsMatchReference) {
  GRIFFIN_REQUIRE_CUDA();
  for (const std::string fixture : {"tiny-recurrentgemma", "tiny-gemma"}) {
    SCOPED_TRACE(fixture);
    const auto ref = SafetensorsFile::Open(FixtureDir(fixture) + "/reference.safetensors");
    LoadOptions o;
    o.device = at::Device(at::kCUDA);
    o.ops.scan = GetParam();
    o.ops.conv = GetParam();
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
    EXPECT_LE(RelativeError(SequenceLogits(*bf16, Row(ids[0]), 5), prefill), 1e-2);
  }
}

// Random 2B-shape bf16 model on the GPU: prefill of T tokens in one call == the same tokens in
// `chunks` (a chunk of 1 is a decode step), and the state holds its analytic size.
void ExpectChunkedMatchesWhole(const std::string& spec, OpImpl scan, uint64_t seed,
                               const std::vector<int64_t>& chunks) {
  LoadOptions o;
  o.device = at::Device(at::kCUDA);
  o.dtype = DType::kBFloat16;
  o.ops.scan = scan;
  o.ops.conv = scan;
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

INSTANTIATE_TEST_SUITE_P(Scan, GriffinGpu, ::testing::Values(OpImpl::kReference, OpImpl::kCuda),
                         [](const auto& info) { return std::string(OpImplName(info.param)); });

}  // namespace
}  // namespace griffin
