#include "core/io/results.h"

#include <fmt/format.h>

#include <ctime>

#include "core/runtime/provenance.h"

namespace griffin {

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void WriteProvenance(h5::Group& root, const std::string& schema, int64_t schema_version,
                     const std::string& command_line) {
  const Provenance p = CollectProvenance();
  root.SetAttr("", "schema", schema);
  root.SetAttr("", "schema_version", schema_version);
  root.SetAttr("", "created_utc", UtcNow());
  root.SetAttr("", "git_commit", p.git_commit);
  root.SetAttr("", "git_dirty", int64_t{p.git_dirty});
  root.SetAttr("", "command_line", command_line);
  root.SetAttr("", "torch_version", p.torch_version);
  root.SetAttr("", "build_type", p.build_type);
  root.SetAttr("", "gpu_name", p.gpus.empty() ? std::string("none") : p.gpus.front().name);
  root.WriteString("meta/env", FormatProvenance(p));
}

void WriteMetric(h5::Group& root, const std::string& name, const std::vector<double>& values,
                 const std::string& units, bool higher_is_better, const std::string& description) {
  const std::string path = "metrics/" + name;
  root.WriteFloat64(path, {static_cast<int64_t>(values.size())}, values.data());
  root.SetAttr(path, "units", units);
  root.SetAttr(path, "higher_is_better", int64_t{higher_is_better});
  root.SetAttr(path, "description", description);
}

}  // namespace griffin
