// Named crash points, for crash tests.
//
// PRESERVE_FAULT_POINT("seal.after_commit") marks a place where a crash must
// leave the store recoverable. When the environment variable
// PRESERVE_FAULT_POINT names that point, the process kills itself there with
// SIGKILL: no destructors, no atexit handlers, no stdio flush, nothing
// unwinds. To the process that is a power cut (the kernel's page cache
// survives, so what is tested is the process's crash consistency, not the
// disk's). tests/crash/ kills the `preserve` command at these points and at
// random moments, then checks that the store is whole.
//
//   PRESERVE_FAULT_POINT=ingest.after_commit     dies the first time the point is passed
//   PRESERVE_FAULT_POINT=ingest.after_commit:3   dies the third time (N >= 1)
//
// A name no code passes is harmless: the process runs to its end. A malformed
// value ("name:0", "name:x") is reported once on stderr and arms nothing.
//
// Cost when unset: the environment is read once, on the first point passed;
// after that a point is one comparison with an empty name. Thread-safe: hits
// are counted atomically, so "name:N" is the Nth hit across all threads.
//
// Names are "module.step" in lower case; the list in tests/crash/crash_test.cc
// is where trials pick them from.
#pragma once

#include <string_view>

namespace preserve {

// Kills the process with SIGKILL if `name` is the armed point and this is the
// armed hit; otherwise returns at once.
void FaultPoint(std::string_view name);

}  // namespace preserve

#define PRESERVE_FAULT_POINT(name) ::preserve::FaultPoint(name)
