// The three outcomes of any validation, after ETSI EN 319 102-1's indications.
#pragma once

#include <string_view>

namespace preserve {

enum class Verdict {
  kValid,          // every check passed (TOTAL-PASSED)
  kInvalid,        // a check failed: the evidence or signature is broken (TOTAL-FAILED)
  kIndeterminate,  // nothing failed, but something could not be established (no trust anchor, no revocation data)
};

constexpr std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "VALID";
    case Verdict::kInvalid: return "INVALID";
    case Verdict::kIndeterminate: return "INDETERMINATE";
  }
  return "INDETERMINATE";
}

// The worse of two verdicts: INVALID beats INDETERMINATE beats VALID.
constexpr Verdict Worse(Verdict a, Verdict b) {
  if (a == Verdict::kInvalid || b == Verdict::kInvalid) return Verdict::kInvalid;
  if (a == Verdict::kIndeterminate || b == Verdict::kIndeterminate) return Verdict::kIndeterminate;
  return Verdict::kValid;
}

}  // namespace preserve
