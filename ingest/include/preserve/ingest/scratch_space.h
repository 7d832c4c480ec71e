// Scratch space for unpacking bundles, in a directory preserve owns (the
// store's scratch/: on the disk that has room for what is ingested, where
// /tmp is often a small tmpfs, and where nothing else writes).
//
// Each run makes a directory of its own there, "ingest-<pid>-XXXXXX", holds an
// exclusive flock on it for as long as it lives, and removes it when done. A
// run killed before it could (SIGKILL, a power cut) leaves its directory
// behind; the next Create removes every such directory whose lock is free and
// whose pid is no running process. The lock tells a live owner from a dead one
// even after its pid was reused; the pid covers the moment between making a
// directory and locking it. Anything else in the parent is left alone.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "preserve/util/file_descriptor.h"
#include "preserve/util/status.h"

namespace preserve::ingest {

class ScratchSpace {
 public:
  // Makes `parent` when absent (its own parent must exist: a store directory
  // is never made here), removes what killed runs left there, then makes this
  // run's directory. kNotFound when `parent`'s parent does not exist.
  static Result<std::unique_ptr<ScratchSpace>> Create(const std::filesystem::path& parent);
  ~ScratchSpace();  // removes the directory and everything in it
  ScratchSpace(const ScratchSpace&) = delete;
  ScratchSpace& operator=(const ScratchSpace&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The directories of killed runs that Create removed.
  const std::vector<std::filesystem::path>& removed_stale() const { return removed_stale_; }

 private:
  ScratchSpace(std::filesystem::path path, FileDescriptor lock, std::vector<std::filesystem::path> removed)
      : path_(std::move(path)), lock_(std::move(lock)), removed_stale_(std::move(removed)) {}

  std::filesystem::path path_;
  FileDescriptor lock_;  // the directory itself, flocked while this run lives
  std::vector<std::filesystem::path> removed_stale_;
};

}  // namespace preserve::ingest
