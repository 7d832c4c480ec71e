// A store made with `preserve init` in a fresh directory, driven through the
// real executable, for the end-to-end tests of a store's safety: rows that
// cannot be read, garbage, damage, read-only media.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "testing.h"

namespace preserve::testing {

inline const std::filesystem::path kCliFixtures = SourceDir() / "tests" / "fixtures";
inline const std::string kCliRootCa = (kCliFixtures / "pki" / "root-ca.pem").string();

inline std::string SignedFixturePath(const std::string& name) { return (kCliFixtures / "signed" / name).string(); }

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class StoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult init = Preserve({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  // `preserve ARGS` on the store; `wrapper` runs it inside another command
  // (setpriv ... --), `env` adds NAME=VALUE entries.
  CommandResult Preserve(std::vector<std::string> args, const std::vector<std::string>& env = {},
                         const std::vector<std::string>& wrapper = {}) {
    args.insert(args.begin(), PRESERVE_BIN);
    args.insert(args.begin(), wrapper.begin(), wrapper.end());
    std::vector<std::string> all_env = {"PRESERVE_STORE=" + store_.string()};
    all_env.insert(all_env.end(), env.begin(), env.end());
    return testing::Run(args, all_env, {.drop_inherited_preserve_env = true, .kill_after = std::nullopt});
  }

  // Ingests files (and options) and returns the package ids printed.
  std::vector<std::string> Ingest(const std::vector<std::string>& files) {
    // The fixtures hold a few signed letters; tests make packages of them again and again.
    std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--trust", kCliRootCa};
    args.insert(args.end(), files.begin(), files.end());
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return Lines(r.out);
  }
  std::string IngestDetached() {
    auto ids = Ingest({SignedFixturePath("letter.txt"), "--signature", SignedFixturePath("letter.txt.p7s")});
    return ids.empty() ? "" : ids.front();
  }

  std::filesystem::path Db() const { return store_ / "db"; }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

}  // namespace preserve::testing
