// The archive's words as people read them, in both languages: roles,
// package states, verdicts, and why a document was refused with what to do
// next. Shared by every page that shows them.
#pragma once

#include <string>
#include <string_view>

#include "page.h"
#include "preserve/archive/archive.h"
#include "preserve/util/verdict.h"

namespace preserve::web {

std::string_view RoleLabel(const Page& page, archive::Role role);           // "Văn thư / lưu trữ viên"
std::string_view StateLabel(const Page& page, archive::PackageState state);  // "Đã niêm phong"
std::string_view VerdictLabel(const Page& page, Verdict verdict);            // "Hợp lệ"
// CSS class of a verdict's badge: "ok", "error", "warn".
std::string_view VerdictClass(Verdict verdict);

// Why an input was refused, for an officer: what happened, in a sentence,
// and what to do next. `category` is an IngestOutcome's (an EN 319 102-1
// sub-indication, NOT_SIGNED, METADATA_INVALID...); unknown ones get a
// general explanation.
struct Explanation {
  std::string what;
  std::string next;
};
Explanation ExplainRefusal(const Page& page, std::string_view category);

}  // namespace preserve::web
