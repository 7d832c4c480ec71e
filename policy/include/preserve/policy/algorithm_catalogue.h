// The dated algorithm catalogue: which hash and signature algorithms may still
// be used for NEW evidence (new time-stamps, new hash trees), and from which day
// they may not.
//
// The catalogue answers one question only: "may I make new evidence with this
// at time T?". It never decides whether OLD evidence is valid: an algorithm that
// has ended stays usable for verification forever, because RFC 4998 renewal is
// what keeps evidence made with it provable (the newer time-stamp covers the
// older one while that was still strong). Verification code must not consult
// this class to reject anything.
//
// Built-in profiles (the dates and where each comes from are in
// algorithm_catalogue.cc, and in every rule's `source`):
//   "etsi"  ETSI TS 119 312 V1.5.1 as DSS encodes it (dss-crypto-suite.json);
//           the default.
//   "sogis" etsi, with SOG-IS Agreed Cryptographic Mechanisms v1.3 where that is
//           stricter (RSA 1900-2999 bits legacy until 2025-12-31).
//   "bsi"   etsi, with BSI TR-02102-1 where that is stricter (RSA below 3000
//           bits not from 2024 on).
//
// Model. A hash rule gives one algorithm's end. Signature rules are per
// SignatureKeyType and key size: the rule with the largest min_bits that is
// <= the key's size applies. A key smaller than every rule of its type, or a
// type or hash with no rule at all, is treated as not approved: its end is the
// epoch (1970-01-01), long past. An end of nullopt means no end is known. An
// algorithm is usable for new evidence at `at` iff it has no end or at < end.
//
// Policy file (JSON, UTF-8). Every top-level member is optional; in an entry
// only "source" is (it defaults to the file's path):
//   {
//     "name": "my archive policy",              // shown by `preserve policy show`
//     "comment": "free text, ignored",          // JSON has no comments
//     "base": "etsi",                           // start from a built-in profile;
//                                               // without it the file is the
//                                               // whole catalogue
//     "hash_preference": ["SHA-256", "SHA-384"], // order PreferredHash tries
//     "hash": [
//       {"algorithm": "SHA-256", "end": "2040-01-01", "source": "our risk review"}
//     ],
//     "signature": [
//       {"key": "RSA", "min_bits": 1900, "end": "2030-01-01"},
//       {"key": "RSA", "min_bits": 3000, "end": null}
//     ]
//   }
// "end" is required in every entry (null for open-ended) so that a forgotten
// date is an error rather than an unlimited approval. Dates are UTC,
// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ". An entry replaces the base's rule for
// the same algorithm, or the same (key, min_bits); other base rules stay.
// Key names: "RSA" (RSASSA-PKCS1-v1_5), "RSA-PSS", "ECDSA" (or "EC"),
// "Ed25519". Unknown members, unknown names, bad dates, duplicate entries and
// malformed JSON are errors that name the file and the entry.
//
// Thread-safety: immutable after construction; const methods may be called
// concurrently.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/clock.h"
#include "preserve/util/digest.h"
#include "preserve/util/status.h"

namespace preserve::policy {

// How a TSA (or any signer) signs. RSA is split by padding because ETSI TS 119 312
// dates the two differently: PKCS#1 v1.5 is legacy at every key size (ends
// 2029-01-01), RSASSA-PSS with 3000+ bits has no end.
enum class SignatureKeyType {
  kRsa,      // RSASSA-PKCS1-v1_5; what "RSA" in TokenInfo::signature_algorithm means
  kRsaPss,   // RSASSA-PSS
  kEcdsa,    // key size = curve order bits (P-256: 256)
  kEd25519,  // not dated by ETSI TS 119 312, SOG-IS or BSI: no built-in rule
};

std::string_view SignatureKeyTypeName(SignatureKeyType type);  // "RSA", "RSA-PSS", "ECDSA", "Ed25519"
// Case-insensitive: "RSA", "RSA-PSS", "RSASSA-PSS", "ECDSA", "EC", "Ed25519".
Result<SignatureKeyType> SignatureKeyTypeFromName(std::string_view name);

struct HashRule {
  HashAlgorithm algorithm;
  std::optional<TimePoint> end;  // first moment it may not be used; nullopt: no end known
  std::string source;            // where the date comes from
  bool operator==(const HashRule&) const = default;
};

struct SignatureRule {
  SignatureKeyType key;
  int min_bits;                  // applies to keys of at least this size, up to the next rule's
  std::optional<TimePoint> end;  // as in HashRule
  std::string source;
  bool operator==(const SignatureRule&) const = default;
};

class AlgorithmCatalogue {
 public:
  // "etsi" (the default), "sogis" or "bsi"; anything else is InvalidArgument.
  static Result<AlgorithmCatalogue> Builtin(std::string_view profile);
  static AlgorithmCatalogue Default();  // "etsi"
  static const std::vector<std::string_view>& BuiltinProfiles();

  // Reads a policy file (format above). NotFound if it does not exist,
  // InvalidArgument if it is malformed; the message names the file and entry.
  static Result<AlgorithmCatalogue> Load(const std::filesystem::path& json_file);
  // Parses policy text; `origin` (a path, "stdin") names it in errors and is
  // the name when the text has none.
  static Result<AlgorithmCatalogue> Parse(std::string_view json_text, const std::string& origin);

  // The first moment the algorithm may no longer be used for new evidence;
  // nullopt: no end known; the epoch: not approved at all.
  std::optional<TimePoint> HashEnd(HashAlgorithm algorithm) const;
  std::optional<TimePoint> SignatureEnd(SignatureKeyType key, int key_bits) const;

  bool HashUsableForNewEvidence(HashAlgorithm algorithm, TimePoint at) const;
  bool SignatureUsableForNewEvidence(SignatureKeyType key, int key_bits, TimePoint at) const;

  // The first hash of hash_preference() usable at `at` (for new hash trees and
  // renewals). FailedPrecondition if none is.
  Result<HashAlgorithm> PreferredHash(TimePoint at) const;

  // "ETSI TS 119 312 V1.5.1 (DSS)", a file's "name", or else the file's path.
  const std::string& name() const { return name_; }
  const std::vector<HashRule>& hash_rules() const { return hash_rules_; }
  const std::vector<SignatureRule>& signature_rules() const { return signature_rules_; }  // by key, then min_bits
  const std::vector<HashAlgorithm>& hash_preference() const { return hash_preference_; }

  // A table for `preserve policy show`: every rule, its end, and whether it is
  // in force or retired as of `now`.
  std::string ToText(TimePoint now) const;
  // The whole catalogue as a policy file (no "base"); Load() reads it back to
  // an equal catalogue.
  std::string ToJson() const;

 private:
  AlgorithmCatalogue() = default;
  void SetHashRule(HashRule rule);            // replaces the rule for the same algorithm
  void SetSignatureRule(SignatureRule rule);  // replaces the rule for the same (key, min_bits)

  std::string name_;
  std::vector<HashRule> hash_rules_;
  std::vector<SignatureRule> signature_rules_;
  std::vector<HashAlgorithm> hash_preference_;
};

}  // namespace preserve::policy
