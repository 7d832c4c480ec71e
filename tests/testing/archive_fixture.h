// A test fixture over a real store: an Archive in a fresh directory, on a
// clock the test moves, fed with the committed signed fixtures
// (tests/fixtures/signed, trusted through tests/fixtures/pki/root-ca.pem).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "preserve/archive/archive.h"
#include "preserve/util/clock.h"
#include "testing.h"

namespace preserve::testing {

// `text` (ParseUtcTime's format) as a time point; it must parse.
TimePoint At(const std::string& text);

// The audit trail's events of one type ("ingest", "refused", ...), as their JSON text, in order.
std::vector<std::string> AuditEventsOfType(archive::Archive& archive, const std::string& type);

class ArchiveTest : public ::testing::Test {
 protected:
  // InitOptions for the simulated decades: the policy
  // examples/policy/simulation-2026-2076.json and, since the tests renew
  // yearly, a renewal margin above a year.
  static archive::InitOptions SimulationOptions();

  // Inits the store at root_ with `options` and opens it; a fatal failure if either fails.
  void InitAndOpen(const archive::InitOptions& options);
  // Closes the archive and opens the store again for writing; a fatal failure if that fails.
  void Reopen();
  // Ingests tests/fixtures/signed/`signature` (with `content`, for a detached
  // signature). Returns the package id; "" and a failure when it is not accepted.
  std::string Ingest(const std::string& signature, std::optional<std::string> content = std::nullopt);

  TempDir dir_;
  std::filesystem::path root_ = dir_ / "store";
  ManualClock clock_{At("2026-12-01T08:00:00Z")};
  std::unique_ptr<archive::Archive> archive_;
};

}  // namespace preserve::testing
