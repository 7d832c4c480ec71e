// The subjects of a renewal batch: up to max_batch (a million) ids, kept in
// one buffer. A std::vector<RenewalItem> holds each id in a heap block of its
// own beside the item's other fields, about 130 MB for a million, the
// largest thing a renewal held before its tree. Private to archive/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace preserve::archive {

class SubjectIds {
 public:
  // Ids [first, first + count) of a SubjectIds, which must outlive it.
  class Range {
   public:
    Range(const SubjectIds& ids, std::size_t first, std::size_t count) : ids_(&ids), first_(first), count_(count) {}
    std::size_t size() const { return count_; }
    std::string_view operator[](std::size_t i) const { return (*ids_)[first_ + i]; }

   private:
    const SubjectIds* ids_;
    std::size_t first_;
    std::size_t count_;
  };

  void Add(std::string_view id) {
    chars_.append(id);
    ends_.push_back(chars_.size());
  }
  std::size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  std::string_view operator[](std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(chars_).substr(begin, ends_[i] - begin);
  }
  Range Slice(std::size_t first, std::size_t count) const { return Range(*this, first, count); }
  // Empties it and gives its memory back.
  void Release() {
    chars_ = {};
    ends_ = {};
  }

 private:
  std::string chars_;              // every id, one after another
  std::vector<std::size_t> ends_;  // where each ends in chars_
};

}  // namespace preserve::archive
