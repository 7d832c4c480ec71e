// Reading a damaged store: what readers say about what they cannot read.
// Private to archive/.
//
// A block RocksDB's checksums reject, a table or blob file that cannot be
// read, a record that is not JSON: each is reported where it is met (the
// package, the object, the stretch of records) and readers go on with the
// rest. Only a store that cannot be opened, or I/O that fails outright, is
// an error.
#pragma once

#include <string>
#include <string_view>

#include "preserve/audit/package_verification.h"
#include "preserve/storage/store.h"

namespace preserve::archive {

// Whether `s` says something stored cannot be read (damage) rather than that
// reading failed (I/O: the disk went away), which ends any reader.
inline bool IsDamage(const Status& s) { return s.code() == StatusCode::kCorruption; }

// "package records after ID up to ID cannot be read: Corruption: ..." for a
// stretch a scan skipped; `records` says what the family holds. Keys are
// shown as text when they are printable, else in hex; audit trail keys
// (`sequences`) as event numbers.
std::string DescribeGap(std::string_view records, const storage::ScanGap& gap, bool sequences = false);

// The verification report of a package whose records or content cannot be
// read: INVALID, naming what and why (`damage`'s message).
audit::PackageReport UnreadablePackageReport(const std::string& package_id, const Status& damage);

}  // namespace preserve::archive
