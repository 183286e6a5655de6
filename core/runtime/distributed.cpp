#include "core/runtime/distributed.h"
#include "core/runtime/distributed_c10d.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GRIFFIN_WITH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace griffin::distributed {
namespace {

std::optional<int> ParseInt(const std::string& s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The integer in variable `name`: nullopt when unset; std::invalid_argument when not an integer
// of at least `least`.
std::optional<int> IntVar(const EnvLookup& env, const char* name, int least) {
  const std::optional<std::string> s = env(name);
  if (!s) return std::nullopt;
  const std::optional<int> v = ParseInt(*s);
  if (!v || *v < least) {
    throw std::invalid_argument(
        fmt::format("environment variable {}='{}': not an integer >= {}", name, *s, least));
  }
  return v;
}

int RequiredIntVar(const EnvLookup& env, const char* name, int least, const char* because) {
  const std::optional<int> v = IntVar(env, name, least);
  if (!v)
    throw std::invalid_argument(
        fmt::format("environment variable {} is not set ({})", name, because));
  return *v;
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

}  // namespace

Launch ReadLaunch(const EnvLookup& env) {
  Launch l;
  if (env("RANK")) {
    l.launcher = "torchrun";
    l.rank = *IntVar(env, "RANK", 0);
    l.world_size = RequiredIntVar(env, "WORLD_SIZE", 1, "RANK is");
    l.local_rank = IntVar(env, "LOCAL_RANK", 0).value_or(0);
    l.local_world_size = IntVar(env, "LOCAL_WORLD_SIZE", 1).value_or(1);
  } else if (env("SLURM_PROCID") && env("SLURM_STEP_NUM_TASKS")) {
    // Inside an srun step only: an sbatch script's own shell has SLURM_PROCID and SLURM_NTASKS
    // too, and a griffin started there is one process.
    l.launcher = "srun";
    l.rank = *IntVar(env, "SLURM_PROCID", 0);
    l.world_size = *IntVar(env, "SLURM_STEP_NUM_TASKS", 1);
    l.local_rank = IntVar(env, "SLURM_LOCALID", 0).value_or(0);
    // "8(x2)" or "8,8": this node's count first on a uniform allocation.
    const std::string per_node = env("SLURM_STEP_TASKS_PER_NODE").value_or("1");
    l.local_world_size =
        std::max(1, ParseInt(per_node.substr(0, per_node.find_first_of("(,"))).value_or(1));
  } else {
    return l;
  }
  if (l.rank >= l.world_size) {
    throw std::invalid_argument(fmt::format(
        "rank {} is outside a world of {} processes ({})", l.rank, l.world_size,
        l.launcher == "srun" ? "SLURM_PROCID, SLURM_STEP_NUM_TASKS" : "RANK, WORLD_SIZE"));
  }
  l.agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  l.restart = IntVar(env, "TORCHELASTIC_RESTART_COUNT", 0).value_or(0);
  const std::optional<std::string> addr = env("MASTER_ADDR");
  if (l.world_size == 1 && !l.agent_store && (!addr || addr->empty())) return l;  // LocalStore()
  if (!addr || addr->empty()) {
    throw std::invalid_argument(
        "environment variable MASTER_ADDR is not set (the host of rank 0, where the store runs; "
        "torchrun sets it, an sbatch script exports it)");
  }
  l.master_addr = *addr;
  l.master_port = RequiredIntVar(env, "MASTER_PORT", 1, "the store's port on MASTER_ADDR");
  if (l.master_port > 65535) {
    throw std::invalid_argument(
        fmt::format("environment variable MASTER_PORT={}: not a port", l.master_port));
  }
  return l;
}

Launch ReadLaunch() {
  return ReadLaunch([](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
}

struct Store::Impl {
  c10::intrusive_ptr<c10d::Store> store;
};

Store::Store(Launch launch, std::unique_ptr<Impl> impl)
    : launch_(std::move(launch)), impl_(std::move(impl)) {}
Store::~Store() = default;

std::unique_ptr<Store> Store::Connect(const Launch& launch, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  if (launch.LocalStore()) {
    impl->store = c10::make_intrusive<c10d::HashStore>();
    impl->store->setTimeout(timeout);
    return std::unique_ptr<Store>(new Store(launch, std::move(impl)));
  }
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(launch.master_port);
  o.isServer = launch.rank == 0 && !launch.agent_store;
  o.numWorkers = launch.world_size;
  o.waitWorkers = !launch.agent_store;
  o.timeout = timeout;
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, o);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("rank {}: cannot reach the store at {}:{} ({}): {}",
                                         launch.rank, launch.master_addr, launch.master_port,
                                         o.isServer ? "serving it" : "as a client", e.what()));
  }
  return std::unique_ptr<Store>(new Store(launch, std::move(impl)));
}

std::unique_ptr<Store> Store::Clone() const {
  auto impl = std::make_unique<Impl>();
  impl->store = impl_->store->clone();  // a HashStore's clone is itself, a map threads share
  return std::unique_ptr<Store>(new Store(launch_, std::move(impl)));
}

std::string Store::Key(const std::string& key) const {
  return fmt::format("griffin/attempt_{}/{}", launch_.restart, key);
}

void Store::Set(const std::string& key, const std::string& value) {
  impl_->store->set(Key(key), Bytes(value));
}

std::string Store::Get(const std::string& key, std::optional<std::chrono::milliseconds> timeout) {
  if (timeout) impl_->store->wait({Key(key)}, *timeout);
  return Text(impl_->store->get(Key(key)));
}

bool Store::Has(const std::string& key) { return impl_->store->check({Key(key)}); }

int64_t Store::Add(const std::string& key, int64_t delta) {
  return impl_->store->add(Key(key), delta);
}

void Store::Push(const std::string& queue, const std::string& value) {
  impl_->store->queuePush(Key(queue), Bytes(value));
}

std::optional<std::string> Store::Pop(const std::string& queue) {
  if (impl_->store->queueLen(Key(queue)) == 0) return std::nullopt;
  return Text(impl_->store->queuePop(Key(queue), /*block=*/false));
}

void Store::Barrier(const std::string& name, std::chrono::milliseconds timeout) {
  const std::string arrived = "barrier/" + name, open = arrived + "/open";
  if (Add(arrived, 1) == launch_.world_size) Set(open, "1");
  impl_->store->wait({Key(open)}, timeout);
}

namespace {

// Gloo's transport endpoint: the interface GLOO_SOCKET_IFNAME names (its first, as torch's
// Python side reads it), else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> GlooDevice() {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname) {
    const std::string first(ifname, std::strcspn(ifname, ","));
    return c10d::ProcessGroupGloo::createDeviceForInterface(first);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::Backend> MakeBackend(const c10::intrusive_ptr<c10d::Store>& store,
                                              int rank, int size, bool cuda) {
  if (cuda) {
#ifdef GRIFFIN_WITH_CUDA
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size,
                                                       c10d::ProcessGroupNCCL::Options::create());
#else
    throw std::invalid_argument("data-parallel training on CUDA needs a build with CUDA");
#endif
  }
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(GlooDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

std::shared_ptr<Group>& DefaultGroupSlot() {
  static std::shared_ptr<Group> group;
  return group;
}

}  // namespace

Group::Group(std::unique_ptr<Impl> impl, bool cuda) : impl_(std::move(impl)), cuda_(cuda) {}
Group::~Group() = default;
int Group::rank() const { return impl_->group->getRank(); }
int Group::size() const { return impl_->group->getSize(); }

std::shared_ptr<Group> Group::Create(const Store& store, bool cuda) {
  const Launch& l = store.launch();
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(
      fmt::format("griffin/attempt_{}/group", l.restart), store.impl_->store);
  auto impl = std::make_unique<Impl>();
  try {
    impl->group = c10::make_intrusive<c10d::ProcessGroup>(prefixed, l.rank, l.world_size);
    const auto type =
        cuda ? c10d::ProcessGroup::BackendType::NCCL : c10d::ProcessGroup::BackendType::GLOO;
    impl->group->setBackend(cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU, type,
                            MakeBackend(prefixed, l.rank, l.world_size, cuda));
    impl->group->setDefaultBackend(type);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("rank {}: cannot form the {} group of {} ranks: {}",
                                         l.rank, cuda ? "NCCL" : "Gloo", l.world_size, e.what()));
  }
  return std::shared_ptr<Group>(new Group(std::move(impl), cuda));
}

std::shared_ptr<Group> DefaultGroup() { return DefaultGroupSlot(); }
void SetDefaultGroup(std::shared_ptr<Group> group) { DefaultGroupSlot() = std::move(group); }

void UseLocalGpu(const Launch& launch) {
  if (!c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA)) return;
  const auto* cuda = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
  const c10::DeviceIndex gpus = cuda->deviceCount();
  if (gpus <= 1) return;  // none, or the one a per-task binding (srun --gpus-per-task=1) leaves
  if (launch.local_rank >= gpus) {
    throw std::invalid_argument(fmt::format(
        "local rank {} has no GPU of its own: this host has {} (start at most that many processes "
        "per host: torchrun --nproc-per-node, srun --ntasks-per-node)",
        launch.local_rank, gpus));
  }
  cuda->setDevice(
      c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(launch.local_rank)));
}

}  // namespace griffin::distributed
