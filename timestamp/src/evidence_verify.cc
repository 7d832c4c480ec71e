// RFC 4998 section 5.3 verification, stricter than BouncyCastle 1.72 (see
// ERS-RULES.md): every chain and every ATS is checked, and each check becomes
// one line of the report an auditor reads.
#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "evidence_internal.h"
#include "preserve/timestamp/evidence_record.h"
#include "preserve/util/certificates.h"

namespace preserve::timestamp {

namespace {

std::string AtsName(std::size_t chain, std::size_t ats) {
  return "chain " + std::to_string(chain + 1) + ", ATS " + std::to_string(ats + 1);
}

std::string AlgName(HashAlgorithm alg) { return std::string(HashAlgorithmName(alg)); }

Bytes Concatenation(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

bool Contains(const PartialHashtree& list, const Bytes& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Whether a group of member hashes leads to `imprint` through the ATS (rule 9).
// Returns the reason when it does not.
std::optional<std::string> CoverageFailure(HashAlgorithm alg, const ArchiveTimeStamp& ats,
                                           const std::vector<Bytes>& members, const Bytes& imprint) {
  const Bytes group_hash = GroupHash(alg, members);
  if (!ats.reduced_hashtree) {
    if (group_hash == imprint) return std::nullopt;
    return "the token's imprint is not the " + AlgName(alg) + " hash of what this ATS must cover";
  }
  const ReducedHashtree& tree = *ats.reduced_hashtree;
  if (tree.empty()) return "the reduced hash tree is empty";
  // A group's hash must be the first list's node; RFC 4998 Figure 2 style
  // (the value among its siblings in the first list) is accepted too.
  const bool in_first_list = Contains(tree.front(), group_hash) ||
                             (members.size() > 1 && ReducedTreeRoot(alg, {tree.front()}) == group_hash);
  if (!in_first_list)
    return "the first list of the reduced hash tree does not hold the " + AlgName(alg) +
           " hash of what this ATS must cover";
  if (ReducedTreeRoot(alg, tree) != imprint) return "the reduced hash tree does not lead to the token's imprint";
  return std::nullopt;
}

// One ATS whose token could be read, for the checks across ATSs.
struct DatedArchiveTimeStamp {
  std::string name;
  HashAlgorithm alg;
  TimePoint gen_time;
  TokenInfo token;  // what its token relies on: TSA certificate, signature algorithm and digest
};

class Verifier {
 public:
  Verifier(const EvidenceRecord& record, const DataObjectHashes& data_hashes, const EvidenceVerifyOptions& options)
      : record_(record), data_hashes_(data_hashes), options_(options) {}

  EvidenceReport Run() {
    if (record_.sequence.empty()) {
      Add("evidence record", Verdict::kInvalid, "it holds no archive timestamp");
      return Finish();
    }
    for (std::size_t c = 0; c < record_.sequence.size(); ++c) CheckChain(c);
    CheckTimesIncrease();
    CheckAlgorithmsLasted();
    CheckTokensLasted();
    return Finish();
  }

 private:
  void Add(std::string what, Verdict verdict, std::string detail = {}) {
    report_.steps.push_back({std::move(what), verdict, std::move(detail)});
  }

  EvidenceReport Finish() {
    report_.verdict = Verdict::kValid;
    for (const EvidenceStep& step : report_.steps) report_.verdict = Worse(report_.verdict, step.verdict);
    for (const EvidenceStep& step : report_.steps)
      if (step.verdict == report_.verdict && step.verdict != Verdict::kValid) {
        report_.failure = step.what + ": " + step.detail;
        break;
      }
    if (!dated_.empty()) {
      if (dated_.front().name == AtsName(0, 0)) report_.first_time = dated_.front().gen_time;
      report_.last_time = dated_.back().gen_time;
    }
    return std::move(report_);
  }

  // The data-object hashes under `alg`, asked for once per algorithm.
  const Result<std::vector<Bytes>>& DataHashes(HashAlgorithm alg) {
    auto it = data_hash_cache_.find(alg);
    if (it != data_hash_cache_.end()) return it->second;
    Result<std::vector<Bytes>> hashes = Status::InvalidArgument("no data was given to verify against");
    if (data_hashes_) hashes = data_hashes_(alg);
    if (hashes.ok() && hashes->empty()) hashes = Status::InvalidArgument("no data object was given");
    return data_hash_cache_.emplace(alg, std::move(hashes)).first->second;
  }

  void CheckChain(std::size_t c) {
    const ArchiveTimeStampChain& chain = record_.sequence[c];
    if (chain.empty()) {
      Add("chain " + std::to_string(c + 1), Verdict::kInvalid, "it holds no archive timestamp");
      return;
    }
    auto chain_alg = ArchiveTimeStampAlgorithm(chain.front());
    if (!chain_alg.ok()) {
      Add(AtsName(c, 0), Verdict::kInvalid, "the time-stamp token cannot be read: " + chain_alg.status().message());
      return;
    }
    if (std::find(record_.digest_algorithms.begin(), record_.digest_algorithms.end(), *chain_alg) ==
        record_.digest_algorithms.end())
      Add("chain " + std::to_string(c + 1), Verdict::kInvalid,
          "its algorithm " + AlgName(*chain_alg) + " is not listed in the record's digestAlgorithms");
    for (std::size_t a = 0; a < chain.size(); ++a) CheckArchiveTimeStamp(c, a, *chain_alg);
  }

  void CheckArchiveTimeStamp(std::size_t c, std::size_t a, HashAlgorithm chain_alg) {
    const ArchiveTimeStamp& ats = record_.sequence[c][a];
    const std::string name = AtsName(c, a);
    auto info = ParseToken(ats.time_stamp);
    if (!info.ok()) {
      Add(name, Verdict::kInvalid, "the time-stamp token cannot be read: " + info.status().message());
      return;
    }
    // The chain's algorithm must be what the ATS says and what the TSA hashed.
    if (ats.digest_algorithm && *ats.digest_algorithm != info->imprint_algorithm) {
      Add(name + ": algorithm", Verdict::kInvalid,
          "the ATS names " + AlgName(*ats.digest_algorithm) + " but its token's imprint uses " +
              AlgName(info->imprint_algorithm));
      return;
    }
    if (info->imprint_algorithm != chain_alg) {
      Add(name + ": algorithm", Verdict::kInvalid,
          "the token's imprint uses " + AlgName(info->imprint_algorithm) + " but the chain uses " +
              AlgName(chain_alg));
      return;
    }
    if (c == 0 && a == 0)
      CheckCoversData(name, ats, chain_alg, info->imprint);
    else if (a == 0)
      CheckCoversHashTreeRenewal(name, c, ats, chain_alg, info->imprint);
    else
      CheckCoversEarlierTokens(name, c, a, ats, chain_alg, info->imprint);
    CheckToken(name, ats, *info);
    dated_.push_back({name, chain_alg, info->gen_time, std::move(*info)});
  }

  void CheckCoversData(const std::string& name, const ArchiveTimeStamp& ats, HashAlgorithm alg,
                       const Bytes& imprint) {
    const std::string what = name + ": covers the data (" + AlgName(alg) + ")";
    const auto& hashes = DataHashes(alg);
    if (!hashes.ok()) {
      Add(what, Verdict::kIndeterminate, "the data could not be hashed: " + hashes.status().message());
      return;
    }
    auto failure = CoverageFailure(alg, ats, *hashes, imprint);
    if (failure)
      Add(what, Verdict::kInvalid, "the data does not match: " + *failure);
    else
      Add(what + ": " + std::to_string(hashes->size()) + " data object(s) lead to the token's imprint",
          Verdict::kValid);
  }

  // Rule 12: per data object H'(H'(d) || ha), ha over chains 1..c; the sorted
  // concatenation is accepted too (the RFC does not fix the order).
  void CheckCoversHashTreeRenewal(const std::string& name, std::size_t c, const ArchiveTimeStamp& ats,
                                  HashAlgorithm alg, const Bytes& imprint) {
    const std::string what = name + ": hash-tree renewal covers the data and chains 1-" + std::to_string(c) +
                             " (" + AlgName(alg) + ")";
    const auto& hashes = DataHashes(alg);
    if (!hashes.ok()) {
      Add(what, Verdict::kIndeterminate, "the data could not be hashed: " + hashes.status().message());
      return;
    }
    ArchiveTimeStampSequence earlier(record_.sequence.begin(),
                                     record_.sequence.begin() + static_cast<std::ptrdiff_t>(c));
    auto earlier_der = EncodeArchiveTimeStampSequence(earlier);
    if (!earlier_der.ok()) {
      Add(what, Verdict::kInvalid, "the earlier chains cannot be encoded: " + earlier_der.status().message());
      return;
    }
    const Bytes ha = Digest(alg, *earlier_der);
    std::vector<Bytes> data_first;
    std::vector<Bytes> sorted;
    for (const Bytes& h : *hashes) {
      data_first.push_back(Digest(alg, Concatenation(h, ha)));
      sorted.push_back(ha < h ? Digest(alg, Concatenation(ha, h)) : data_first.back());
    }
    auto failure = CoverageFailure(alg, ats, data_first, imprint);
    if (!failure) {
      Add(what + ": H(H(d) || ha) leads to the token's imprint", Verdict::kValid);
      return;
    }
    if (!CoverageFailure(alg, ats, sorted, imprint)) {
      Add(what + ": H(sorted H(d), ha) leads to the token's imprint", Verdict::kValid);
      return;
    }
    Add(what, Verdict::kInvalid, "the data and earlier chains do not match: " + *failure);
  }

  // Rule 11 (every earlier token of the chain, as BouncyCastle writes it), or
  // RFC 4998 section 5.3's reading (the previous token is in the first list).
  void CheckCoversEarlierTokens(const std::string& name, std::size_t c, std::size_t a, const ArchiveTimeStamp& ats,
                                HashAlgorithm alg, const Bytes& imprint) {
    const std::string what = name + ": timestamp renewal (" + AlgName(alg) + ")";
    const ArchiveTimeStampChain& chain = record_.sequence[c];
    std::vector<Bytes> earlier_tokens;
    for (std::size_t i = 0; i < a; ++i) earlier_tokens.push_back(Digest(alg, chain[i].time_stamp));
    auto failure = CoverageFailure(alg, ats, earlier_tokens, imprint);
    if (!failure) {
      Add(what + ": covers the tokens of ATS 1-" + std::to_string(a) + " of the chain", Verdict::kValid);
      return;
    }
    if (!CoverageFailure(alg, ats, {earlier_tokens.back()}, imprint)) {
      Add(what + ": covers the token of ATS " + std::to_string(a) + " (RFC 4998 reading)", Verdict::kValid);
      return;
    }
    Add(what, Verdict::kInvalid, "it does not cover the earlier tokens of its chain: " + *failure);
  }

  void CheckToken(const std::string& name, const ArchiveTimeStamp& ats, const TokenInfo& info) {
    std::string tsa = CertificateSubject(info.tsa_certificate);
    const std::string what = name + ": token of " + FormatUtcTime(info.gen_time) + " by " +
                             (tsa.empty() ? std::string("an unnamed TSA") : tsa);
    TokenVerifyOptions token_options = options_.tokens;
    token_options.validation_time = info.gen_time;
    auto verified = VerifyToken(ats.time_stamp, info.imprint_algorithm, info.imprint, token_options);
    if (verified.ok()) {
      Add(what + ": signature and TSA certificate path valid at that time", Verdict::kValid);
    } else if (verified.status().code() != StatusCode::kFailedPrecondition) {
      Add(what, Verdict::kInvalid, "the token does not verify: " + verified.status().message());
    } else if (options_.tokens.trust_anchors.empty()) {
      // Nothing is broken, but nothing is proven either: the verifier named no TSA it trusts.
      Add(what, Verdict::kIndeterminate, "the TSA is not trusted: " + verified.status().message());
    } else {
      // The verifier named the TSAs it trusts and this token's is not one of
      // them (or its certificate fails them): it was not made by a TSA the
      // verifier trusts, which is a failure, not an open question.
      Add(what, Verdict::kInvalid,
          "the TSA is not one the verifier trusts (no valid path to the given trust anchors): " +
              verified.status().message());
    }
  }

  void CheckTimesIncrease() {
    for (std::size_t k = 1; k < dated_.size(); ++k) {
      const DatedArchiveTimeStamp& previous = dated_[k - 1];
      const DatedArchiveTimeStamp& current = dated_[k];
      if (current.gen_time > previous.gen_time)
        Add(current.name + ": " + FormatUtcTime(current.gen_time) + " is after " + previous.name + " (" +
                FormatUtcTime(previous.gen_time) + ")",
            Verdict::kValid);
      else
        Add(current.name + ": time", Verdict::kInvalid,
            "its token's time " + FormatUtcTime(current.gen_time) + " is not after " + previous.name + "'s " +
                FormatUtcTime(previous.gen_time));
    }
  }

  // Each ATS's hash algorithm must still have been valid when the next ATS
  // covered it; the last one's must be valid now.
  void CheckAlgorithmsLasted() {
    if (!options_.clock) {
      Add("algorithm validity", Verdict::kIndeterminate, "no clock was given to check the algorithms against");
      return;
    }
    for (std::size_t k = 0; k < dated_.size(); ++k) {
      const DatedArchiveTimeStamp& ats = dated_[k];
      const bool last = k + 1 == dated_.size();
      const TimePoint covered_at = last ? options_.clock->Now() : dated_[k + 1].gen_time;
      const std::string by = last ? "now (" + FormatUtcTime(covered_at) + ")"
                                  : "when " + dated_[k + 1].name + " covered it (" + FormatUtcTime(covered_at) + ")";
      std::optional<TimePoint> end;
      if (options_.hash_algorithm_end) end = options_.hash_algorithm_end(ats.alg);
      if (!end)
        Add(ats.name + ": " + AlgName(ats.alg) + " has no known end and is valid " + by, Verdict::kValid);
      else if (*end > covered_at)
        Add(ats.name + ": " + AlgName(ats.alg) + " (valid until " + FormatUtcTime(*end) + ") was still valid " + by,
            Verdict::kValid);
      else
        Add(ats.name + ": algorithm", Verdict::kInvalid,
            AlgName(ats.alg) + " ended on " + FormatUtcTime(*end) + ", before it was covered " + by);
    }
  }

  // What the token of each ATS relies on must not have ended before the next
  // ATS covered it (or now, for the last): its TSA certificate, its signature
  // algorithm and key size, its signature digest. Once covered, a later
  // weakening no longer matters: the covering token proves it existed before.
  void CheckTokensLasted() {
    if (!options_.clock) return;  // CheckAlgorithmsLasted has said so
    for (std::size_t k = 0; k < dated_.size(); ++k) {
      const DatedArchiveTimeStamp& ats = dated_[k];
      const bool last = k + 1 == dated_.size();
      const Coverage coverage{last ? options_.clock->Now() : dated_[k + 1].gen_time,
                              last ? std::string() : dated_[k + 1].name};
      const TokenInfo& token = ats.token;
      if (token.tsa_certificate.empty()) {
        Add(ats.name, Verdict::kIndeterminate,
            "its token does not carry its TSA certificate, so neither the certificate's nor the signature "
            "algorithm's end can be checked");
      } else {
        auto not_after = CertificateNotAfter(token.tsa_certificate);
        if (!not_after.ok())
          Add(ats.name, Verdict::kInvalid, "its TSA certificate cannot be read: " + not_after.status().message());
        else
          CheckLasted(ats.name, "TSA certificate", *not_after, coverage);
        std::optional<TimePoint> end;
        if (options_.signature_algorithm_end)
          end = options_.signature_algorithm_end(token.signature_algorithm, token.signature_key_bits);
        CheckLasted(ats.name, token.signature_algorithm + "-" + std::to_string(token.signature_key_bits) + " signature",
                    end, coverage);
      }
      auto digest = HashAlgorithmFromName(token.signature_digest);
      if (!digest.ok()) {
        Add(ats.name, Verdict::kIndeterminate,
            "its token's signature digest " + token.signature_digest + " is not one whose end is known");
        continue;
      }
      std::optional<TimePoint> end;
      if (options_.hash_algorithm_end) end = options_.hash_algorithm_end(*digest);
      CheckLasted(ats.name, AlgName(*digest) + " signature digest", end, coverage);
    }
  }

  // When an ATS was covered: the genTime of the next ATS, named; or now, for the last.
  struct Coverage {
    TimePoint at;
    std::string by;  // empty for now
  };

  void CheckLasted(const std::string& name, const std::string& thing, std::optional<TimePoint> end,
                   const Coverage& coverage) {
    const std::string when = coverage.by.empty()
                                 ? "now (" + FormatUtcTime(coverage.at) + ")"
                                 : "when " + coverage.by + " covered it (" + FormatUtcTime(coverage.at) + ")";
    if (!end)
      Add(name + ": its " + thing + " has no known end and is valid " + when, Verdict::kValid);
    else if (*end > coverage.at)
      Add(name + ": its " + thing + " (valid until " + FormatUtcTime(*end) + ") was still valid " + when,
          Verdict::kValid);
    else if (coverage.by.empty())
      Add(name, Verdict::kInvalid,
          "its " + thing + " may not be relied on after " + FormatUtcTime(*end) +
              ", and no later archive time-stamp covers it: it is now " + FormatUtcTime(coverage.at));
    else
      Add(name, Verdict::kInvalid,
          "its " + thing + " may not be relied on after " + FormatUtcTime(*end) +
              ", but the next archive time-stamp (" + coverage.by + ") covered it only at " +
              FormatUtcTime(coverage.at));
  }

  const EvidenceRecord& record_;
  const DataObjectHashes& data_hashes_;
  const EvidenceVerifyOptions& options_;
  EvidenceReport report_;
  std::map<HashAlgorithm, Result<std::vector<Bytes>>> data_hash_cache_;
  std::vector<DatedArchiveTimeStamp> dated_;
};

}  // namespace

EvidenceReport VerifyEvidenceRecord(const EvidenceRecord& record, const DataObjectHashes& data_hashes,
                                    const EvidenceVerifyOptions& options) {
  return Verifier(record, data_hashes, options).Run();
}

}  // namespace preserve::timestamp
