#include "preserve/util/bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "preserve/util/file_descriptor.h"

namespace preserve {

std::string ToHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

namespace {
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string EncodeBase64(ByteView bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16 | static_cast<std::uint32_t>(bytes[i + 1]) << 8 | bytes[i + 2];
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64Alphabet[(v >> shift) & 0x3f]);
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64Alphabet[(v >> 18) & 0x3f]);
    out.push_back(kBase64Alphabet[(v >> 12) & 0x3f]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<Bytes> DecodeBase64(std::string_view text) {
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t group = 0;
  int in_group = 0;   // sextets in `group`
  int padding = 0;    // '=' seen: only white space and more '=' may follow
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      if (in_group < 2 || ++padding + in_group > 4) return std::nullopt;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || padding > 0) return std::nullopt;
    group = group << 6 | static_cast<std::uint32_t>(v);
    if (++in_group == 4) {
      out.push_back(static_cast<std::uint8_t>(group >> 16));
      out.push_back(static_cast<std::uint8_t>(group >> 8));
      out.push_back(static_cast<std::uint8_t>(group));
      group = 0;
      in_group = 0;
    }
  }
  if (in_group == 0) return padding == 0 ? std::optional<Bytes>(std::move(out)) : std::nullopt;
  if (in_group + padding != 4) return std::nullopt;  // a final group must be padded to four
  if (in_group == 2) {
    if ((group & 0xf) != 0) return std::nullopt;  // bits beyond the last byte must be zero
    out.push_back(static_cast<std::uint8_t>(group >> 4));
  } else {
    if ((group & 0x3) != 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(group >> 10));
    out.push_back(static_cast<std::uint8_t>(group >> 2));
  }
  return out;
}

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("odd-length hex string");
  // By table: a renewal decodes the six digests of each of a million records.
  static constexpr std::array<std::int8_t, 256> kNibble = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
    return t;
  }();
  Bytes out(hex.size() / 2);
  int bad = 0;  // any nibble's -1, checked once at the end
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = kNibble[static_cast<std::uint8_t>(hex[2 * i])];
    const int lo = kNibble[static_cast<std::uint8_t>(hex[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  if (bad < 0) return Status::InvalidArgument("not a hex string");
  return out;
}

namespace {

// Reads from `fd` into `to` until `to` is full or the file ends; -1 on error.
ssize_t ReadFully(int fd, std::uint8_t* to, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, to + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

// What a file that is not regular is, for the refusal.
std::string FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Status NotRegular(const std::filesystem::path& path, mode_t mode) {
  std::string where;
  std::error_code ec;
  if (std::filesystem::is_symlink(path, ec)) {
    const std::filesystem::path target = std::filesystem::weakly_canonical(path, ec);
    if (!ec) where = " (a link to " + target.string() + ")";
  }
  return Status::InvalidArgument(path.string() + where + ": is " + FileKind(mode) +
                                 ", not a regular file: preserve reads only regular files");
}

}  // namespace

Result<FileDescriptor> OpenRegularFile(const std::filesystem::path& path) {
  auto missing = [&path](const char* what) -> Status {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(path.string() + ": no such file");
    return Status::IOError(path.string() + ": cannot " + what + ": " + std::strerror(errno));
  };
  // Looked at before it is opened: opening a tape device rewinds it, a FIFO
  // blocks until a writer comes.
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) return missing("stat");
  if (!S_ISREG(before.st_mode)) return NotRegular(path, before.st_mode);
  // O_NONBLOCK | O_NOCTTY: should the name be swapped for a FIFO or a
  // terminal in between, the open neither blocks nor adopts it; the fstat
  // below then refuses it. Regular files ignore O_NONBLOCK.
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (file.get() < 0) return missing("open");
  struct stat after {};
  if (::fstat(file.get(), &after) != 0) return missing("stat");
  if (!S_ISREG(after.st_mode)) return NotRegular(path, after.st_mode);
  if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
    return Status::IOError(path.string() + ": replaced while being opened");
  return file;
}

Result<Bytes> ReadFile(const std::filesystem::path& path) {
  // One open, one fstat and reads of the size the file has, rather than
  // filesystem checks and an ifstream read a character at a time: a bulk
  // ingest reads every submission whole. A file that grew meanwhile is still
  // read to its end.
  PRESERVE_ASSIGN_OR_RETURN(const FileDescriptor file, OpenRegularFile(path));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return Status::IOError(path.string() + ": cannot stat: " + std::strerror(errno));
  Bytes data(static_cast<std::size_t>(st.st_size));
  const ssize_t got = ReadFully(file.get(), data.data(), data.size());
  if (got < 0) return Status::IOError(path.string() + ": read failed: " + std::strerror(errno));
  data.resize(static_cast<std::size_t>(got));
  std::uint8_t block[16384];
  while (true) {
    const ssize_t n = ReadFully(file.get(), block, sizeof block);
    if (n < 0) return Status::IOError(path.string() + ": read failed: " + std::strerror(errno));
    if (n == 0) return data;
    data.insert(data.end(), block, block + n);
  }
}

Status SyncDirectory(const std::filesystem::path& dir) {
  FileDescriptor fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::IOError(dir.string() + ": cannot open directory: " + std::strerror(errno));
  if (::fsync(fd.get()) != 0) return Status::IOError(dir.string() + ": fsync failed: " + std::strerror(errno));
  return Status::Ok();
}

Status WriteFileAtomic(const std::filesystem::path& path, ByteView bytes) {
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Status::IOError(tmp.string() + ": cannot create: " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string err = std::strerror(errno);
      ::unlink(tmp.c_str());
      return Status::IOError(tmp.string() + ": write failed: " + err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.Close() != 0) {
    ::unlink(tmp.c_str());
    return Status::IOError(tmp.string() + ": fsync/close failed");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::IOError(path.string() + ": rename failed: " + err);
  }
  return SyncDirectory(path.parent_path());
}

}  // namespace preserve
