// Scale-out on torch.distributed as LibTorch ships it (c10d): where this process sits in a launch
// by torchrun or Slurm's srun, and the launch's key-value store (c10d::TCPStore), through which
// ranks share what is not a tensor (which sweep point each takes, the points they finished).
// README.md, "Several GPUs and hosts", has the launch lines. No c10d header leaks from here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace griffin::distributed {

// This process's place in the launch. torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
// MASTER_PORT; inside an srun step, SLURM_PROCID, SLURM_STEP_NUM_TASKS and SLURM_LOCALID stand
// in for the first three, and the batch script exports MASTER_ADDR and MASTER_PORT. Neither: one
// process (an sbatch script's own shell included).
struct Launch {
  int rank = 0, world_size = 1, local_rank = 0;
  // Ranks on this host (torchrun's LOCAL_WORLD_SIZE, srun's SLURM_STEP_TASKS_PER_NODE; 1 if not
  // said): they share its cores.
  int local_world_size = 1;
  std::string master_addr;
  int master_port = 0;
  std::string launcher;  // "torchrun", "srun" or "" (a single process)
  // torchrun's agent serves the store itself (TORCHELASTIC_USE_AGENT_STORE): every rank is a
  // client; its restart count keeps one attempt's keys apart from the last one's.
  bool agent_store = false;
  int restart = 0;

  // Whether a launcher started this process, a world of one included: `torchrun
  // --nproc-per-node=1` is the one-GPU baseline of a scaling run and trains data-parallel on a
  // group of one, as the larger launches do.
  bool Distributed() const { return !launcher.empty(); }
  // A world of one started without MASTER_ADDR (`srun -n 1`): its store lives in this process.
  bool LocalStore() const { return master_addr.empty(); }
};

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The launch as the environment describes it; std::invalid_argument naming the variable when
// one is malformed or missing (RANK without WORLD_SIZE, a rank outside the world, no
// MASTER_ADDR in a launch of several processes).
Launch ReadLaunch(const EnvLookup& env);
Launch ReadLaunch();  // from this process's environment

// The launch's store: rank 0 serves it (unless torchrun's agent does), every rank connects.
// Keys are strings, values bytes; every key is kept apart per launch attempt.
class Store {
 public:
  // Connects (rank 0 also serves), waiting up to `timeout` for every rank to arrive.
  static std::unique_ptr<Store> Connect(const Launch& launch, std::chrono::milliseconds timeout);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A second connection to the same store, for another thread.
  std::unique_ptr<Store> Clone() const;

  void Set(const std::string& key, const std::string& value);
  // The value, waiting for the key up to `timeout` (the connection's default when not given).
  std::string Get(const std::string& key,
                  std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  bool Has(const std::string& key);
  // Adds `delta` to the integer at `key` (0 if unset) and returns the sum, atomically.
  int64_t Add(const std::string& key, int64_t delta);
  // A first-in, first-out queue of values: Push appends; Pop takes the oldest, or nothing when
  // the queue is empty.
  void Push(const std::string& queue, const std::string& value);
  std::optional<std::string> Pop(const std::string& queue);

  // Returns once every rank has called it with the same name (each name used once), waiting up
  // to `timeout`.
  void Barrier(const std::string& name, std::chrono::milliseconds timeout);

  const Launch& launch() const { return launch_; }

 private:
  friend class Group;
  struct Impl;
  Store(Launch launch, std::unique_ptr<Impl> impl);
  std::string Key(const std::string& key) const;

  Launch launch_;
  std::unique_ptr<Impl> impl_;
};

// Collectives over every rank of the launch, for data-parallel training (eval/train/
// data_parallel.h): c10d's ProcessGroupNCCL for CUDA tensors, ProcessGroupGloo for CPU ones, on
// a prefix of the launch's store. Every rank creates it at the same point (Gloo connects all
// ranks there). What the collectives are is c10d's: distributed_c10d.h, for the code that uses
// them.
class Group {
 public:
  static std::shared_ptr<Group> Create(const Store& store, bool cuda);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  int rank() const;
  int size() const;
  bool cuda() const { return cuda_; }

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  Group(std::unique_ptr<Impl> impl, bool cuda);
  std::unique_ptr<Impl> impl_;
  bool cuda_;
};

// The group a launch trains with, as torch.distributed's default group: set by `griffin run`
// under a launcher when a point trains data-parallel; null otherwise.
std::shared_ptr<Group> DefaultGroup();
void SetDefaultGroup(std::shared_ptr<Group> group);

// Makes GPU LOCAL_RANK this process's current CUDA device (a launch runs one rank per GPU), so
// that "cuda" in a config means the rank's own GPU; std::invalid_argument when the host shows
// several GPUs but fewer than local ranks. With one GPU visible (a per-task binding) it is that
// one; nothing on the CPU.
void UseLocalGpu(const Launch& launch);

}  // namespace griffin::distributed
