#include "preserve/util/fault_point.h"

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

namespace preserve {

namespace {

// PRESERVE_FAULT_POINT as read at the first point passed; an empty name arms nothing.
struct ArmedPoint {
  std::string name;
  std::uint64_t hit = 1;
  std::atomic<std::uint64_t> hits{0};
};

// "name" or "name:N". A bad N disarms, loudly: a crash test that silently
// never crashes would prove nothing.
void Parse(const char* value, ArmedPoint& armed) {
  if (value == nullptr || *value == '\0') return;
  std::string spec(value);
  std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos) {
    armed.name = spec;
    return;
  }
  const char* first = spec.data() + colon + 1;
  const char* last = spec.data() + spec.size();
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || end != last || n == 0 || colon == 0) {
    std::cerr << "preserve: PRESERVE_FAULT_POINT='" << spec << "' is not NAME or NAME:N (N >= 1); ignored\n";
    return;
  }
  armed.name = spec.substr(0, colon);
  armed.hit = n;
}

ArmedPoint& Armed() {
  static ArmedPoint* armed = [] {
    auto* a = new ArmedPoint;  // never destroyed: points may be passed during static destruction
    Parse(std::getenv("PRESERVE_FAULT_POINT"), *a);
    return a;
  }();
  return *armed;
}

}  // namespace

void FaultPoint(std::string_view name) {
  ArmedPoint& armed = Armed();
  if (armed.name.empty() || armed.name != name) return;
  if (armed.hits.fetch_add(1) + 1 != armed.hit) return;
  std::raise(SIGKILL);
}

}  // namespace preserve
