#include "experiments/point_workers.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/io/paths.h"

extern char** environ;

namespace griffin::experiments {
namespace {

std::string ClaimPrefix(const std::string& name) { return name + ".claim-"; }

}  // namespace

std::string WorkerJournalPath(const std::string& out_dir, const std::string& name, int worker) {
  return paths::Join(out_dir, fmt::format("{}.worker-{}.journal.jsonl", name, worker));
}

std::vector<std::string> WorkerJournals(const std::string& out_dir, const std::string& name) {
  return paths::ListMatching(out_dir, name + ".worker-", ".journal.jsonl");
}

bool ClaimPoint(const std::string& out_dir, const std::string& name, int64_t index) {
  const std::string path = paths::Join(out_dir, ClaimPrefix(name) + std::to_string(index));
  const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  if (errno == EEXIST) return false;
  throw std::runtime_error(fmt::format("{}: cannot create the claim: {}", path, strerror(errno)));
}

void ClearClaims(const std::string& out_dir, const std::string& name) {
  for (const std::string& path : paths::ListMatching(out_dir, ClaimPrefix(name), "")) {
    if (std::remove(path.c_str()) != 0 && errno != ENOENT) {
      throw std::runtime_error(fmt::format("{}: cannot remove: {}", path, strerror(errno)));
    }
  }
}

int RunWorkers(const std::vector<std::string>& argv, int workers) {
  std::vector<pid_t> pids;
  int failed = 0;
  for (int i = 0; i < workers; ++i) {
    std::vector<std::string> args = argv;
    args.push_back("--worker");
    args.push_back(std::to_string(i));
    std::vector<char*> c_args;
    for (std::string& a : args) c_args.push_back(a.data());
    c_args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, c_args[0], nullptr, nullptr, c_args.data(), environ);
    if (rc != 0) {
      fmt::print(stderr, "[run] cannot start worker {} ({}): {}\n", i, argv[0], strerror(rc));
      ++failed;
      continue;
    }
    pids.push_back(pid);
  }
  for (size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    while (waitpid(pids[i], &status, 0) < 0) {
      if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    ++failed;
    fmt::print(stderr, "[run] worker process {} {}\n", pids[i],
               WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                   : fmt::format("exited with status {}", WEXITSTATUS(status)));
  }
  return failed;
}

void DieWithParent() { prctl(PR_SET_PDEATHSIG, SIGTERM); }

}  // namespace griffin::experiments
