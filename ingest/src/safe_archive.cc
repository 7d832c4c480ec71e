#include "preserve/ingest/safe_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "preserve/util/bytes.h"
#include "preserve/util/file_descriptor.h"
#include "preserve/util/unicode.h"
#include "zip_directory.h"

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

std::optional<std::string> NormalizeArchivePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return std::nullopt;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto byte = static_cast<unsigned char>(path[i]);
    if (path[i] == '\\' || byte < 0x20 || byte == 0x7f) return std::nullopt;
    // C1 controls (U+0080 to U+009F) in UTF-8: terminals act on them too.
    if (byte == 0xC2 && i + 1 < path.size() && static_cast<unsigned char>(path[i + 1]) < 0xA0) return std::nullopt;
  }
  if (path.back() == '/') path.remove_suffix(1);  // a directory entry's
  std::string normalized;
  for (std::size_t start = 0;;) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    // ".." is refused even where it would stay inside ("a/../b"): no archive
    // tool writes it, and a name must mean one thing to every extractor.
    if (part.empty() || part == "..") return std::nullopt;  // "a//b", "../x"
    if (part != ".") normalized.append(normalized.empty() ? "" : "/").append(part);
    if (end == path.size()) return normalized;
    start = end + 1;
  }
}

bool IsSafeArchivePath(std::string_view path) {
  const std::optional<std::string> normalized = NormalizeArchivePath(path);
  return normalized && !normalized->empty();
}

namespace {

std::string Quoted(std::string_view name) { return "'" + EscapeForDisplay(name) + "'"; }

constexpr const char* kZipCodePage = "CP437";

// The name preserve records for an entry stored as `stored` (NameRules, in
// the header). `zip`: what the zip's central directory says of it; null for
// a tar entry. A failure says why, without the name: kFailedPrecondition when
// a code page is needed and none was given; kInvalidArgument when the name
// cannot be read.
Result<std::string> RecordedName(const std::string& stored, const ZipDirectoryEntry* zip, const NameRules& rules) {
  if (zip != nullptr && zip->utf8_flag) {
    if (!IsUtf8(stored)) return Status::InvalidArgument("flagged as UTF-8 in the zip, but not UTF-8");
    return ToNfc(stored);
  }
  if (zip != nullptr && zip->unicode_path) {
    if (!IsUtf8(*zip->unicode_path))
      return Status::InvalidArgument("its Info-ZIP Unicode Path " + Quoted(*zip->unicode_path) + " is not UTF-8");
    return ToNfc(*zip->unicode_path);
  }
  if (IsUtf8(stored)) return ToNfc(stored);
  // A zip without the flag says its names are the standard's CP437
  // (APPNOTE.TXT, appendix D), unless the caller knows better; a tar says nothing.
  const std::string code_page = !rules.code_page.empty() ? rules.code_page : zip != nullptr ? kZipCodePage : "";
  if (code_page.empty())
    return Status::FailedPrecondition("the name is not UTF-8, and the archive does not say which code page it is in");
  auto decoded = DecodeCodePage(stored, code_page);
  if (!decoded.ok()) return Status::InvalidArgument("the name is neither UTF-8 nor " + code_page);
  return decoded;
}

}  // namespace

struct ArchiveReader::Impl {
  FileDescriptor file{-1};  // OpenFile's; declared before `archive`, which reads it, so it is closed after
  ByteView memory;          // OpenMemory's
  ArchiveReadPtr archive;
  std::string origin;
  ArchiveLimits limits;
  NameRules names;
  std::uint64_t archive_bytes = 0;
  std::uint64_t entries = 0;
  std::uint64_t declared_total = 0;
  std::uint64_t unpacked_total = 0;
  std::set<std::string> files;
  std::set<std::string> directories;
  // A zip's entries as its central directory has them, in the order libarchive reads them.
  std::optional<std::vector<ZipDirectoryEntry>> zip_entries;
  std::size_t zip_next = 0;
  std::string current;  // the file whose content ReadContent streams; empty before the first
  std::string current_stored;
  std::optional<std::uint64_t> current_declared;
  std::vector<std::string> skipped;

  Status Refuse(const std::string& why) const { return Status::InvalidArgument(origin + ": refused " + why); }

  // Reads the archive's own bytes, for its zip directory.
  Status ReadAt(std::uint64_t offset, std::span<std::uint8_t> to) const {
    if (file.get() < 0) {
      if (offset > memory.size() || memory.size() - offset < to.size())
        return Status::InvalidArgument("the zip's directory points outside it");
      std::copy_n(memory.begin() + static_cast<std::ptrdiff_t>(offset), to.size(), to.begin());
      return Status::Ok();
    }
    for (std::size_t done = 0; done < to.size();) {
      const ssize_t n = ::pread(file.get(), to.data() + done, to.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError(origin + ": read failed: " + std::strerror(errno));
      if (n == 0) return Status::InvalidArgument("the zip's directory points outside it");
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }

  // How many unpacked bytes the ratio allows in all.
  std::uint64_t RatioBudget() const {
    if (limits.max_ratio == 0) return UINT64_MAX;
    if (archive_bytes > UINT64_MAX / limits.max_ratio) return UINT64_MAX;
    return std::max(kRatioAllowance, archive_bytes * limits.max_ratio);
  }

  // What the headers declare, before any content.
  Status CheckDeclaredTotal(const std::string& name) const {
    if (declared_total > limits.max_total_bytes)
      return Refuse(Quoted(name) + ": the archive unpacks to more than " + std::to_string(limits.max_total_bytes) +
                    " bytes");
    if (declared_total > RatioBudget())
      return Refuse(Quoted(name) + ": the archive unpacks to more than " + std::to_string(limits.max_ratio) +
                    " times its own size (a decompression bomb)");
    return Status::Ok();
  }

  // What comes out, whatever the headers said.
  Status CheckUnpacked(std::uint64_t entry_bytes) const {
    const std::string entry = "entry " + Quoted(current) + ": unpacks beyond ";
    if (current_declared && entry_bytes > *current_declared)
      return Refuse(entry + "the " + std::to_string(*current_declared) +
                    " bytes its header declares (a decompression bomb?)");
    if (entry_bytes > limits.max_entry_bytes)
      return Refuse(entry + "the size limit of " + std::to_string(limits.max_entry_bytes) +
                    " bytes (a decompression bomb?)");
    if (unpacked_total > limits.max_total_bytes)
      return Refuse(entry + "the limit of " + std::to_string(limits.max_total_bytes) +
                    " bytes for the whole archive (a decompression bomb?)");
    if (unpacked_total > RatioBudget())
      return Refuse(entry + std::to_string(limits.max_ratio) +
                    " times the archive's own size for the whole archive (a decompression bomb)");
    return Status::Ok();
  }

  // A name is one thing: a file, or a directory holding files, never both.
  Status AddName(const std::string& name, bool is_directory) {
    const bool is_a_file = files.count(name) != 0;
    if (is_a_file && !is_directory) return Refuse(Quoted(name) + ": appears twice");
    if (is_a_file || (!is_directory && directories.count(name) != 0))
      return Refuse(Quoted(name) + ": a file and a directory of that name");
    for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      std::string parent = name.substr(0, slash);
      if (files.count(parent) != 0) return Refuse(Quoted(parent) + ": a file and a directory of that name");
      directories.insert(parent);
    }
    (is_directory ? directories : files).insert(name);
    return Status::Ok();
  }

  // The zip directory's record of the entry libarchive just read; null for a
  // tar. libarchive reads the same entries in the same order (by local header
  // offset), and must have read the same name: the stored one, the Unicode
  // Path it prefers, or none when a name flagged UTF-8 was not.
  Result<const ZipDirectoryEntry*> ZipRecord(archive_entry* entry) {
    if (!zip_entries && (archive_format(archive.get()) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP) {
      auto read = ReadZipDirectory([this](std::uint64_t offset, std::span<std::uint8_t> to) { return ReadAt(offset, to); },
                                   archive_bytes, limits.max_entries);
      if (!read.ok()) {
        if (read.status().code() != StatusCode::kInvalidArgument) return read.status();
        return Refuse("the archive: " + read.status().message());
      }
      zip_entries = std::move(read).value();
    }
    if (!zip_entries) return nullptr;
    if (zip_next >= zip_entries->size())
      return Status::Corruption(origin + ": damaged archive: more entries than its central directory lists");
    const ZipDirectoryEntry& record = (*zip_entries)[zip_next++];
    const char* read_name = archive_entry_pathname(entry);
    const std::string_view seen = read_name != nullptr ? read_name : "";
    // libarchive turns a DOS separator into '/' (the name is refused for its
    // backslash all the same), and a UTF-8 name into NFC.
    auto reads_as_seen = [seen](std::string name) {
      std::replace(name.begin(), name.end(), '\\', '/');
      if (seen == name) return true;
      const Result<std::string> nfc = ToNfc(name);
      return nfc.ok() && seen == *nfc;
    };
    if (!seen.empty() && !reads_as_seen(record.stored_name) &&
        (!record.unicode_path || !reads_as_seen(*record.unicode_path)))
      return Status::Corruption(origin + ": damaged archive: the entry its central directory names " +
                                Quoted(record.stored_name) + " reads as " + Quoted(seen));
    return &record;
  }

  Result<std::optional<std::string>> Next() {
    Utf8Names utf8;
    while (true) {
      archive_entry* entry = nullptr;
      int rc = archive_read_next_header(archive.get(), &entry);
      if (rc == ARCHIVE_EOF) {
        if (zip_entries && zip_next != zip_entries->size())
          return Status::Corruption(origin + ": damaged archive: its central directory lists " +
                                    std::to_string(zip_entries->size()) + " entries, " + std::to_string(zip_next) +
                                    " were found");
        current.clear();
        return std::optional<std::string>();
      }
      // ARCHIVE_WARN: a name that does not convert to the current locale; the
      // zip directory has it, and a tar's is refused below.
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return Status::Corruption(origin + ": damaged archive: " + ArchiveError(archive.get()));
      if (++entries > limits.max_entries)
        return Refuse("the archive: more than " + std::to_string(limits.max_entries) + " entries");

      PRESERVE_ASSIGN_OR_RETURN(const ZipDirectoryEntry* zip, ZipRecord(entry));
      const char* libarchive_name = archive_entry_pathname(entry);
      std::string stored = zip != nullptr ? zip->stored_name : libarchive_name != nullptr ? libarchive_name : "";
      Result<std::string> recorded = RecordedName(stored, zip, names);
      if (zip == nullptr && rc == ARCHIVE_WARN && std::strstr(ArchiveError(archive.get()).c_str(), "Pathname") != nullptr)
        recorded = Status::InvalidArgument("a name libarchive cannot convert: " +
                                           ArchiveError(archive.get()));
      const bool is_directory =
          archive_entry_filetype(entry) == AE_IFDIR && archive_entry_hardlink(entry) == nullptr;
      std::string name = recorded.ok() ? *recorded : stored;
      if (is_directory && !name.empty() && name.back() == '/') name.pop_back();
      if (!is_directory && (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr ||
                            archive_entry_symlink(entry) != nullptr))
        return Refuse(Quoted(name) + ": not a regular file (" + EntryKind(entry) + ")");
      if (archive_entry_is_encrypted(entry)) return Refuse(Quoted(name) + ": encrypted");
      if (!recorded.ok()) {
        const std::string why = recorded.status().message();
        if (recorded.status().code() == StatusCode::kFailedPrecondition)
          return Status::FailedPrecondition(origin + ": refused " + Quoted(stored) + ": " + why);
        if (!names.skip_unreadable) return Refuse(Quoted(stored) + ": " + why);
        if (!is_directory) skipped.push_back(EscapeForDisplay(stored) + ": " + why);
        continue;  // its content is skipped with the next header
      }
      // "./letter.pdf" is recorded as "letter.pdf"; "./" (what `tar -C dir .`
      // writes for dir itself) is the archive's root, nothing to record.
      std::optional<std::string> normalized = NormalizeArchivePath(name);
      if (!normalized || (!is_directory && (normalized->empty() || name.back() == '/')))
        return Refuse("unsafe path " + Quoted(name));
      if (normalized->empty()) continue;
      name = std::move(*normalized);
      PRESERVE_RETURN_IF_ERROR(AddName(name, is_directory));
      if (is_directory) continue;

      current_declared.reset();
      // A zip's central directory declares every size, even where the local
      // header leaves it to a data descriptor after the data.
      if (zip != nullptr || archive_entry_size_is_set(entry) != 0) {
        const std::uint64_t declared =
            zip != nullptr ? zip->uncompressed_size
                           : static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(entry)));
        if (declared > limits.max_entry_bytes)
          return Refuse(Quoted(name) + ": " + std::to_string(declared) + " bytes, more than the limit of " +
                        std::to_string(limits.max_entry_bytes));
        declared_total += declared;
        PRESERVE_RETURN_IF_ERROR(CheckDeclaredTotal(name));
        current_declared = declared;
      }
      current = name;
      current_stored = std::move(stored);
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
                                                               ArchiveFormat format, const ArchiveLimits& limits,
                                                               const NameRules& names) {
  PRESERVE_ASSIGN_OR_RETURN(FileDescriptor file, OpenRegularFile(path));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return Status::IOError(path.string() + ": cannot stat: " + std::strerror(errno));
  Utf8Names utf8;
  auto impl = std::make_unique<Impl>();
  impl->file = std::move(file);
  impl->archive = NewReader(format);
  impl->origin = path.string();
  impl->limits = limits;
  impl->names = names;
  impl->archive_bytes = static_cast<std::uint64_t>(st.st_size);
  if (archive_read_open_fd(impl->archive.get(), impl->file.get(), 1 << 16) != ARCHIVE_OK)
    return Status::InvalidArgument(path.string() + ": not a readable archive: " + ArchiveError(impl->archive.get()));
  return std::unique_ptr<ArchiveReader>(new ArchiveReader(std::move(impl)));
}

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::OpenMemory(ByteView bytes, std::string origin,
                                                                 ArchiveFormat format, const ArchiveLimits& limits,
                                                                 const NameRules& names) {
  Utf8Names utf8;
  auto impl = std::make_unique<Impl>();
  impl->memory = bytes;
  impl->archive = NewReader(format);
  impl->origin = std::move(origin);
  impl->limits = limits;
  impl->names = names;
  impl->archive_bytes = bytes.size();
  if (archive_read_open_memory(impl->archive.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return Status::InvalidArgument(impl->origin + ": not a readable archive: " + ArchiveError(impl->archive.get()));
  return std::unique_ptr<ArchiveReader>(new ArchiveReader(std::move(impl)));
}

Result<std::optional<std::string>> ArchiveReader::NextFile() { return impl_->Next(); }

const std::string& ArchiveReader::StoredName() const { return impl_->current_stored; }

const std::vector<std::string>& ArchiveReader::Skipped() const { return impl_->skipped; }

std::uint64_t ArchiveReader::DeclaredBytes() const { return impl_->declared_total; }

std::optional<std::uint64_t> ArchiveReader::DeclaredSize() const { return impl_->current_declared; }

Status ArchiveReader::ReadContent(const std::function<Status(ByteView)>& sink) {
  if (impl_->current.empty()) return Status::FailedPrecondition(impl_->origin + ": no current file to read");
  Utf8Names utf8;
  std::uint64_t entry_bytes = 0;
  std::uint8_t buffer[1 << 16];
  while (true) {
    la_ssize_t n = archive_read_data(impl_->archive.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0)
      return Status::Corruption(impl_->origin + ": damaged entry " + Quoted(impl_->current) + ": " +
                                ArchiveError(impl_->archive.get()));
    const auto count = static_cast<std::uint64_t>(n);
    entry_bytes += count;
    impl_->unpacked_total += count;
    // Checked on what comes out, before it goes anywhere: headers can lie.
    PRESERVE_RETURN_IF_ERROR(impl_->CheckUnpacked(entry_bytes));
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

}  // namespace preserve::ingest
