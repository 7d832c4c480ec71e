// What the records officer's pages share between their files: the package
// page (package_page.cc), routed by AddOfficerPages; how record metadata
// reads on every page that shows it; and the spool directory of a request.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "page.h"

namespace preserve::web {

// Every GET under /package/: the package page "/package/ID", a data object
// "/package/ID/file?path=documents/x" and "/package/ID/export.zip".
service::HttpResponse PackagePages(Page& page);

// A record's issue date ("2026-11-22" as stored) in the page's language:
// "22/11/2026" in Vietnamese. Text that is not such a date comes back as it is.
std::string IssueDate(const Page& page, std::string_view iso);

// The label of a Decree 30 record metadata field, by its sidecar key
// ("organ_name" -> "Tên cơ quan ban hành"), as the hand-in form and the
// package page show it.
std::string MetadataLabel(const Page& page, std::string_view key);

// A fresh directory of its own under the spool, for one request's files
// (uploads, an export), removed with everything in it however the request
// ends. Make() is kIOError when it cannot be made.
class SpoolDirectory {
 public:
  static Result<std::unique_ptr<SpoolDirectory>> Make(const std::filesystem::path& spool);
  ~SpoolDirectory();
  SpoolDirectory(const SpoolDirectory&) = delete;
  SpoolDirectory& operator=(const SpoolDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit SpoolDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace preserve::web
