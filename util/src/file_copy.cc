#include "preserve/util/file_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "preserve/util/digest.h"
#include "preserve/util/file_descriptor.h"

namespace preserve {

Result<Bytes> CopyToNewFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  FileDescriptor in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Status::IOError(from.string() + ": cannot open: " + std::strerror(errno));
  FileDescriptor out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.get() < 0) return Status::IOError(to.string() + ": cannot create: " + std::strerror(errno));
  // errno is read before the descriptors close, which may change it.
  auto fail = [](const std::filesystem::path& where, const std::string& what) {
    return Status::IOError(where.string() + ": " + what + ": " + std::strerror(errno));
  };
  Hasher hasher(HashAlgorithm::kSha256);
  std::vector<std::uint8_t> buffer(1 << 20);
  while (true) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(from, "read failed");
    if (n == 0) break;
    auto len = static_cast<std::size_t>(n);
    hasher.Update(ByteView(buffer.data(), len));
    for (std::size_t done = 0; done < len;) {
      ssize_t w = ::write(out.get(), buffer.data() + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return fail(to, "write failed");
      done += static_cast<std::size_t>(w);
    }
  }
  if (::fsync(out.get()) != 0) return fail(to, "fsync failed");
  // A close that fails after a write may mean the bytes never reached the disk.
  if (::close(out.Release()) != 0) return fail(to, "close failed");
  return hasher.Finish();
}

}  // namespace preserve
