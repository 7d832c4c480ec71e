// How tcmalloc hands memory back, set before main runs in each program that
// links preserve_allocator (CMakeLists.txt compiles this file into each).
//
// By default tcmalloc keeps the pages a free leaves whole in its page heap and
// returns them to the system a few at a time; a later large allocation may
// still be placed on pages it returned earlier, faulting them in again. In a
// hash-tree renewal, where each commit chunk frees and allocates tens of MB
// (records, skeletons, evidence, memtable arenas), the resident size then
// climbed some 150 MiB above what was in use: a renewal of a 3-million-package
// store peaked at 562 MiB with 402 MiB allocated. Aggressive decommit returns
// every page heap span as it is freed, so the resident size follows what is
// allocated: 472 MiB on the same run, at no cost in time (135 s against 148).
#include <gperftools/malloc_extension.h>

namespace {

const bool kDecommitSet =
    MallocExtension::instance()->SetNumericProperty("tcmalloc.aggressive_memory_decommit", 1);

}  // namespace
