// Pieces of the results schema (docs/DESIGN.md section 2) shared by every command that writes HDF5:
// provenance attributes on the root and in /meta/env, and metrics with their units.
#pragma once

#include <string>
#include <vector>

#include "core/io/h5.h"

namespace griffin {

// Root attributes schema, schema_version, created_utc, git_commit, git_dirty, command_line; the
// full provenance text (GPU, driver, CUDA, torch, compiler, build type) in /meta/env.
void WriteProvenance(h5::Group& root, const std::string& schema, int64_t schema_version,
                     const std::string& command_line);

// /metrics/NAME as float64 with `units`, `higher_is_better` and `description` attributes.
void WriteMetric(h5::Group& root, const std::string& name, const std::vector<double>& values,
                 const std::string& units, bool higher_is_better, const std::string& description);

// Current UTC time as RFC 3339 (2026-11-28T18:40:00Z).
std::string UtcNow();

}  // namespace griffin
