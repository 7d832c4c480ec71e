// RFC 4998 EvidenceRecord encoding and decoding through OpenSSL ASN.1
// templates, and the two kinds of renewal (ERS-RULES.md rules 6-8, 11-12).
#include <openssl/asn1t.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "evidence_internal.h"
#include "preserve/timestamp/evidence_record.h"
#include "preserve/util/der.h"
#include "preserve/util/digest.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp {

namespace {

// --- ASN.1 module (RFC 4998 section 4, IMPLICIT TAGS) ---

// OpenSSL's typed stacks; the ASN.1 templates treat every SEQUENCE OF as one.
// OpenSSL itself defines none for OCTET STRING.
DEFINE_STACK_OF(ASN1_OCTET_STRING)
// PartialHashtree ::= SEQUENCE OF OCTET STRING
using Asn1PartialHashtree = STACK_OF(ASN1_OCTET_STRING);
DEFINE_STACK_OF(Asn1PartialHashtree)

// ArchiveTimeStamp ::= SEQUENCE {
//   digestAlgorithm [0] AlgorithmIdentifier OPTIONAL,
//   attributes      [1] Attributes OPTIONAL,             -- never written
//   reducedHashtree [2] SEQUENCE OF PartialHashtree OPTIONAL,
//   timeStamp       ContentInfo }
// timeStamp is held as ANY: OpenSSL keeps a SEQUENCE under ANY as its exact
// encoding, so a token is never re-encoded and its signature never disturbed.
struct Asn1ArchiveTimeStamp {
  X509_ALGOR* digest_algorithm;
  STACK_OF(X509_ATTRIBUTE) * attributes;
  STACK_OF(Asn1PartialHashtree) * reduced_hashtree;
  ASN1_TYPE* time_stamp;
};
DEFINE_STACK_OF(Asn1ArchiveTimeStamp)
using Asn1ArchiveTimeStampChain = STACK_OF(Asn1ArchiveTimeStamp);
DEFINE_STACK_OF(Asn1ArchiveTimeStampChain)
using Asn1ArchiveTimeStampSequence = STACK_OF(Asn1ArchiveTimeStampChain);

// EncryptionInfo ::= SEQUENCE { encryptionInfoType OBJECT IDENTIFIER,
//                               encryptionInfoValue ANY DEFINED BY encryptionInfoType }
struct Asn1EncryptionInfo {
  ASN1_OBJECT* type;
  ASN1_TYPE* value;
};

// EvidenceRecord ::= SEQUENCE {
//   version                  INTEGER { v1(1) },
//   digestAlgorithms         SEQUENCE OF AlgorithmIdentifier,
//   cryptoInfos              [0] CryptoInfos OPTIONAL,      -- never written
//   encryptionInfo           [1] EncryptionInfo OPTIONAL,   -- never written
//   archiveTimeStampSequence ArchiveTimeStampSequence }
struct Asn1EvidenceRecord {
  std::int32_t version;
  STACK_OF(X509_ALGOR) * digest_algorithms;
  STACK_OF(X509_ATTRIBUTE) * crypto_infos;
  Asn1EncryptionInfo* encryption_info;
  Asn1ArchiveTimeStampSequence* sequence;
};

ASN1_ITEM_TEMPLATE(Asn1PartialHashtree) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, PartialHashtree, ASN1_OCTET_STRING)
ASN1_ITEM_TEMPLATE_END(Asn1PartialHashtree)

ASN1_SEQUENCE(Asn1ArchiveTimeStamp) = {
    ASN1_IMP_OPT(Asn1ArchiveTimeStamp, digest_algorithm, X509_ALGOR, 0),
    ASN1_IMP_SET_OF_OPT(Asn1ArchiveTimeStamp, attributes, X509_ATTRIBUTE, 1),
    ASN1_IMP_SEQUENCE_OF_OPT(Asn1ArchiveTimeStamp, reduced_hashtree, Asn1PartialHashtree, 2),
    ASN1_SIMPLE(Asn1ArchiveTimeStamp, time_stamp, ASN1_ANY),
} ASN1_SEQUENCE_END(Asn1ArchiveTimeStamp)

ASN1_ITEM_TEMPLATE(Asn1ArchiveTimeStampChain) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, ArchiveTimeStampChain, Asn1ArchiveTimeStamp)
ASN1_ITEM_TEMPLATE_END(Asn1ArchiveTimeStampChain)

ASN1_ITEM_TEMPLATE(Asn1ArchiveTimeStampSequence) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, ArchiveTimeStampSequence, Asn1ArchiveTimeStampChain)
ASN1_ITEM_TEMPLATE_END(Asn1ArchiveTimeStampSequence)

ASN1_SEQUENCE(Asn1EncryptionInfo) = {
    ASN1_SIMPLE(Asn1EncryptionInfo, type, ASN1_OBJECT),
    ASN1_SIMPLE(Asn1EncryptionInfo, value, ASN1_ANY),
} ASN1_SEQUENCE_END(Asn1EncryptionInfo)

ASN1_SEQUENCE(Asn1EvidenceRecord) = {
    ASN1_EMBED(Asn1EvidenceRecord, version, INT32),
    ASN1_SEQUENCE_OF(Asn1EvidenceRecord, digest_algorithms, X509_ALGOR),
    ASN1_IMP_SEQUENCE_OF_OPT(Asn1EvidenceRecord, crypto_infos, X509_ATTRIBUTE, 0),
    ASN1_IMP_OPT(Asn1EvidenceRecord, encryption_info, Asn1EncryptionInfo, 1),
    ASN1_SIMPLE(Asn1EvidenceRecord, sequence, Asn1ArchiveTimeStampSequence),
} ASN1_SEQUENCE_END(Asn1EvidenceRecord)

template <const ASN1_ITEM* (*Item)()>
struct Asn1ItemFree {
  void operator()(void* p) const { ASN1_item_free(static_cast<ASN1_VALUE*>(p), Item()); }
};
using Asn1ArchiveTimeStampPtr = std::unique_ptr<Asn1ArchiveTimeStamp, Asn1ItemFree<Asn1ArchiveTimeStamp_it>>;
using Asn1ArchiveTimeStampChainPtr =
    std::unique_ptr<Asn1ArchiveTimeStampChain, Asn1ItemFree<Asn1ArchiveTimeStampChain_it>>;
using Asn1ArchiveTimeStampSequencePtr =
    std::unique_ptr<Asn1ArchiveTimeStampSequence, Asn1ItemFree<Asn1ArchiveTimeStampSequence_it>>;
using Asn1PartialHashtreePtr = std::unique_ptr<Asn1PartialHashtree, Asn1ItemFree<Asn1PartialHashtree_it>>;
using Asn1EvidenceRecordPtr = std::unique_ptr<Asn1EvidenceRecord, Asn1ItemFree<Asn1EvidenceRecord_it>>;
using Asn1TypePtr = std::unique_ptr<ASN1_TYPE, OpenSslFree<ASN1_TYPE_free>>;

template <typename T, const ASN1_ITEM* (*Item)()>
std::unique_ptr<T, Asn1ItemFree<Item>> NewItem() {
  return std::unique_ptr<T, Asn1ItemFree<Item>>(static_cast<T*>(static_cast<void*>(ASN1_item_new(Item()))));
}

Result<Bytes> ItemToDer(const void* value, const ASN1_ITEM* item) {
  unsigned char* der = nullptr;
  int length = ASN1_item_i2d(static_cast<const ASN1_VALUE*>(value), &der, item);
  if (length <= 0) return Status::Internal(OpenSslFailure("encoding an evidence record"));
  Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

Status OutOfMemory() { return Status::Internal(OpenSslFailure("allocating an ASN.1 structure")); }

// --- C++ structures -> ASN.1 ---

// Parameters absent, as BouncyCastle writes them (rule 8).
Result<X509AlgorPtr> ToAlgorithmIdentifier(HashAlgorithm alg) {
  X509AlgorPtr out(X509_ALGOR_new());
  Asn1ObjectPtr oid(OBJ_txt2obj(std::string(HashAlgorithmOid(alg)).c_str(), 1));
  if (!out || !oid) return OutOfMemory();
  if (X509_ALGOR_set0(out.get(), oid.get(), V_ASN1_UNDEF, nullptr) != 1) return OutOfMemory();
  oid.release();  // now owned by `out`
  return out;
}

// The token must be one complete DER SEQUENCE (a ContentInfo); anything else
// would silently become a record no one can read.
Result<Asn1TypePtr> ToContentInfo(const Bytes& token) {
  const unsigned char* p = token.data();
  Asn1TypePtr any(d2i_ASN1_TYPE(nullptr, &p, static_cast<long>(token.size())));
  if (!any || p != token.data() + token.size() || any->type != V_ASN1_SEQUENCE) {
    ERR_clear_error();
    return Status::InvalidArgument("the time-stamp token is not one DER ContentInfo");
  }
  return any;
}

Result<Asn1ArchiveTimeStampPtr> ToAsn1(const ArchiveTimeStamp& ats) {
  auto out = NewItem<Asn1ArchiveTimeStamp, Asn1ArchiveTimeStamp_it>();
  if (!out) return OutOfMemory();
  if (ats.digest_algorithm) {
    PRESERVE_ASSIGN_OR_RETURN(X509AlgorPtr alg, ToAlgorithmIdentifier(*ats.digest_algorithm));
    out->digest_algorithm = alg.release();
  }
  if (ats.reduced_hashtree) {
    out->reduced_hashtree = sk_Asn1PartialHashtree_new_null();
    if (!out->reduced_hashtree) return OutOfMemory();
    for (const PartialHashtree& list : *ats.reduced_hashtree) {
      auto asn1_list = NewItem<Asn1PartialHashtree, Asn1PartialHashtree_it>();
      if (!asn1_list) return OutOfMemory();
      for (const Bytes& value : list) {
        Asn1OctetStringPtr octets(ASN1_OCTET_STRING_new());
        if (!octets || ASN1_OCTET_STRING_set(octets.get(), value.data(), static_cast<int>(value.size())) != 1)
          return OutOfMemory();
        if (sk_ASN1_OCTET_STRING_push(asn1_list.get(), octets.get()) <= 0) return OutOfMemory();
        octets.release();
      }
      if (sk_Asn1PartialHashtree_push(out->reduced_hashtree, asn1_list.get()) <= 0) return OutOfMemory();
      asn1_list.release();
    }
  }
  PRESERVE_ASSIGN_OR_RETURN(Asn1TypePtr content_info, ToContentInfo(ats.time_stamp));
  ASN1_TYPE_free(out->time_stamp);
  out->time_stamp = content_info.release();
  return out;
}

Result<Asn1ArchiveTimeStampSequencePtr> ToAsn1(const ArchiveTimeStampSequence& sequence) {
  auto out = NewItem<Asn1ArchiveTimeStampSequence, Asn1ArchiveTimeStampSequence_it>();
  if (!out) return OutOfMemory();
  for (std::size_t c = 0; c < sequence.size(); ++c) {
    auto chain = NewItem<Asn1ArchiveTimeStampChain, Asn1ArchiveTimeStampChain_it>();
    if (!chain) return OutOfMemory();
    for (std::size_t a = 0; a < sequence[c].size(); ++a) {
      auto ats = ToAsn1(sequence[c][a]);
      if (!ats.ok())
        return ats.status().WithContext("chain " + std::to_string(c + 1) + ", ATS " + std::to_string(a + 1));
      if (sk_Asn1ArchiveTimeStamp_push(chain.get(), ats->get()) <= 0) return OutOfMemory();
      ats->release();
    }
    if (sk_Asn1ArchiveTimeStampChain_push(out.get(), chain.get()) <= 0) return OutOfMemory();
    chain.release();
  }
  return out;
}

// --- ASN.1 -> C++ structures ---

Bytes OctetStringBytes(const ASN1_OCTET_STRING* s) {
  const unsigned char* data = ASN1_STRING_get0_data(s);
  return Bytes(data, data + ASN1_STRING_length(s));
}

// NULL and absent parameters name the same algorithm (RFC 5754); any other
// parameter does not belong to a hash algorithm.
Result<HashAlgorithm> FromAlgorithmIdentifier(const X509_ALGOR* alg) {
  const ASN1_OBJECT* oid = nullptr;
  int parameter_type = V_ASN1_UNDEF;
  const void* parameter = nullptr;
  X509_ALGOR_get0(&oid, &parameter_type, &parameter, alg);
  char dotted[128];
  if (OBJ_obj2txt(dotted, sizeof(dotted), oid, 1) <= 0) {
    ERR_clear_error();
    return Status::Corruption("unreadable AlgorithmIdentifier OID");
  }
  if (parameter_type != V_ASN1_UNDEF && parameter_type != V_ASN1_NULL)
    return Status::Corruption(std::string("hash AlgorithmIdentifier ") + dotted + " has unexpected parameters");
  auto known = HashAlgorithmFromOid(dotted);
  if (!known.ok()) return Status::Corruption(known.status().message());
  return *known;
}

Result<ArchiveTimeStamp> FromAsn1(const Asn1ArchiveTimeStamp& asn1) {
  ArchiveTimeStamp ats;
  if (asn1.digest_algorithm) {
    PRESERVE_ASSIGN_OR_RETURN(ats.digest_algorithm, FromAlgorithmIdentifier(asn1.digest_algorithm));
  }
  if (asn1.reduced_hashtree) {
    ReducedHashtree& tree = ats.reduced_hashtree.emplace();
    for (int i = 0; i < sk_Asn1PartialHashtree_num(asn1.reduced_hashtree); ++i) {
      const Asn1PartialHashtree* asn1_list = sk_Asn1PartialHashtree_value(asn1.reduced_hashtree, i);
      PartialHashtree& list = tree.emplace_back();
      for (int j = 0; j < sk_ASN1_OCTET_STRING_num(asn1_list); ++j)
        list.push_back(OctetStringBytes(sk_ASN1_OCTET_STRING_value(asn1_list, j)));
      if (list.empty())
        return Status::Corruption("reduced hash tree list " + std::to_string(i + 1) + " is empty");
    }
    if (tree.empty()) return Status::Corruption("the reduced hash tree is present but empty");
  }
  if (asn1.time_stamp->type != V_ASN1_SEQUENCE)
    return Status::Corruption("timeStamp is not a ContentInfo SEQUENCE");
  // The SEQUENCE's complete encoding, header included, exactly as read.
  const ASN1_STRING* encoding = asn1.time_stamp->value.sequence;
  ats.time_stamp = OctetStringBytes(encoding);
  return ats;
}

}  // namespace

namespace {

// --- The ArchiveTimeStampSequence written directly ---
// A hash-tree renewal hashes every subject's sequence (rule 12), a million in
// a batch; through the templates each costs an ASN.1 structure of some fifty
// allocations and a parse of every token. The same DER, written here
// (AppendArchiveTimeStampSequence) from views of the values and tokens
// wherever they lie: every element's size worked out first, then each header
// and content in order, each token copied once. Tests check it byte for byte
// against the templates (EncodeEvidenceRecord).

constexpr std::uint8_t kContext2 = 0xa2;  // [2], constructed

// The content of an AlgorithmIdentifier without parameters (rule 8): its
// OID's DER. Kept per thread: it is asked for once per ATS.
Result<ByteView> AlgorithmIdentifierContent(HashAlgorithm alg) {
  thread_local std::map<HashAlgorithm, Bytes> encoded;
  if (auto found = encoded.find(alg); found != encoded.end()) return ByteView(found->second);
  Asn1ObjectPtr oid(OBJ_txt2obj(std::string(HashAlgorithmOid(alg)).c_str(), 1));
  if (!oid) return OutOfMemory();
  unsigned char* der = nullptr;
  const int length = i2d_ASN1_OBJECT(oid.get(), &der);
  if (length <= 0) return OutOfMemory();
  Bytes out(der, der + length);
  OPENSSL_free(der);
  return ByteView(encoded.emplace(alg, std::move(out)).first->second);
}

// Whether `token` is one strict-DER SEQUENCE and nothing after it, as ToContentInfo demands.
bool IsOneSequence(ByteView token) {
  der::Reader reader(token);
  return reader.Read(der::kSequence) && reader.empty();
}

// The content size of a PartialHashtree (its values as OCTET STRINGs).
std::size_t ListContentSize(std::span<const ByteView> list) {
  std::size_t size = 0;
  for (ByteView value : list) size += der::TlvSize(value.size());
  return size;
}

// The content size of a reduced hash tree (a SEQUENCE OF PartialHashtree).
std::size_t ReducedTreeContentSize(std::span<const std::span<const ByteView>> tree) {
  std::size_t size = 0;
  for (std::span<const ByteView> list : tree) size += der::TlvSize(ListContentSize(list));
  return size;
}

}  // namespace

Status AppendArchiveTimeStampSequence(std::span<const ArchiveTimeStampView> timestamps,
                                      std::span<const std::size_t> chain_sizes, Bytes& out) {
  // Sizes first: each ATS's content and each chain's, in order.
  thread_local std::vector<std::size_t> ats_sizes;
  thread_local std::vector<std::size_t> chain_content_sizes;
  ats_sizes.clear();
  chain_content_sizes.clear();
  std::size_t chains_size = 0;
  std::size_t next = 0;
  for (std::size_t c = 0; c < chain_sizes.size(); ++c) {
    if (chain_sizes[c] > timestamps.size() - next)
      return Status::InvalidArgument("fewer archive time-stamps than the chains hold");
    std::size_t chain_size = 0;
    for (std::size_t a = 0; a < chain_sizes[c]; ++a) {
      const ArchiveTimeStampView& ats = timestamps[next++];
      if (!IsOneSequence(ats.time_stamp))
        return Status::InvalidArgument("the time-stamp token is not one DER ContentInfo")
            .WithContext("chain " + std::to_string(c + 1) + ", ATS " + std::to_string(a + 1));
      std::size_t fields = ats.time_stamp.size();
      if (ats.digest_algorithm) {
        PRESERVE_ASSIGN_OR_RETURN(ByteView oid, AlgorithmIdentifierContent(*ats.digest_algorithm));
        fields += der::TlvSize(oid.size());
      }
      if (ats.reduced_hashtree) fields += der::TlvSize(ReducedTreeContentSize(*ats.reduced_hashtree));
      ats_sizes.push_back(fields);
      chain_size += der::TlvSize(fields);
    }
    chain_content_sizes.push_back(chain_size);
    chains_size += der::TlvSize(chain_size);
  }
  if (next != timestamps.size()) return Status::InvalidArgument("more archive time-stamps than the chains hold");
  // Then every element in order, each header in front of its content.
  der::AppendHeader(out, der::kSequence, chains_size);  // ArchiveTimeStampSequence
  next = 0;
  for (std::size_t c = 0; c < chain_sizes.size(); ++c) {
    der::AppendHeader(out, der::kSequence, chain_content_sizes[c]);  // ArchiveTimeStampChain
    for (std::size_t a = 0; a < chain_sizes[c]; ++a, ++next) {
      const ArchiveTimeStampView& ats = timestamps[next];
      der::AppendHeader(out, der::kSequence, ats_sizes[next]);  // ArchiveTimeStamp
      if (ats.digest_algorithm) {
        PRESERVE_ASSIGN_OR_RETURN(ByteView oid, AlgorithmIdentifierContent(*ats.digest_algorithm));
        der::AppendTlv(out, der::kContext0, oid);  // [0] IMPLICIT AlgorithmIdentifier
      }
      if (ats.reduced_hashtree) {
        der::AppendHeader(out, kContext2, ReducedTreeContentSize(*ats.reduced_hashtree));  // [2] IMPLICIT SEQUENCE OF
        for (std::span<const ByteView> list : *ats.reduced_hashtree) {
          der::AppendHeader(out, der::kSequence, ListContentSize(list));  // PartialHashtree
          for (ByteView value : list) der::AppendTlv(out, der::kOctetString, value);
        }
      }
      out.insert(out.end(), ats.time_stamp.begin(), ats.time_stamp.end());
    }
  }
  return Status::Ok();
}

Result<Bytes> EncodeArchiveTimeStampSequence(const ArchiveTimeStampSequence& sequence) {
  // Views of the sequence's values, lists and ATSs, each vector sized before
  // any view into it is taken.
  std::size_t value_count = 0, list_count = 0, ats_count = 0;
  for (const auto& chain : sequence)
    for (const ArchiveTimeStamp& ats : chain) {
      ++ats_count;
      if (!ats.reduced_hashtree) continue;
      list_count += ats.reduced_hashtree->size();
      for (const PartialHashtree& list : *ats.reduced_hashtree) value_count += list.size();
    }
  std::vector<ByteView> values;
  std::vector<std::span<const ByteView>> lists;
  std::vector<ArchiveTimeStampView> timestamps;
  std::vector<std::size_t> chain_sizes;
  values.reserve(value_count);
  lists.reserve(list_count);
  timestamps.reserve(ats_count);
  for (const auto& chain : sequence) {
    for (const ArchiveTimeStamp& ats : chain) {
      ArchiveTimeStampView& view = timestamps.emplace_back();
      view.digest_algorithm = ats.digest_algorithm;
      view.time_stamp = ats.time_stamp;
      if (!ats.reduced_hashtree) continue;
      const std::size_t first_list = lists.size();
      for (const PartialHashtree& list : *ats.reduced_hashtree) {
        const std::size_t first_value = values.size();
        for (const Bytes& value : list) values.emplace_back(value);
        lists.emplace_back(values.data() + first_value, list.size());
      }
      view.reduced_hashtree = std::span<const std::span<const ByteView>>(lists.data() + first_list,
                                                                         ats.reduced_hashtree->size());
    }
    chain_sizes.push_back(chain.size());
  }
  Bytes out;
  PRESERVE_RETURN_IF_ERROR(AppendArchiveTimeStampSequence(timestamps, chain_sizes, out));
  return out;
}

Result<HashAlgorithm> ArchiveTimeStampAlgorithm(const ArchiveTimeStamp& ats) {
  if (ats.digest_algorithm) return *ats.digest_algorithm;
  PRESERVE_ASSIGN_OR_RETURN(TokenInfo info, ParseToken(ats.time_stamp));
  return info.imprint_algorithm;
}

Result<Bytes> EncodeEvidenceRecord(const EvidenceRecord& record) {
  if (record.digest_algorithms.empty()) return Status::InvalidArgument("evidence record: no digest algorithm");
  if (record.sequence.empty()) return Status::InvalidArgument("evidence record: no archive timestamp chain");
  auto asn1 = NewItem<Asn1EvidenceRecord, Asn1EvidenceRecord_it>();
  if (!asn1) return OutOfMemory();
  asn1->version = 1;
  for (HashAlgorithm alg : record.digest_algorithms) {
    PRESERVE_ASSIGN_OR_RETURN(X509AlgorPtr identifier, ToAlgorithmIdentifier(alg));
    if (sk_X509_ALGOR_push(asn1->digest_algorithms, identifier.get()) <= 0) return OutOfMemory();
    identifier.release();
  }
  PRESERVE_ASSIGN_OR_RETURN(Asn1ArchiveTimeStampSequencePtr sequence, ToAsn1(record.sequence));
  ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(asn1->sequence), ASN1_ITEM_rptr(Asn1ArchiveTimeStampSequence));
  asn1->sequence = sequence.release();
  return ItemToDer(asn1.get(), ASN1_ITEM_rptr(Asn1EvidenceRecord));
}

Result<EvidenceRecord> DecodeEvidenceRecord(ByteView der) {
  const unsigned char* p = der.data();
  Asn1EvidenceRecordPtr asn1(static_cast<Asn1EvidenceRecord*>(static_cast<void*>(
      ASN1_item_d2i(nullptr, &p, static_cast<long>(der.size()), ASN1_ITEM_rptr(Asn1EvidenceRecord)))));
  if (!asn1) return Status::Corruption(OpenSslFailure("not a DER EvidenceRecord"));
  if (p != der.data() + der.size())
    return Status::Corruption("EvidenceRecord followed by " + std::to_string(der.data() + der.size() - p) +
                              " unexpected bytes");
  if (asn1->version != 1)
    return Status::Corruption("unsupported EvidenceRecord version " + std::to_string(asn1->version));

  EvidenceRecord record;
  for (int i = 0; i < sk_X509_ALGOR_num(asn1->digest_algorithms); ++i) {
    auto alg = FromAlgorithmIdentifier(sk_X509_ALGOR_value(asn1->digest_algorithms, i));
    if (!alg.ok()) return alg.status().WithContext("digestAlgorithms");
    record.digest_algorithms.push_back(*alg);
  }
  if (record.digest_algorithms.empty()) return Status::Corruption("EvidenceRecord lists no digest algorithm");

  for (int c = 0; c < sk_Asn1ArchiveTimeStampChain_num(asn1->sequence); ++c) {
    const Asn1ArchiveTimeStampChain* asn1_chain = sk_Asn1ArchiveTimeStampChain_value(asn1->sequence, c);
    ArchiveTimeStampChain& chain = record.sequence.emplace_back();
    for (int a = 0; a < sk_Asn1ArchiveTimeStamp_num(asn1_chain); ++a) {
      auto ats = FromAsn1(*sk_Asn1ArchiveTimeStamp_value(asn1_chain, a));
      if (!ats.ok())
        return ats.status().WithContext("chain " + std::to_string(c + 1) + ", ATS " + std::to_string(a + 1));
      chain.push_back(std::move(*ats));
    }
    if (chain.empty()) return Status::Corruption("chain " + std::to_string(c + 1) + " holds no archive timestamp");
  }
  if (record.sequence.empty()) return Status::Corruption("EvidenceRecord holds no archive timestamp chain");
  return record;
}

EvidenceRecord NewEvidenceRecord(HashAlgorithm alg, std::optional<ReducedHashtree> reduced, Bytes token) {
  EvidenceRecord record;
  record.digest_algorithms.push_back(alg);
  ArchiveTimeStamp ats;
  if (reduced) ats.digest_algorithm = alg;  // rule 6: exactly when the tree is present
  ats.reduced_hashtree = std::move(reduced);
  ats.time_stamp = std::move(token);
  record.sequence.push_back({std::move(ats)});
  return record;
}

Result<std::vector<Bytes>> TimeStampRenewalGroup(const EvidenceRecord& record) {
  if (record.sequence.empty() || record.sequence.back().empty())
    return Status::InvalidArgument("timestamp renewal: the record has no archive timestamp");
  const ArchiveTimeStampChain& chain = record.sequence.back();
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, ArchiveTimeStampAlgorithm(chain.front()));
  std::vector<Bytes> members;
  members.reserve(chain.size());
  for (const ArchiveTimeStamp& ats : chain) members.push_back(Digest(alg, ats.time_stamp));
  return members;
}

Status AppendTimeStampRenewal(EvidenceRecord& record, std::optional<ReducedHashtree> reduced, Bytes token) {
  if (record.sequence.empty() || record.sequence.back().empty())
    return Status::InvalidArgument("timestamp renewal: the record has no archive timestamp");
  ArchiveTimeStampChain& chain = record.sequence.back();
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, ArchiveTimeStampAlgorithm(chain.front()));
  ArchiveTimeStamp ats;
  if (reduced) ats.digest_algorithm = alg;
  ats.reduced_hashtree = std::move(reduced);
  ats.time_stamp = std::move(token);
  chain.push_back(std::move(ats));
  return Status::Ok();
}

Result<Bytes> HashTreeRenewalSequenceHash(const EvidenceRecord& record, HashAlgorithm new_alg) {
  PRESERVE_ASSIGN_OR_RETURN(const Bytes sequence, EncodeArchiveTimeStampSequence(record.sequence));
  return Digest(new_alg, sequence);
}

Result<std::vector<Bytes>> HashTreeRenewalGroup(ByteView sequence_hash, HashAlgorithm new_alg,
                                                const std::vector<Bytes>& data_hashes) {
  if (data_hashes.empty()) return Status::InvalidArgument("hash-tree renewal: no data-object hash given");
  for (const Bytes& h : data_hashes)
    if (h.size() != HashAlgorithmSize(new_alg))
      return Status::InvalidArgument("hash-tree renewal: a data-object hash is not a " +
                                     std::string(HashAlgorithmName(new_alg)) + " value");
  std::vector<Bytes> members;
  members.reserve(data_hashes.size());
  for (const Bytes& h : data_hashes) {
    Bytes data_then_sequence = h;  // data hash first, not sorted (rule 12)
    data_then_sequence.insert(data_then_sequence.end(), sequence_hash.begin(), sequence_hash.end());
    members.push_back(Digest(new_alg, data_then_sequence));
  }
  return members;
}

Result<std::vector<Bytes>> HashTreeRenewalGroup(const EvidenceRecord& record, HashAlgorithm new_alg,
                                                const std::vector<Bytes>& data_hashes) {
  PRESERVE_ASSIGN_OR_RETURN(Bytes ha, HashTreeRenewalSequenceHash(record, new_alg));
  return HashTreeRenewalGroup(ha, new_alg, data_hashes);
}

Status AppendHashTreeRenewal(EvidenceRecord& record, HashAlgorithm new_alg, std::optional<ReducedHashtree> reduced,
                             Bytes token) {
  if (record.sequence.empty()) return Status::InvalidArgument("hash-tree renewal: the record has no chain");
  ArchiveTimeStamp ats;
  if (reduced) ats.digest_algorithm = new_alg;
  ats.reduced_hashtree = std::move(reduced);
  ats.time_stamp = std::move(token);
  record.sequence.push_back({std::move(ats)});
  if (std::find(record.digest_algorithms.begin(), record.digest_algorithms.end(), new_alg) ==
      record.digest_algorithms.end())
    record.digest_algorithms.push_back(new_alg);
  return Status::Ok();
}

}  // namespace preserve::timestamp
