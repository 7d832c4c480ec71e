// A store's database opened with RocksDB itself, every column family, no
// preserve code in between: how tests damage a store as a disk, a stray tool
// or an intruder would. Tests that use it link RocksDB::rocksdb-shared.
#pragma once

#include <gtest/gtest.h>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/table_properties.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "testing.h"

namespace preserve::testing {

class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), dir.string(), families, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
    for (std::size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::string Get(const std::string& family, const std::string& key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), by_name_.at(family), key, &value);
    EXPECT_TRUE(s.ok()) << family << ": " << s.ToString();
    return value;
  }
  // Whether `key` reads without error (false for damage, and for no such key).
  bool Readable(const std::string& family, const std::string& key) {
    std::string value;
    return db_->Get(rocksdb::ReadOptions(), by_name_.at(family), key, &value).ok();
  }
  void Put(const std::string& family, const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), by_name_.at(family), key, value).ok());
  }
  void Delete(const std::string& family, const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), by_name_.at(family), key).ok());
  }
  std::vector<std::string> Keys(const std::string& family) {
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), by_name_.at(family)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
    EXPECT_TRUE(it->status().ok());
    return out;
  }
  // Every column family's name.
  std::vector<std::string> Families() const {
    std::vector<std::string> out;
    for (const auto& [name, handle] : by_name_) out.push_back(name);
    return out;
  }
  // Every key and value of `family`, as RocksDB reads them (uncompressed).
  std::vector<std::pair<std::string, std::string>> Rows(const std::string& family) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), by_name_.at(family)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
    EXPECT_TRUE(it->status().ok());
    return out;
  }
  // Moves everything into table files, and names those of `family`.
  std::vector<std::filesystem::path> FlushAndListFiles(const std::string& family) {
    rocksdb::FlushOptions wait;
    wait.wait = true;
    EXPECT_TRUE(db_->Flush(wait, handles_).ok());
    std::vector<rocksdb::LiveFileMetaData> files;
    db_->GetLiveFilesMetaData(&files);
    std::vector<std::filesystem::path> out;
    for (const auto& f : files)
      if (f.column_family_name == family) out.emplace_back(f.db_path + "/" + f.name);
    return out;
  }
  // After a flush: `family`'s table file with the most data, and the size of
  // its data blocks, which start each table file ([0, data_size)).
  std::pair<std::filesystem::path, std::uint64_t> LargestTable(const std::string& family) {
    FlushAndListFiles(family);
    rocksdb::TablePropertiesCollection tables;
    EXPECT_TRUE(db_->GetPropertiesOfAllTables(by_name_.at(family), &tables).ok());
    std::pair<std::filesystem::path, std::uint64_t> largest{{}, 0};
    for (const auto& [file, properties] : tables)
      if (properties->data_size > largest.second) largest = {file, properties->data_size};
    return largest;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

// Flips one byte in the middle of the data blocks of `family`'s largest table
// file, where RocksDB's block checksums catch it on every read of that block.
inline void FlipByteInTheData(const std::filesystem::path& db, const std::string& family) {
  std::pair<std::filesystem::path, std::uint64_t> table;
  {
    RawDb raw(db);
    table = raw.LargestTable(family);
  }
  ASSERT_GT(table.second, 0u) << family << " has no table file";
  Bytes bytes = ReadFileOrDie(table.first);
  bytes[table.second / 2] ^= 0x5a;
  WriteFile(table.first, bytes);
}

}  // namespace preserve::testing
