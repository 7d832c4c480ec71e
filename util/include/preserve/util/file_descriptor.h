// A POSIX file descriptor that closes itself.
#pragma once

#include <unistd.h>

namespace preserve {

// Owns `fd` (-1: none) and closes it when it goes. Where the close's own
// failure matters (a file just written: NFS and quotas report there), call
// Close() and check it.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.Release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = other.Release();
    }
    return *this;
  }
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }

  // Closes now: 0, or -1 with errno set, as ::close. None is held after it,
  // whichever it returns (Linux frees the descriptor even when close fails).
  int Close() { return fd_ >= 0 ? ::close(Release()) : 0; }

  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace preserve
