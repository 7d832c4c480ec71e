// The search index: filters match as people search (words, any case, any
// diacritics, any Unicode normalization, the last word a prefix); the index
// follows every change of a package in the same commit; a store made before
// it lists the same through its manifests, and gets the index by a build
// that resumes where it stopped.
#include <gtest/gtest.h>

#include "preserve/archive/archive.h"
#include "preserve/archive/bulk_load.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/storage/store.h"
#include "preserve/util/certificates.h"
#include "preserve/util/date.h"
#include "archive_fixture.h"
#include "testing.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

const fs::path kSigned = testing::SourceDir() / "tests" / "fixtures" / "signed";
const fs::path kPki = testing::SourceDir() / "tests" / "fixtures" / "pki";

struct Record {
  std::string number;  // code_number
  std::string notation;
  std::string organ;
  std::string type;
  std::string issued;
  std::string subject;
};

std::string MetadataJson(const Record& r) {
  return R"({"code_number": ")" + r.number + R"(", "code_notation": ")" + r.notation + R"(", "issued_date": ")" +
         r.issued + R"(", "organ_name": ")" + r.organ + R"(", "type_name": ")" + r.type + R"(", "subject": ")" +
         r.subject + R"("})";
}

class SearchIndex : public testing::ArchiveTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
    options_.trust_anchors = LoadCertificates(kPki / "root-ca.pem").value();
    options_.allow_duplicate = true;  // the same signed letter, with other record metadata each time
  }

  fs::path Sidecar(const Record& r) {
    fs::path path = dir_ / ("sidecar" + std::to_string(++files_) + ".metadata.json");
    testing::WriteFile(path, MetadataJson(r));
    return path;
  }

  std::string IngestRecord(const Record& r) {
    Submission s{kSigned / "letter.txt.p7s", kSigned / "letter.txt", Sidecar(r), ""};
    auto outcome = archive::Ingestion(*archive_).Ingest(s, options_);
    EXPECT_TRUE(outcome.ok() && outcome->accepted) << (outcome.ok() ? outcome->reason : outcome.status().ToString());
    return outcome.ok() ? outcome->package_id : "";
  }

  // The code numbers of the packages `filter` lists, in order.
  std::vector<std::string> Numbers(const ListFilter& filter, const std::string& after = "", std::size_t limit = 100) {
    std::vector<std::string> out;
    auto page = archive::Catalogue(*archive_).List(after, limit, filter);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    for (const auto& p : page.value()) {
      EXPECT_TRUE(p.unreadable.empty()) << p.unreadable;
      out.push_back(p.metadata ? p.metadata->code_number : p.state == PackageState::kDeleted ? "deleted" : "-");
    }
    return out;
  }

  // Makes the store as one made before the search index: no index entries, no progress.
  void ForgetTheIndex() {
    archive_.reset();
    {
      auto store = storage::Store::Open(DatabaseDir(root_), {});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      storage::WriteSet w;
      auto cursor = (*store)->NewIndexCursor();
      for (cursor->Seek(""); cursor->Valid(); cursor->Next()) w.EraseIndex(cursor->key());
      ASSERT_TRUE(cursor->status().ok());
      w.EraseSetting("search_index");
      ASSERT_TRUE((*store)->Commit(std::move(w)).ok());
    }
    ASSERT_NO_FATAL_FAILURE(Reopen());
  }

  IngestOptions options_;
  int files_ = 0;
};

ListFilter Organ(const std::string& text) {
  ListFilter f;
  f.organ = text;
  return f;
}
ListFilter Number(const std::string& text) {
  ListFilter f;
  f.number = text;
  return f;
}
ListFilter Subject(const std::string& text) {
  ListFilter f;
  f.subject = text;
  return f;
}

const std::vector<Record> kRecords = {
    {"6587", "UBND-CNXD", "UBND tỉnh Đắk Nông", "Công văn", "2017-11-22", "Về việc phê duyệt quy hoạch xây dựng"},
    {"12", "QĐ-UBND", "Sở Nội vụ tỉnh Đắk Nông", "Quyết định", "2020-03-05", "Về việc tuyển dụng công chức"},
    {"88", "SXD-QLN", "Sở Xây dựng", "Công văn", "2024-01-10", "Hướng dẫn quy trình cấp phép xây dựng"},
    {"6590", "UBND-KT", "UBND huyện Cư Jút", "Tờ trình", "2024-02-29", "Đề nghị phê duyệt dự toán"},
};

TEST_F(SearchIndex, MatchesWordsWhateverTheirCaseDiacriticsAndNormalization) {
  for (const auto& r : kRecords) IngestRecord(r);
  EXPECT_EQ(Numbers(Organ("dak nong")), (std::vector<std::string>{"6587", "12"}));
  EXPECT_EQ(Numbers(Organ("ĐẮK NÔNG")), (std::vector<std::string>{"6587", "12"}));
  // "Đắk Nông" decomposed (NFD: D-stroke, a, combining breve, combining acute...) finds the NFC text.
  EXPECT_EQ(Numbers(Organ("\xC4\x90\x61\xCC\x86\xCC\x81k No\xCC\x82ng")), (std::vector<std::string>{"6587", "12"}));
  // Words, not bytes: "ak" is inside "Đắk" but no word of it.
  EXPECT_TRUE(Numbers(Organ("ak nong")).empty());
  // The last word may be the beginning of one.
  EXPECT_EQ(Numbers(Organ("cu j")), (std::vector<std::string>{"6590"}));
  ListFilter type;
  type.type_name = "cong van";
  EXPECT_EQ(Numbers(type), (std::vector<std::string>{"6587", "88"}));
}

TEST_F(SearchIndex, FindsTheNumberAndSymbolWholeOrByItsBeginningAndTheSubjectByWords) {
  for (const auto& r : kRecords) IngestRecord(r);
  EXPECT_EQ(Numbers(Number("6587/UBND-CNXD")), (std::vector<std::string>{"6587"}));
  EXPECT_EQ(Numbers(Number("6587/ubnd-cn")), (std::vector<std::string>{"6587"}));
  EXPECT_EQ(Numbers(Number("65")), (std::vector<std::string>{"6587", "6590"}));
  EXPECT_EQ(Numbers(Number("UBND")), (std::vector<std::string>{"6587", "12", "6590"}));
  EXPECT_TRUE(Numbers(Number("6588")).empty());
  EXPECT_EQ(Numbers(Subject("quy hoach")), (std::vector<std::string>{"6587"}));
  EXPECT_EQ(Numbers(Subject("xây dựng")), (std::vector<std::string>{"6587", "88"}));
  EXPECT_EQ(Numbers(Subject("phe duy")), (std::vector<std::string>{"6587", "6590"}));
  EXPECT_TRUE(Numbers(Subject("duyệt phê xây quy hoạch dựng thuế")).empty());
}

TEST_F(SearchIndex, JoinsFieldsDatesStatesAndPages) {
  for (const auto& r : kRecords) IngestRecord(r);
  ListFilter f = Organ("dak nong");
  f.type_name = "công văn";
  EXPECT_EQ(Numbers(f), (std::vector<std::string>{"6587"}));
  ListFilter issued;
  issued.issued_from = "2017-11-22";
  issued.issued_to = "2024-02-28";
  EXPECT_EQ(Numbers(issued), (std::vector<std::string>{"6587", "12", "88"}));
  issued.issued_from = "2024-01-11";
  issued.issued_to = "";
  EXPECT_EQ(Numbers(issued), (std::vector<std::string>{"6590"}));  // a leap day
  issued.issued_from = "2018-01-01";
  issued.issued_to = "2019-12-31";
  EXPECT_TRUE(Numbers(issued).empty());
  ListFilter words_and_dates = Subject("xay dung");
  words_and_dates.issued_from = "2020-01-01";
  EXPECT_EQ(Numbers(words_and_dates), (std::vector<std::string>{"88"}));

  // Ingest dates are the packages' creation, in UTC.
  clock_.Set(clock_.Now() + std::chrono::days(40));
  IngestRecord({"7", "CV-SYT", "Sở Y tế", "Công văn", "2026-12-01", "Báo cáo"});
  ListFilter later;
  later.ingested_from = FormatDate(std::chrono::floor<std::chrono::days>(clock_.Now()));
  EXPECT_EQ(Numbers(later), (std::vector<std::string>{"7"}));
  ListFilter earlier;
  earlier.ingested_to = FormatDate(std::chrono::floor<std::chrono::days>(clock_.Now()) - std::chrono::days(1));
  EXPECT_EQ(Numbers(earlier).size(), kRecords.size());

  // States come from the evidence: sealed once a seal ran.
  ListFilter queued;
  queued.state = PackageState::kQueued;
  EXPECT_EQ(Numbers(queued).size(), kRecords.size() + 1);
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  EXPECT_TRUE(Numbers(queued).empty());
  queued.state = PackageState::kSealed;
  queued.type_name = "cong van";
  EXPECT_EQ(Numbers(queued), (std::vector<std::string>{"6587", "88", "7"}));

  // Paging goes on after the last one listed.
  auto first = archive::Catalogue(*archive_).List("", 1, Number("UBND"));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ(Numbers(Number("UBND"), first->front().id, 1), (std::vector<std::string>{"12"}));
}

TEST_F(SearchIndex, FollowsNewVersionsAndDeletion) {
  const std::string id = IngestRecord(kRecords[0]);
  IngestRecord(kRecords[1]);
  Record changed = kRecords[0];
  changed.organ = "UBND huyện Krông Nô";
  auto version = archive::Lifecycle(*archive_).AddVersion(id, {std::nullopt, Sidecar(changed)}, options_);
  ASSERT_TRUE(version.ok() && version->accepted) << (version.ok() ? version->reason : version.status().ToString());
  EXPECT_EQ(Numbers(Organ("dak nong")), (std::vector<std::string>{"12"}));
  auto found = archive::Catalogue(*archive_).List("", 10, Organ("krong no"));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().id, id);
  EXPECT_EQ(found->front().versions, 2u);
  EXPECT_EQ(found->front().latest_id, version->package_id);

  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  ASSERT_TRUE(archive::Lifecycle(*archive_).SetRetention(id, {false, 1}, "appraisal", "records officer").ok());
  clock_.Set(clock_.Now() + std::chrono::days(400));
  ASSERT_TRUE(archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer").ok());
  EXPECT_TRUE(Numbers(Organ("krong no")).empty());
  ListFilter deleted;
  deleted.state = PackageState::kDeleted;
  EXPECT_EQ(Numbers(deleted), (std::vector<std::string>{"deleted"}));
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

TEST_F(SearchIndex, AStoreMadeBeforeTheIndexListsTheSameThenBuildsItResumably) {
  std::vector<std::string> ids;
  for (const auto& r : kRecords) ids.push_back(IngestRecord(r));
  const std::vector<ListFilter> filters = {Organ("dak nong"), Number("65"), Subject("xay dung"),
                                           [] {
                                             ListFilter f;
                                             f.issued_from = "2020-01-01";
                                             f.type_name = "cong";
                                             return f;
                                           }()};
  std::vector<std::vector<std::string>> indexed;
  for (const auto& f : filters) indexed.push_back(Numbers(f));
  EXPECT_EQ(indexed[0], (std::vector<std::string>{"6587", "12"}));

  ASSERT_NO_FATAL_FAILURE(ForgetTheIndex());
  auto status = archive::Catalogue(*archive_).IndexStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->complete);
  EXPECT_FALSE(status->started);
  for (std::size_t i = 0; i < filters.size(); ++i) EXPECT_EQ(Numbers(filters[i]), indexed[i]) << "manifests, " << i;

  // A build that stopped after the second package goes on from the third.
  {
    storage::WriteSet w;
    w.PutSetting("search_index", AsBytes("through:" + ids[1]));
    archive_.reset();
    auto store = storage::Store::Open(DatabaseDir(root_), {});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Commit(std::move(w)).ok());
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  status = archive::Catalogue(*archive_).IndexStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->started);
  EXPECT_EQ(status->built_through, ids[1]);
  std::vector<std::size_t> steps;
  auto build = archive::Catalogue(*archive_).BuildSearchIndex(false, "operator", [&](std::size_t n) {
    steps.push_back(n);
  }, 1);
  ASSERT_TRUE(build.ok()) << build.status().ToString();
  EXPECT_TRUE(build->resumed);
  EXPECT_EQ(build->resumed_after, ids[1]);
  EXPECT_EQ(build->packages, 2u);
  EXPECT_EQ(steps, (std::vector<std::size_t>{1, 2, 2, 2}));  // a commit per package, the packages', the trail's
  // What the stopped run had done is gone in this test: the first two are not found.
  EXPECT_EQ(Numbers(Organ("cu jut")), (std::vector<std::string>{"6590"}));
  EXPECT_TRUE(Numbers(Organ("dak nong")).empty());

  // Rebuilt from the first, every filter lists what it listed before.
  build = archive::Catalogue(*archive_).BuildSearchIndex(true, "operator");
  ASSERT_TRUE(build.ok()) << build.status().ToString();
  EXPECT_EQ(build->packages, kRecords.size());
  for (std::size_t i = 0; i < filters.size(); ++i) EXPECT_EQ(Numbers(filters[i]), indexed[i]) << "rebuilt, " << i;
  build = archive::Catalogue(*archive_).BuildSearchIndex(false, "operator");
  ASSERT_TRUE(build.ok());
  EXPECT_EQ(build->packages, 0u);  // complete: nothing to do

  const auto events = testing::AuditEventsOfType(*archive_, "index");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_NE(events[0].find("\"action\":\"resumed\""), std::string::npos) << events[0];
  EXPECT_NE(events[1].find("\"action\":\"built\""), std::string::npos) << events[1];
  EXPECT_NE(events[1].find("\"packages\":\"2\""), std::string::npos) << events[1];
  EXPECT_NE(events[2].find("\"action\":\"started\""), std::string::npos) << events[2];
}

// The report's counts, row by row, as text.
std::string Counts(const SignatureUseReport& r) {
  std::string out;
  for (const SignatureUseRow* row : [&r] {
         std::vector<const SignatureUseRow*> rows{&r.total};
         for (const auto& row : r.rows) rows.push_back(&row);
         return rows;
       }()) {
    out += row->group + ": " + std::to_string(row->submitted) + " " + std::to_string(row->accepted) + " " +
           std::to_string(row->duplicate) + " " + std::to_string(row->refused) + " " +
           std::to_string(row->refused_then_accepted) + " " + std::to_string(row->not_signed);
    for (const auto& [reason, n] : row->refused_by_reason) out += " " + reason + "=" + std::to_string(n);
    out += "\n";
  }
  return out;
}

TEST_F(SearchIndex, TheSignatureUseReportCountsTheSameFromTheIndexAsFromTheTrail) {
  // Refused for want of a trust anchor (the store's trust list is empty), then
  // accepted with it a month later: refused, then accepted.
  IngestOptions untrusting = options_;
  untrusting.trust_anchors.clear();
  Submission letter{kSigned / "letter.txt.p7s", kSigned / "letter.txt", Sidecar(kRecords[1]), ""};
  ASSERT_FALSE(archive::Ingestion(*archive_).Ingest(letter, untrusting)->accepted);
  clock_.Set(clock_.Now() + std::chrono::days(31));
  IngestRecord(kRecords[0]);
  Submission tampered{kSigned / "letter.txt.p7s", kSigned / "letter-tampered.txt", Sidecar(kRecords[2]), ""};
  ASSERT_FALSE(archive::Ingestion(*archive_).Ingest(tampered, options_)->accepted);
  IngestOptions once = options_;
  once.allow_duplicate = false;
  ASSERT_TRUE(archive::Ingestion(*archive_).Ingest(letter, once)->duplicate);

  const TimePoint from = clock_.Now() - std::chrono::days(365);
  const TimePoint to = clock_.Now() + std::chrono::days(1);
  auto reports = [&] {
    std::string all;
    for (ReportGrouping g : {ReportGrouping::kNone, ReportGrouping::kOrgan, ReportGrouping::kSignerOrganization,
                             ReportGrouping::kMonth}) {
      auto r = archive::Catalogue(*archive_).ReportSignatureUse(from, to, g);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) all += Counts(r.value()) + "--\n";
    }
    // A period that ends before the acceptance still knows the refusal was accepted later.
    auto early = archive::Catalogue(*archive_).ReportSignatureUse(from, to - std::chrono::days(20), ReportGrouping::kNone);
    EXPECT_TRUE(early.ok());
    if (early.ok()) all += Counts(early.value());
    return all;
  };
  const std::string indexed = reports();
  EXPECT_NE(indexed.find(": 4 1 1 1 1 0 HASH_FAILURE=1\n"), std::string::npos) << indexed;
  EXPECT_NE(indexed.find("--\n: 1 0 0 0 1 0\n"), std::string::npos) << indexed;  // the early period
  ASSERT_NO_FATAL_FAILURE(ForgetTheIndex());
  EXPECT_EQ(reports(), indexed);
  auto build = archive::Catalogue(*archive_).BuildSearchIndex(false, "operator");
  ASSERT_TRUE(build.ok()) << build.status().ToString();
  EXPECT_GE(build->events, 5u);
  EXPECT_EQ(reports(), indexed);
}

}  // namespace
}  // namespace preserve::archive
