// Helpers shared by the test suites.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"

namespace preserve::testing {

// A clock that stands still and is not simulated (ManualClock is): for what
// behaves differently under a simulated clock, such as the embedded TSA's
// tokens compared with OpenSSL's own.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : t_(t) {}
  TimePoint Now() const override { return t_; }

 private:
  TimePoint t_;
};

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

// The committed fixtures (tests/fixtures/README.md).
std::filesystem::path FixturePath(const std::string& relative);  // tests/fixtures/`relative`
// tests/fixtures/signed/`name`, failing the current test when it cannot be read.
Bytes SignedFixture(const std::string& name);
// The first certificate (DER) in tests/fixtures/pki/`name`.pem, failing the current test when there is none.
Bytes PkiCertificate(const std::string& name);

// The lines of `text` (a command's output), without their line ends.
std::vector<std::string> Lines(const std::string& text);

// The NAME=VALUE pairs of the `export NAME=VALUE` lines of an env file (scripts/ceph-dev.sh's s3.env).
std::map<std::string, std::string> ReadEnvFile(const std::filesystem::path& path);

struct CommandResult {
  int exit_code = -1;                    // 128 + the signal when a signal ended the child
  std::string out;                       // stdout
  std::string err;                       // stderr
  int term_signal = 0;                   // the signal that ended the child; 0 when it exited
  bool kill_timer_fired = false;         // Run sent SIGKILL for RunOptions::kill_after (the child may have just exited)
  std::chrono::microseconds elapsed{0};  // from the spawn to the child's end
  std::uint64_t peak_rss_kib = 0;        // the child's peak resident set (its VmHWM), in KiB
};

// What Run does beyond running a command to its end.
struct RunOptions {
  // Leave out every inherited PRESERVE_* variable, so that one set for the
  // whole test run (PRESERVE_FAULT_POINT, PRESERVE_NOW) reaches no child.
  bool drop_inherited_preserve_env = false;
  // Set: SIGKILL the child this long after the spawn, unless it has ended.
  std::optional<std::chrono::microseconds> kill_after;
};

// Runs `argv` (no shell), capturing stdout and stderr. `env` adds NAME=VALUE entries.
CommandResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                  const RunOptions& options = {});

// Writes `data` to `path`, failing the current test on error.
void WriteFile(const std::filesystem::path& path, std::string_view data);
void WriteFile(const std::filesystem::path& path, ByteView data);
Bytes ReadFileOrDie(const std::filesystem::path& path);

// `size` deterministic bytes that differ with `seed` and from chunk to chunk
// (content that neither compresses nor repeats).
Bytes PatternBytes(std::size_t size, std::uint8_t seed);

}  // namespace preserve::testing
