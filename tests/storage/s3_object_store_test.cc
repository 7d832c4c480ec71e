// ObjectStore over S3, and a Store whose content is in it, against the real
// RADOS Gateway of the CTest fixture `ceph_s3` (tests/CMakeLists.txt). Each
// test works under a prefix of its own in the Object Lock bucket.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>

#include "preserve/storage/object_store.h"
#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "loopback_http_server.h"
#include "testing.h"

namespace preserve::storage {
namespace {

Bytes RandomBytes(std::size_t size, unsigned seed) {
  Bytes out(size);
  std::mt19937 random(seed);
  for (auto& b : out) b = static_cast<std::uint8_t>(random());
  return out;
}

class S3ObjectStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = preserve::testing::ReadEnvFile(PRESERVE_CEPH_ENV);
    ASSERT_FALSE(env["S3_ENDPOINT"].empty()) << PRESERVE_CEPH_ENV << " is missing (the ctest fixture ceph_s3 makes it)";
    ::setenv("AWS_ACCESS_KEY_ID", env["AWS_ACCESS_KEY_ID"].c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", env["AWS_SECRET_ACCESS_KEY"].c_str(), 1);
    location_.endpoint = env["S3_ENDPOINT"];
    location_.region = env["S3_REGION"];
    location_.bucket = env["S3_BUCKET_LOCKED"];
    location_.prefix = std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
                       std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "/";
    location_.part_size = 5u << 20;  // the smallest S3 allows: multipart at small sizes
    auto opened = OpenS3ObjectStore(location_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    objects_ = std::move(opened).value();
  }

  std::map<std::string, std::uint64_t> Listing() {
    std::map<std::string, std::uint64_t> out;
    Status listed = objects_->List([&](ByteView digest, std::uint64_t size) {
      out[ToHex(digest)] = size;
      return true;
    });
    EXPECT_TRUE(listed.ok()) << listed.ToString();
    return out;
  }

  Result<Bytes> ReadAll(ByteView digest) {
    Bytes out;
    PRESERVE_RETURN_IF_ERROR(objects_->Read(digest, [&](ByteView piece) {
      out.insert(out.end(), piece.begin(), piece.end());
      return Status::Ok();
    }));
    return out;
  }

  S3Location location_;
  std::shared_ptr<ObjectStore> objects_;
  testing::TempDir dir_;
};

TEST_F(S3ObjectStore, PutReadSizeListAndMultipart) {
  const Bytes small = RandomBytes(1000, 1);
  const Bytes digest = Digest(HashAlgorithm::kSha256, small);
  ASSERT_TRUE(objects_->Put(digest, small, std::nullopt).ok());
  auto read = ReadAll(digest);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read.value(), small);
  auto size = objects_->Size(digest);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size.value(), std::optional<std::uint64_t>(1000));

  // 12 MiB in parts of 5 MiB: three parts, the last 2 MiB.
  const Bytes large = RandomBytes(12u << 20, 2);
  const Bytes large_digest = Digest(HashAlgorithm::kSha256, large);
  std::atomic<int> parts{0};
  Status put = objects_->PutParts(
      large_digest, large.size(),
      [&](std::uint64_t offset, Bytes& part) {
        ++parts;
        std::copy(large.begin() + static_cast<std::ptrdiff_t>(offset),
                  large.begin() + static_cast<std::ptrdiff_t>(offset + part.size()), part.begin());
        return Status::Ok();
      },
      std::nullopt);
  ASSERT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(parts, 3);
  auto back = ReadAll(large_digest);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back.value() == large);

  auto listing = Listing();
  EXPECT_EQ(listing.size(), 2u);
  EXPECT_EQ(listing[ToHex(digest)], 1000u);
  EXPECT_EQ(listing[ToHex(large_digest)], 12u << 20);

  const Bytes absent = Digest(HashAlgorithm::kSha256, AsBytes("absent"));
  EXPECT_EQ(ReadAll(absent).status().code(), StatusCode::kNotFound);
  auto no_size = objects_->Size(absent);
  ASSERT_TRUE(no_size.ok());
  EXPECT_FALSE(no_size.value().has_value());
}

// A part that cannot be read ends the upload, which is aborted: no object.
TEST_F(S3ObjectStore, FailedMultipartUploadLeavesNoObject) {
  const Bytes digest = Digest(HashAlgorithm::kSha256, AsBytes("never whole"));
  std::atomic<int> parts{0};
  Status put = objects_->PutParts(
      digest, 11u << 20,
      [&](std::uint64_t offset, Bytes&) {
        ++parts;
        return offset == 0 ? Status::Ok() : Status::IOError("the staging file is gone");
      },
      std::nullopt);
  EXPECT_EQ(put.code(), StatusCode::kIOError) << put.ToString();
  EXPECT_TRUE(Listing().empty());
}

TEST_F(S3ObjectStore, RetentionOnlyGrowsAndLockRefusesDeletion) {
  const Bytes data = RandomBytes(100, 3);
  const Bytes digest = Digest(HashAlgorithm::kSha256, data);
  const TimePoint now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  ASSERT_TRUE(objects_->Put(digest, data, now + std::chrono::hours(2)).ok());
  // Asking for an earlier date keeps the later one (COMPLIANCE refuses to shorten anyway).
  EXPECT_TRUE(objects_->Retain(digest, now + std::chrono::hours(1)).ok());
  EXPECT_TRUE(objects_->Retain(digest, now + std::chrono::hours(3)).ok());
  Status deleted = objects_->Delete(digest);
  EXPECT_EQ(deleted.code(), StatusCode::kFailedPrecondition) << deleted.ToString();
  EXPECT_NE(deleted.message().find("refuses to delete"), std::string::npos) << deleted.message();
  EXPECT_TRUE(ReadAll(digest).ok()) << "the refused deletion left a delete marker";

  // Unlocked, with a legal hold: refused until it is lifted.
  const Bytes held = RandomBytes(100, 4);
  const Bytes held_digest = Digest(HashAlgorithm::kSha256, held);
  ASSERT_TRUE(objects_->Put(held_digest, held, std::nullopt).ok());
  ASSERT_TRUE(objects_->SetLegalHold(held_digest, true).ok());
  EXPECT_EQ(objects_->Delete(held_digest).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(objects_->SetLegalHold(held_digest, false).ok());
  Status gone = objects_->Delete(held_digest);
  EXPECT_TRUE(gone.ok()) << gone.ToString();
  EXPECT_EQ(ReadAll(held_digest).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Listing().count(ToHex(held_digest)), 0u);
}

// A bucket without Object Lock (lock mode NONE): no retention is asked for, and deletion works.
TEST_F(S3ObjectStore, BucketWithoutObjectLock) {
  location_.bucket = preserve::testing::ReadEnvFile(PRESERVE_CEPH_ENV)["S3_BUCKET_PLAIN"];
  location_.lock_mode = ObjectLockMode::kNone;
  auto plain = OpenS3ObjectStore(location_);
  ASSERT_TRUE(plain.ok());
  objects_ = std::move(plain).value();
  const Bytes data = RandomBytes(100, 6);
  const Bytes digest = Digest(HashAlgorithm::kSha256, data);
  const TimePoint later = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()) +
                          std::chrono::hours(24);
  ASSERT_TRUE(objects_->Put(digest, data, later).ok());
  EXPECT_TRUE(objects_->Retain(digest, later).ok());
  EXPECT_TRUE(objects_->SetLegalHold(digest, true).ok());
  Status deleted = objects_->Delete(digest);
  EXPECT_TRUE(deleted.ok()) << deleted.ToString();
  EXPECT_EQ(ReadAll(digest).status().code(), StatusCode::kNotFound);
}

TEST_F(S3ObjectStore, WrongCredentialsAreRefusedWithoutShowingThem) {
  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-at-all", 1);
  auto opened = OpenS3ObjectStore(location_);
  ASSERT_TRUE(opened.ok());
  Status listed = opened.value()->List([](ByteView, std::uint64_t) { return true; });
  EXPECT_EQ(listed.code(), StatusCode::kFailedPrecondition) << listed.ToString();
  EXPECT_EQ(listed.message().find("not-the-secret-at-all"), std::string::npos);
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  auto without = OpenS3ObjectStore(location_);
  ASSERT_TRUE(without.ok());
  Status refused = without.value()->List([](ByteView, std::uint64_t) { return true; });
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << refused.ToString();
  EXPECT_NE(refused.message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << refused.message();
}

// A Store with its content in the object store: uploads before its commit,
// reference rows in the content family, reads through the object store.
TEST_F(S3ObjectStore, StoreKeepsContentInTheObjectStore) {
  const std::filesystem::path db = dir_ / "db";
  const Bytes letter = ToBytes("Công văn số 6587/UBND-CNXD\n");
  const Bytes digest = Digest(HashAlgorithm::kSha256, letter);
  const Bytes large = RandomBytes(11u << 20, 5);
  Bytes large_digest;
  {
    auto store = Store::Open(db, {.create_if_missing = true, .object_store = objects_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_EQ(store.value()->object_store(), objects_.get());
    WriteSet w;
    w.PutContent(digest, letter);
    w.RetainContent(digest, std::nullopt);
    auto writer = store.value()->NewContentWriter();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer.value()->Append(large).ok());
    auto object = writer.value()->Finish();
    ASSERT_TRUE(object.ok());
    large_digest = object->sha256;
    ASSERT_TRUE(writer.value()->Put(w).ok());  // uploaded now, in three parts
    EXPECT_EQ(Listing().count(ToHex(large_digest)), 1u);
    ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());

    Bytes read;
    ASSERT_TRUE(store.value()->ReadContent(digest, [&](ByteView p) {
      read.insert(read.end(), p.begin(), p.end());
      return Status::Ok();
    }).ok());
    EXPECT_EQ(read, letter);
    EXPECT_TRUE(store.value()->HasContent(large_digest).value());
    EXPECT_TRUE(store.value()->ContentChunks(large_digest).value().empty());
    std::map<std::string, std::uint64_t> rows;
    ASSERT_TRUE(store.value()->ScanContent([&](ByteView d, bool, std::uint64_t size) {
      rows[ToHex(d)] = size;
      return true;
    }).ok());
    EXPECT_EQ(rows[ToHex(digest)], letter.size());
    EXPECT_EQ(rows[ToHex(large_digest)], large.size());

    // Erasing locked content is refused by the object store: the commit fails, the row stays.
    WriteSet erase;
    erase.EraseContent(digest);
    Status refused = store.value()->Commit(std::move(erase));
    EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
    EXPECT_TRUE(store.value()->HasContent(digest).value());
    // The unlocked one goes from both.
    WriteSet erase_large;
    erase_large.EraseContent(large_digest);
    Status erased = store.value()->Commit(std::move(erase_large));
    EXPECT_TRUE(erased.ok()) << erased.ToString();
    EXPECT_FALSE(store.value()->HasContent(large_digest).value());
    EXPECT_EQ(Listing().count(ToHex(large_digest)), 0u);
  }
  {
    // Opened without its object store (a backup's checkpoint): records read, content refused.
    auto store = Store::Open(db, {.read_only = true});
    ASSERT_TRUE(store.ok());
    Status read = store.value()->ReadContent(digest, [](ByteView) { return Status::Ok(); });
    EXPECT_EQ(read.code(), StatusCode::kFailedPrecondition) << read.ToString();
  }
  {
    // A store whose content is in RocksDB cannot take an object store.
    const std::filesystem::path rocks = dir_ / "rocks";
    {
      auto store = Store::Open(rocks, {.create_if_missing = true});
      WriteSet w;
      w.PutContent(digest, letter);
      ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
    }
    auto store = Store::Open(rocks, {.object_store = objects_});
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  }
}

// A gateway that answers "busy" is asked again, twice at most, as the AWS
// SDKs do; a POST is not (it starts or completes a multipart upload, which
// another try would do twice). A local server stands in for the gateway: it
// answers each request as the test says, without checking signatures.
class S3Retries : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("AWS_ACCESS_KEY_ID", "test", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
  }
  // An object store whose gateway is `server`.
  std::unique_ptr<ObjectStore> Open(const testing::TestServer& server) {
    S3Location location;
    const std::string url = server.url();
    location.endpoint = url.substr(0, url.rfind('/'));  // without the server's path
    location.bucket = "bucket";
    location.part_size = 5u << 20;
    auto opened = OpenS3ObjectStore(location);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  static testing::Reply Answer(unsigned status, std::string_view body) {
    const ByteView bytes = AsBytes(body);
    return {.status = status, .content_type = "application/xml", .body = Bytes(bytes.begin(), bytes.end())};
  }
  static testing::Reply Busy() { return Answer(503, "<Error><Code>SlowDown</Code></Error>"); }
  const Bytes digest_ = Digest(HashAlgorithm::kSha256, AsBytes("object"));
};

TEST_F(S3Retries, BusyGatewayIsAskedAgainAndTheObjectArrivesOnce) {
  std::atomic<int> answered{0};
  testing::TestServer server([&](const testing::HttpRequest&) {
    return ++answered <= 2 ? Busy() : Answer(200, "object");
  });
  auto objects = Open(server);
  ASSERT_NE(objects, nullptr);
  Bytes read;
  Status status = objects->Read(digest_, [&](ByteView piece) {
    read.insert(read.end(), piece.begin(), piece.end());
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(std::string(read.begin(), read.end()), "object");
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(S3Retries, GatewayBusyThreeTimesFailsAndAPostIsNotRepeated) {
  testing::TestServer server([](const testing::HttpRequest&) { return Busy(); });
  auto objects = Open(server);
  ASSERT_NE(objects, nullptr);
  Status read = objects->Read(digest_, [](ByteView) { return Status::Ok(); });
  EXPECT_EQ(read.code(), StatusCode::kUnavailable) << read.ToString();
  EXPECT_TRUE(read.message().find("HTTP 503 SlowDown") != std::string::npos) << read.ToString();
  EXPECT_EQ(server.requests(), 3);

  // A multipart upload begins with a POST: one request, then the failure.
  const int before = server.requests();
  Status put = objects->PutParts(
      digest_, 6u << 20, [](std::uint64_t, Bytes& part) { part.assign(5u << 20, 0); return Status::Ok(); }, std::nullopt);
  EXPECT_FALSE(put.ok());
  EXPECT_EQ(server.requests() - before, 1);
}

}  // namespace
}  // namespace preserve::storage
