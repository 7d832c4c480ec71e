#include "preserve/ingest/safe_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include <algorithm>
#include <set>

namespace preserve::ingest {

namespace {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchiveReadPtr = std::unique_ptr<struct archive, ArchiveReadFree>;

// libarchive converts entry names to the thread's locale and gives up (no
// name at all) on what that locale cannot express: under the "C" locale of a
// service, "công văn.txt" would vanish. So every call into libarchive runs
// under C.UTF-8, where names come out as the UTF-8 they are.
class Utf8Names {
 public:
  Utf8Names() : previous_(utf8_ != nullptr ? uselocale(utf8_) : nullptr) {}
  ~Utf8Names() {
    if (previous_ != nullptr) uselocale(previous_);
  }
  Utf8Names(const Utf8Names&) = delete;
  Utf8Names& operator=(const Utf8Names&) = delete;

 private:
  // Made once, kept for the process's life: uselocale needs it to outlive every reader.
  static inline const locale_t utf8_ = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  locale_t previous_;
};

std::string ArchiveError(struct archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown libarchive error";
}

// What a non-regular entry is, for the refusal message.
std::string EntryKind(archive_entry* entry) {
  if (archive_entry_hardlink(entry) != nullptr) return "hard link";
  switch (archive_entry_filetype(entry)) {
    case AE_IFLNK: return "symbolic link";
    case AE_IFCHR: return "character device";
    case AE_IFBLK: return "block device";
    case AE_IFIFO: return "FIFO";
    case AE_IFSOCK: return "socket";
    default: return "unknown type";
  }
}

}  // namespace

bool IsSafeArchivePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || byte < 0x20 || byte == 0x7f) return false;
  }
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == ".." || part == ".") return false;
    if (part.empty()) return false;  // "a//b"
    start = end + 1;
  }
  return true;
}

struct ArchiveReader::Impl {
  ArchiveReadPtr archive;
  std::string origin;
  ArchiveLimits limits;
  std::uint64_t archive_bytes = 0;
  std::uint64_t entries = 0;
  std::uint64_t declared_total = 0;
  std::uint64_t unpacked_total = 0;
  std::set<std::string> files;
  std::set<std::string> directories;
  std::string current;  // the file whose content ReadContent streams; empty before the first

  Status Refuse(const std::string& why) const { return Status::InvalidArgument(origin + ": refused " + why); }

  // How many unpacked bytes the ratio allows in all.
  std::uint64_t RatioBudget() const {
    if (limits.max_ratio == 0) return UINT64_MAX;
    if (archive_bytes > UINT64_MAX / limits.max_ratio) return UINT64_MAX;
    return std::max(kRatioAllowance, archive_bytes * limits.max_ratio);
  }

  Status CheckTotal(std::uint64_t total, const std::string& name) const {
    if (total > limits.max_total_bytes)
      return Refuse("'" + name + "': the archive unpacks to more than " + std::to_string(limits.max_total_bytes) +
                    " bytes");
    if (total > RatioBudget())
      return Refuse("'" + name + "': the archive unpacks to more than " + std::to_string(limits.max_ratio) +
                    " times its own size (a decompression bomb)");
    return Status::Ok();
  }

  // A name is one thing: a file, or a directory holding files, never both.
  Status AddName(const std::string& name, bool is_directory) {
    const bool is_a_file = files.count(name) != 0;
    if (is_a_file && !is_directory) return Refuse("'" + name + "': appears twice");
    if (is_a_file || (!is_directory && directories.count(name) != 0))
      return Refuse("'" + name + "': a file and a directory of that name");
    for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      std::string parent = name.substr(0, slash);
      if (files.count(parent) != 0) return Refuse("'" + parent + "': a file and a directory of that name");
      directories.insert(parent);
    }
    (is_directory ? directories : files).insert(name);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Next() {
    Utf8Names utf8;
    while (true) {
      archive_entry* entry = nullptr;
      int rc = archive_read_next_header(archive.get(), &entry);
      if (rc == ARCHIVE_EOF) {
        current.clear();
        return std::optional<std::string>();
      }
      // ARCHIVE_WARN: a name that does not convert to the current locale; the
      // UTF-8 name below is still right.
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return Status::Corruption(origin + ": damaged archive: " + ArchiveError(archive.get()));
      if (++entries > limits.max_entries)
        return Refuse("the archive: more than " + std::to_string(limits.max_entries) + " entries");

      const char* raw_name = archive_entry_pathname_utf8(entry);
      if (raw_name == nullptr) raw_name = archive_entry_pathname(entry);
      std::string name = raw_name != nullptr ? raw_name : "";
      bool is_directory = archive_entry_filetype(entry) == AE_IFDIR && archive_entry_hardlink(entry) == nullptr;
      if (is_directory && !name.empty() && name.back() == '/') name.pop_back();
      if (!IsSafeArchivePath(name)) return Refuse("unsafe path '" + name + "'");
      if (!is_directory && (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr ||
                            archive_entry_symlink(entry) != nullptr))
        return Refuse("'" + name + "': not a regular file (" + EntryKind(entry) + ")");
      if (archive_entry_is_encrypted(entry)) return Refuse("'" + name + "': encrypted");
      PRESERVE_RETURN_IF_ERROR(AddName(name, is_directory));
      if (is_directory) continue;

      if (archive_entry_size_is_set(entry) != 0) {
        const auto declared = static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(entry)));
        if (declared > limits.max_entry_bytes)
          return Refuse("'" + name + "': " + std::to_string(declared) + " bytes, more than the limit of " +
                        std::to_string(limits.max_entry_bytes));
        declared_total += declared;
        PRESERVE_RETURN_IF_ERROR(CheckTotal(declared_total, name));
      }
      current = name;
      return std::optional<std::string>(name);
    }
  }
};

ArchiveReader::ArchiveReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveReader::~ArchiveReader() = default;

namespace {

ArchiveReadPtr NewReader(ArchiveFormat format) {
  ArchiveReadPtr a(archive_read_new());
  archive_read_support_format_zip(a.get());
  if (format == ArchiveFormat::kZipOrTar) {
    archive_read_support_format_tar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_bzip2(a.get());
  }
  return a;
}

}  // namespace

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::OpenFile(const std::filesystem::path& path,
                                                               ArchiveFormat format, const ArchiveLimits& limits) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || !std::filesystem::is_regular_file(path, ec)) return Status::NotFound(path.string() + ": no such file");
  Utf8Names utf8;
  auto impl = std::make_unique<Impl>();
  impl->archive = NewReader(format);
  impl->origin = path.string();
  impl->limits = limits;
  impl->archive_bytes = size;
  if (archive_read_open_filename(impl->archive.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Status::InvalidArgument(path.string() + ": not a readable archive: " + ArchiveError(impl->archive.get()));
  return std::unique_ptr<ArchiveReader>(new ArchiveReader(std::move(impl)));
}

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::OpenMemory(ByteView bytes, std::string origin,
                                                                 ArchiveFormat format, const ArchiveLimits& limits) {
  Utf8Names utf8;
  auto impl = std::make_unique<Impl>();
  impl->archive = NewReader(format);
  impl->origin = std::move(origin);
  impl->limits = limits;
  impl->archive_bytes = bytes.size();
  if (archive_read_open_memory(impl->archive.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return Status::InvalidArgument(impl->origin + ": not a readable archive: " + ArchiveError(impl->archive.get()));
  return std::unique_ptr<ArchiveReader>(new ArchiveReader(std::move(impl)));
}

Result<std::optional<std::string>> ArchiveReader::NextFile() { return impl_->Next(); }

Status ArchiveReader::ReadContent(const std::function<Status(ByteView)>& sink) {
  if (impl_->current.empty()) return Status::FailedPrecondition(impl_->origin + ": no current file to read");
  Utf8Names utf8;
  std::uint64_t entry_bytes = 0;
  std::uint8_t buffer[1 << 16];
  while (true) {
    la_ssize_t n = archive_read_data(impl_->archive.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0)
      return Status::Corruption(impl_->origin + ": damaged entry '" + impl_->current +
                                "': " + ArchiveError(impl_->archive.get()));
    const auto count = static_cast<std::uint64_t>(n);
    entry_bytes += count;
    impl_->unpacked_total += count;
    // Checked on what comes out, not on what the headers said: headers can lie.
    if (entry_bytes > impl_->limits.max_entry_bytes)
      return impl_->Refuse("'" + impl_->current + "': unpacks beyond the size limit of " +
                           std::to_string(impl_->limits.max_entry_bytes) + " bytes");
    PRESERVE_RETURN_IF_ERROR(impl_->CheckTotal(impl_->unpacked_total, impl_->current));
    PRESERVE_RETURN_IF_ERROR(sink(ByteView(buffer, static_cast<std::size_t>(count))));
  }
  return Status::Ok();
}

Result<Bytes> ArchiveReader::ReadContent() {
  Bytes content;
  PRESERVE_RETURN_IF_ERROR(ReadContent([&](ByteView chunk) {
    content.insert(content.end(), chunk.begin(), chunk.end());
    return Status::Ok();
  }));
  return content;
}

Result<std::vector<std::string>> ListArchive(const std::filesystem::path& path, ArchiveFormat format,
                                             const ArchiveLimits& limits) {
  PRESERVE_ASSIGN_OR_RETURN(auto reader, ArchiveReader::OpenFile(path, format, limits));
  std::vector<std::string> names;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, reader->NextFile());
    if (!name) return names;
    names.push_back(std::move(*name));
  }
}

}  // namespace preserve::ingest
