// Where a process sits in a torchrun or srun launch (core/runtime/distributed.h), read from a
// made-up environment; the launches themselves run in tests/cli/test_run_ranks.py.
#include "core/runtime/distributed.h"

#include <gtest/gtest.h>

#include <map>

#include "test_util.h"

namespace griffin::distributed {
namespace {

using testing::ExpectErrorContaining;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(ReadLaunch, NoLauncherIsOneProcess) {
  const Launch l = ReadLaunch(Env({{"MASTER_ADDR", "node1"}}));
  EXPECT_FALSE(l.Distributed());
  EXPECT_EQ(l.rank, 0);
  EXPECT_EQ(l.world_size, 1);
  EXPECT_EQ(l.launcher, "");
}

TEST(ReadLaunch, Torchrun) {
  const Launch l = ReadLaunch(Env({{"RANK", "5"},
                                   {"WORLD_SIZE", "8"},
                                   {"LOCAL_RANK", "1"},
                                   {"LOCAL_WORLD_SIZE", "4"},
                                   {"MASTER_ADDR", "node1"},
                                   {"MASTER_PORT", "29500"},
                                   {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                   {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  EXPECT_TRUE(l.Distributed());
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.rank, 5);
  EXPECT_EQ(l.world_size, 8);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 4);
  EXPECT_EQ(l.master_addr, "node1");
  EXPECT_EQ(l.master_port, 29500);
  EXPECT_TRUE(l.agent_store);
  EXPECT_EQ(l.restart, 2);
}

TEST(ReadLaunch, SrunWithTheBatchScriptsAddress) {
  const Launch l = ReadLaunch(Env({{"SLURM_PROCID", "3"},
                                   {"SLURM_NTASKS", "16"},
                                   {"SLURM_STEP_NUM_TASKS", "4"},
                                   {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
                                   {"SLURM_LOCALID", "1"},
                                   {"MASTER_ADDR", "gpu-07"},
                                   {"MASTER_PORT", "29511"}}));
  EXPECT_EQ(l.launcher, "srun");
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.world_size, 4);  // the step's tasks, not the job's
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.local_world_size, 2);
  EXPECT_FALSE(l.agent_store);
}

TEST(ReadLaunch, AnSbatchScriptsOwnShellIsOneProcess) {
  // The batch step has SLURM_PROCID and SLURM_NTASKS but is no srun step.
  const Launch l = ReadLaunch(Env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "16"}}));
  EXPECT_FALSE(l.Distributed());
  EXPECT_EQ(l.launcher, "");
}

TEST(ReadLaunch, TorchrunVariablesWinOverSlurms) {
  // torchrun started inside a Slurm allocation: its own variables describe the processes.
  const Launch l = ReadLaunch(Env(
      {{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"SLURM_PROCID", "3"}, {"SLURM_STEP_NUM_TASKS", "4"}}));
  EXPECT_EQ(l.launcher, "torchrun");
  EXPECT_EQ(l.rank, 0);
  EXPECT_EQ(l.world_size, 1);
}

TEST(ReadLaunch, AWorldOfOneIsALaunch) {
  // torchrun --nproc-per-node=1 (the one-GPU baseline of a scaling run) goes through the ranks'
  // path like any launch, with torchrun's store.
  const Launch t = ReadLaunch(Env({{"RANK", "0"},
                                   {"WORLD_SIZE", "1"},
                                   {"MASTER_ADDR", "127.0.0.1"},
                                   {"MASTER_PORT", "29400"}}));
  EXPECT_TRUE(t.Distributed());
  EXPECT_FALSE(t.LocalStore());
  // `srun -n 1` without MASTER_ADDR: a launch whose store lives in the process.
  const Launch s = ReadLaunch(Env({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "1"}}));
  EXPECT_TRUE(s.Distributed());
  EXPECT_TRUE(s.LocalStore());
  EXPECT_EQ(s.launcher, "srun");
}

TEST(Store, AWorldOfOneKeepsItsStoreInTheProcess) {
  Launch l;
  l.launcher = "srun";
  const std::unique_ptr<Store> store = Store::Connect(l, std::chrono::seconds(5));
  store->Set("a", "x");
  EXPECT_EQ(store->Get("a"), "x");
  EXPECT_TRUE(store->Has("a"));
  EXPECT_FALSE(store->Has("b"));
  EXPECT_EQ(store->Add("n", 2), 2);
  EXPECT_EQ(store->Add("n", 3), 5);
  store->Push("q", "1");
  store->Push("q", "2");
  // A clone (another thread's connection) sees the same keys and queue.
  const std::unique_ptr<Store> clone = store->Clone();
  EXPECT_EQ(clone->Get("a"), "x");
  EXPECT_EQ(clone->Pop("q"), "1");
  EXPECT_EQ(store->Pop("q"), "2");
  EXPECT_EQ(store->Pop("q"), std::nullopt);
  store->Barrier("alone", std::chrono::seconds(5));  // one rank: returns at once
  EXPECT_ANY_THROW(store->Get("missing", std::chrono::milliseconds(50)));
}

TEST(ReadLaunch, MistakesNameTheVariable) {
  ExpectErrorContaining([] { ReadLaunch(Env({{"RANK", "0"}})); }, {"WORLD_SIZE is not set"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env({{"RANK", "x"}, {"WORLD_SIZE", "2"}}));
      },
      {"RANK='x': not an integer >= 0"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env({{"RANK", "0"}, {"WORLD_SIZE", "0"}}));
      },
      {"WORLD_SIZE='0': not an integer >= 1"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env({{"RANK", "2"}, {"WORLD_SIZE", "2"}}));
      },
      {"rank 2 is outside a world of 2 processes (RANK, WORLD_SIZE)"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env({{"RANK", "1"}, {"WORLD_SIZE", "2"}}));
      },
      {"MASTER_ADDR is not set"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}));
      },
      {"MASTER_PORT is not set"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env(
            {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}));
      },
      {"MASTER_PORT=70000: not a port"});
  ExpectErrorContaining(
      [] {
        ReadLaunch(Env({{"SLURM_PROCID", "4"}, {"SLURM_STEP_NUM_TASKS", "4"}}));
      },
      {"rank 4 is outside a world of 4 processes (SLURM_PROCID, SLURM_STEP_NUM_TASKS)"});
}

}  // namespace
}  // namespace griffin::distributed
