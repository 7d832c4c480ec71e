#include "preserve/ingest/scratch_space.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>

namespace preserve::ingest {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "ingest-";

// The pid in "ingest-<pid>-XXXXXX"; none for a name of another form.
std::optional<pid_t> OwnerPid(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const std::size_t dash = name.find('-', kPrefix.size());
  if (dash == std::string::npos || dash == kPrefix.size() || dash - kPrefix.size() > 9) return std::nullopt;
  pid_t pid = 0;
  for (std::size_t i = kPrefix.size(); i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

bool IsRunning(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// Opens `dir` and takes its lock without waiting; an empty descriptor when
// another process holds it (or it cannot be opened).
FileDescriptor LockDirectory(const fs::path& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return FileDescriptor(-1);
  return fd;
}

// Removes what killed runs left in `parent`: only directories of our form,
// unlocked, whose pid runs no more.
std::vector<fs::path> RemoveStale(const fs::path& parent) {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::optional<pid_t> pid = OwnerPid(it->path().filename().string());
    if (!pid || !it->is_directory(ec) || it->is_symlink(ec) || IsRunning(*pid)) continue;
    const FileDescriptor lock = LockDirectory(it->path());
    if (lock.get() < 0) continue;
    std::error_code removing;
    fs::remove_all(it->path(), removing);
    if (!removing) removed.push_back(it->path());
  }
  return removed;
}

}  // namespace

Result<std::unique_ptr<ScratchSpace>> ScratchSpace::Create(const fs::path& parent) {
  std::error_code ec;
  if (!fs::is_directory(parent.parent_path(), ec))
    return Status::NotFound(parent.parent_path().string() + ": no such directory");
  fs::create_directory(parent, ec);
  if (ec) return Status::IOError("cannot make the scratch directory " + parent.string() + ": " + ec.message());
  std::vector<fs::path> removed = RemoveStale(parent);

  std::string pattern = (parent / (std::string(kPrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return Status::IOError("cannot make a scratch directory in " + parent.string() + ": " + std::strerror(errno));
  fs::path path(pattern);
  FileDescriptor lock = LockDirectory(path);
  if (lock.get() < 0) {
    const std::string why = std::strerror(errno);
    fs::remove_all(path, ec);
    return Status::IOError(path.string() + ": cannot lock the scratch directory: " + why);
  }
  return std::unique_ptr<ScratchSpace>(new ScratchSpace(std::move(path), std::move(lock), std::move(removed)));
}

ScratchSpace::~ScratchSpace() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace preserve::ingest
