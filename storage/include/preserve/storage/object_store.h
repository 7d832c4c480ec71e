// Where a store's content (the data objects' bytes) lives, and the interface
// of an object store that can hold it instead of the RocksDB database.
//
// By default content lives in the database's `content` family (store.h). A
// store can instead keep it in an S3-compatible object store (Ceph's RADOS
// Gateway, MinIO, AWS S3): each object under its SHA-256 in hex below a
// prefix, write-once, under S3 Object Lock when the bucket has it. The
// catalogue, evidence, schedule and audit trail stay in RocksDB, which then
// holds one small reference row per object (Store says how the two are kept
// consistent).
//
// Credentials are never part of a message, a log line or config.json: they
// come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or from a file that
// only its owner may read.
//
// Thread-safety: an ObjectStore may be used from several threads (each
// request has its own libcurl handle).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/status.h"

namespace preserve::storage {

// How S3 Object Lock protects uploaded objects. kCompliance: nobody, not even
// the bucket's owner, can delete an object or shorten its date before the
// date. kGovernance: a user with s3:BypassGovernanceRetention can (preserve
// never does). kNone: no retention is set (a bucket without Object Lock).
enum class ObjectLockMode { kNone, kGovernance, kCompliance };
std::string_view ObjectLockModeName(ObjectLockMode mode);  // "NONE", "GOVERNANCE", "COMPLIANCE"
Result<ObjectLockMode> ObjectLockModeFromName(std::string_view name);

struct S3Location {
  std::string endpoint;             // http(s)://host[:port], without the bucket
  std::string region = "us-east-1";  // signed into every request (Ceph: its zonegroup's name, "default")
  std::string bucket;
  std::string prefix;               // "" or "a/b/": objects are PREFIX + hex SHA-256
  bool path_style = true;           // ENDPOINT/BUCKET/KEY; false: BUCKET.HOST/KEY
  ObjectLockMode lock_mode = ObjectLockMode::kCompliance;
  // A file holding AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=... lines,
  // readable by its owner only; empty: those two environment variables.
  std::string credentials_file;
  // A connection not made, or a transfer that moves no byte, for this long
  // fails the request (kUnavailable): a gateway that hangs cannot hang ingest.
  std::chrono::seconds timeout{30};
  // Objects larger than this are uploaded in parts of this size (multipart
  // upload). 16 MiB: a RADOS object holds at most 128 MiB, so content must be
  // cut anyway, and 16 MiB parts keep per-request overhead small while one
  // part in memory stays modest.
  std::uint64_t part_size = 16u << 20;
};

// "s3://BUCKET/PREFIX" for messages: never credentials.
std::string DescribeS3Location(const S3Location& location);
// Reads "s3://BUCKET[/PREFIX]" into bucket and prefix (prefix given a
// trailing "/"); kInvalidArgument otherwise.
Status ParseS3Url(std::string_view url, S3Location& location);

// Content-addressed, write-once objects by SHA-256 digest (32 bytes).
// Failures: kUnavailable when the store cannot be reached or does not answer
// in time; kFailedPrecondition when it refuses (Object Lock, access denied);
// kNotFound for an absent object; kCorruption when an upload's checksum does
// not match; kIOError for other error answers. Messages name the object
// store and the object, never a credential.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual std::string Describe() const = 0;
  // Objects larger than this are uploaded with PutParts.
  virtual std::uint64_t part_size() const = 0;
  // Uploads one object, checked by the gateway against its MD5 and SHA-256,
  // retained until `retain_until` (when the lock mode is not kNone).
  virtual Status Put(ByteView digest, ByteView data, std::optional<TimePoint> retain_until) = 0;
  // Uploads `size` bytes as a multipart upload in parts of part_size, each
  // part fetched by `read(offset, part)` (`part` comes sized) and checked
  // like Put. A few parts are uploaded at once: `read` is called from several
  // threads. An upload that fails is aborted.
  virtual Status PutParts(ByteView digest, std::uint64_t size,
                          const std::function<Status(std::uint64_t offset, Bytes& part)>& read,
                          std::optional<TimePoint> retain_until) = 0;
  // Streams the object's current bytes to `sink`; stops at its first error.
  virtual Status Read(ByteView digest, const std::function<Status(ByteView)>& sink) const = 0;
  // The object's size; nullopt when it is absent.
  virtual Result<std::optional<std::uint64_t>> Size(ByteView digest) const = 0;
  // Removes every version of the object. kFailedPrecondition, naming the
  // object, when Object Lock (retention or a legal hold) refuses: versions
  // before the refused one may be gone then.
  virtual Status Delete(ByteView digest) = 0;
  // Every object under the prefix whose name is a digest, with its size;
  // stops early when `visit` returns false. Other names are skipped.
  virtual Status List(const std::function<bool(ByteView digest, std::uint64_t size)>& visit) const = 0;
  // Extends the object's retention to `until`; a later date already set is
  // kept (an object shared by two packages keeps the later one). No-op
  // without a lock mode.
  virtual Status Retain(ByteView digest, TimePoint until) = 0;
  // Places (on) or lifts an S3 legal hold on the object.
  virtual Status SetLegalHold(ByteView digest, bool on) = 0;
};

// Checks the location and reads its credentials file (kInvalidArgument when
// group or others may read it, or it lacks a key); makes no request. Without
// a credentials file and without the two environment variables, every request
// fails with kInvalidArgument saying so (a command that reads no content runs).
Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const S3Location& location);

}  // namespace preserve::storage
