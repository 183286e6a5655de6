#include "experiments/journal.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/io/paths.h"
#include "experiments/point_workers.h"
#include "experiments/toml.h"

namespace griffin::experiments {
namespace {

constexpr const char* kJournalFormat = "griffin-journal";

}  // namespace

std::map<int64_t, PointResult> ReadJournal(const std::string& path, const ExperimentConfig& c,
                                           const std::vector<ExperimentPoint>& points) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) throw std::runtime_error(path + ": empty journal; delete it to start over");
  const nlohmann::json header = nlohmann::json::parse(lines[0], nullptr, false);
  if (header.is_discarded() || header.value("format", "") != kJournalFormat) {
    throw std::runtime_error(path + ": not a griffin journal (first line)");
  }
  if (!SameResolvedConfig(header.value("config_toml", ""), c.resolved_toml)) {
    throw std::runtime_error(fmt::format(
        "{}: the interrupted run used a different config (after --set overrides); resume with the "
        "same file and overrides, or delete the journal to start over",
        path));
  }
  std::map<int64_t, PointResult> done;
  for (size_t i = 1; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, false);
    if (j.is_discarded()) {
      if (i + 1 == lines.size()) {
        fmt::print(stderr, "[run] {}: dropping a torn last line (the point it began is redone)\n",
                   path);
        continue;
      }
      throw std::runtime_error(fmt::format("{}:{}: malformed journal line", path, i + 1));
    }
    PointResult r = PointResult::FromJson(j);
    const int64_t k = r.point.index;
    if (k < 0 || k >= static_cast<int64_t>(points.size()) ||
        PointKey(c, points[k]) != PointKey(c, r.point)) {
      throw std::runtime_error(fmt::format("{}:{}: point {} does not match the plan", path, i + 1,
                                           PointKey(c, r.point)));
    }
    done[k] = std::move(r);
  }
  return done;
}

void AppendDurably(std::FILE* f, const std::string& path, const std::string& line) {
  if (std::fputs((line + "\n").c_str(), f) < 0 || std::fflush(f) != 0 || fsync(fileno(f)) != 0) {
    throw std::runtime_error(path + ": cannot append to the journal");
  }
}

namespace {

// Cuts a torn last line (a process killed mid-write) off the file, so that the next line appended
// starts a line of its own; ReadJournal has dropped it already.
void DropTornTail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty() || text.back() == '\n') return;
  const size_t keep = text.rfind('\n') + 1;  // 0 when no line is whole
  if (truncate(path.c_str(), static_cast<off_t>(keep)) != 0) {
    throw std::runtime_error(
        fmt::format("{}: cannot drop its torn last line: {}", path, std::strerror(errno)));
  }
}

}  // namespace

JournalFile OpenForAppend(const std::string& path) {
  DropTornTail(path);
  JournalFile file(std::fopen(path.c_str(), "a"), &std::fclose);
  if (!file) throw std::runtime_error(path + ": cannot open for appending");
  return file;
}

void StartJournal(const std::string& path, const ExperimentConfig& c) {
  paths::WriteFileAtomically(
      path,
      nlohmann::json{{"format", kJournalFormat}, {"config_toml", c.resolved_toml}}.dump() + "\n");
}

RunFiles PrepareOutput(const ExperimentConfig& c, const RunOptions& o) {
  try {
    paths::MakeDirs(o.out_dir);
    paths::CheckWritableDirectory(o.out_dir);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("--out {}: {}", o.out_dir, e.what()));
  }
  RunFiles f{paths::Join(o.out_dir, c.name + ".h5"),
             paths::Join(o.out_dir, c.name + ".journal.jsonl")};
  if (paths::Exists(f.h5)) {
    throw std::runtime_error(fmt::format(
        "{} already exists: finished results are never overwritten; pass another --out or move "
        "it",
        f.h5));
  }
  return f;
}

std::map<int64_t, PointResult> StartOrResume(const ExperimentConfig& c,
                                             const std::vector<ExperimentPoint>& points,
                                             const RunOptions& o, const std::string& journal) {
  if (!paths::Exists(journal)) {
    if (o.resume) fmt::print(stderr, "[run] nothing to resume in {}; starting\n", o.out_dir);
    StartJournal(journal, c);
    return {};
  }
  if (!o.resume) {
    throw std::runtime_error(fmt::format(
        "{} holds an unfinished run of this experiment: add --resume to complete it, or delete "
        "it to start over",
        journal));
  }
  std::map<int64_t, PointResult> done = ReadJournal(journal, c, points);
  fmt::print(stderr, "[run] resuming: {} of {} points already done ({})\n", done.size(),
             points.size(), journal);
  return done;
}

std::string RankJournalPath(const std::string& out_dir, const std::string& name, int rank) {
  return paths::Join(out_dir, fmt::format("{}.rank-{}.journal.jsonl", name, rank));
}

std::vector<std::string> SideJournals(const std::string& out_dir, const std::string& name) {
  std::vector<std::string> all = WorkerJournals(out_dir, name);
  for (std::string& p : paths::ListMatching(out_dir, name + ".rank-", ".journal.jsonl")) {
    all.push_back(std::move(p));
  }
  return all;
}

void FoldSideJournals(const ExperimentConfig& c, const std::vector<ExperimentPoint>& points,
                      const std::string& out_dir, const std::string& journal, std::FILE* file,
                      std::map<int64_t, PointResult>& done) {
  for (const std::string& path : SideJournals(out_dir, c.name)) {
    for (auto& [k, r] : ReadJournal(path, c, points)) {
      if (done.count(k)) continue;
      AppendDurably(file, journal, r.ToJson().dump());
      done[k] = std::move(r);
    }
    std::remove(path.c_str());
  }
}

}  // namespace griffin::experiments
