#include "words.h"

#include "view.h"

namespace preserve::web {

namespace {

std::string_view Word(const Page& page, std::string_view key) { return Catalogue::Of(page.lang).View(key); }

}  // namespace

std::string_view RoleLabel(const Page& page, archive::Role role) {
  switch (role) {
    case archive::Role::kOfficer: return Word(page, "common.role.officer");
    case archive::Role::kAuditor: return Word(page, "common.role.auditor");
    case archive::Role::kAdmin: return Word(page, "common.role.admin");
  }
  return "";
}

std::string_view StateLabel(const Page& page, archive::PackageState state) {
  switch (state) {
    case archive::PackageState::kQueued: return Word(page, "common.state.queued");
    case archive::PackageState::kSealed: return Word(page, "common.state.sealed");
    case archive::PackageState::kDeleted: return Word(page, "common.state.deleted");
  }
  return "";
}

std::string_view VerdictLabel(const Page& page, Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return Word(page, "common.verdict.valid");
    case Verdict::kInvalid: return Word(page, "common.verdict.invalid");
    case Verdict::kIndeterminate: return Word(page, "common.verdict.indeterminate");
  }
  return "";
}

std::string_view VerdictClass(Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return "ok";
    case Verdict::kInvalid: return "error";
    case Verdict::kIndeterminate: return "warn";
  }
  return "warn";
}

Explanation ExplainRefusal(const Page& page, std::string_view category) {
  // Categories are the archive's (EN 319 102-1 sub-indications and a few of
  // its own); each known one has common.refusal.<CATEGORY>.what and .next.
  const std::string key = "common.refusal." + std::string(category);
  std::string_view what = Word(page, key + ".what");
  std::string_view next = Word(page, key + ".next");
  if (what.empty() || next.empty()) {
    what = Word(page, "common.refusal.general.what");
    next = Word(page, "common.refusal.general.next");
  }
  return {std::string(what), std::string(next)};
}

}  // namespace preserve::web
