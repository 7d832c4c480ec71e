// Helpers shared by the test suites.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "preserve/util/bytes.h"

namespace preserve::testing {

// A fresh directory under the build tree, removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path SourceDir();  // the project's source tree
std::filesystem::path BinaryDir();  // the build tree

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `argv` (no shell), capturing stdout and stderr. `env` adds NAME=VALUE entries.
CommandResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// Writes `data` to `path`, failing the current test on error.
void WriteFile(const std::filesystem::path& path, std::string_view data);
void WriteFile(const std::filesystem::path& path, ByteView data);
Bytes ReadFileOrDie(const std::filesystem::path& path);

}  // namespace preserve::testing
