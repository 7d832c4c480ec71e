#include "damage.h"

#include <algorithm>

#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace {

std::string KeyText(const std::string& key, bool sequence) {
  if (sequence && key.size() == 8) {
    std::uint64_t n = 0;
    for (char c : key) n = (n << 8) | static_cast<unsigned char>(c);
    return "event " + std::to_string(n);
  }
  const bool printable =
      std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  return printable ? key : ToHex(AsBytes(key));
}

}  // namespace

std::string DescribeGap(std::string_view records, const storage::ScanGap& gap, bool sequences) {
  std::string where = std::string(records);
  where += gap.after.empty() ? " from the first" : " after " + KeyText(gap.after, sequences);
  where += gap.resumed_at.empty() ? " to the last" : " up to " + KeyText(gap.resumed_at, sequences);
  return where + " cannot be read (damaged; skipped): " + gap.error.message();
}

audit::PackageReport UnreadablePackageReport(const std::string& package_id, const Status& damage) {
  audit::PackageReport report;
  report.package_id = package_id;
  report.verdict = Verdict::kInvalid;
  const std::string detail = "cannot be read from the store: " + damage.message();
  report.steps.push_back({"data", "the package's records and content", Verdict::kInvalid, detail});
  report.reasons.push_back(detail);
  return report;
}

}  // namespace preserve::archive
