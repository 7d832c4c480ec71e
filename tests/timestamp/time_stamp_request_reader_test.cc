// The embedded TSA's own reading of plain DER time-stamp requests: every
// field as OpenSSL's decoder reads it, and everything outside the plain DER
// form (which OpenSSL then answers) left unread.
#include "time_stamp_request_reader.h"

#include <gtest/gtest.h>
#include <openssl/ts.h>

#include <algorithm>
#include <optional>

#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp::internal {
namespace {

struct RequestFields {
  const EVP_MD* md = EVP_sha256();
  bool null_parameters = true;
  const char* policy = nullptr;  // dotted OID
  std::optional<long> nonce = std::nullopt;
  bool cert_req = false;
  std::size_t nonce_bytes = 0;  // instead of `nonce`: a positive nonce this long, its top bit set
};

// A request as OpenSSL encodes it (DER).
Bytes OpenSslRequest(const RequestFields& fields) {
  const Bytes imprint(static_cast<std::size_t>(EVP_MD_get_size(fields.md)), 0x5a);
  TsReqPtr request(TS_REQ_new());
  TsMsgImprintPtr msg_imprint(TS_MSG_IMPRINT_new());
  X509AlgorPtr algorithm(X509_ALGOR_new());
  X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(EVP_MD_get_type(fields.md)),
                  fields.null_parameters ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr);
  TS_MSG_IMPRINT_set_algo(msg_imprint.get(), algorithm.get());
  TS_MSG_IMPRINT_set_msg(msg_imprint.get(), const_cast<std::uint8_t*>(imprint.data()),
                         static_cast<int>(imprint.size()));
  TS_REQ_set_version(request.get(), 1);
  TS_REQ_set_msg_imprint(request.get(), msg_imprint.get());
  if (fields.policy != nullptr) {
    Asn1ObjectPtr policy(OBJ_txt2obj(fields.policy, 1));
    TS_REQ_set_policy_id(request.get(), policy.get());
  }
  if (fields.nonce) {
    Asn1IntegerPtr nonce(ASN1_INTEGER_new());
    ASN1_INTEGER_set(nonce.get(), *fields.nonce);
    TS_REQ_set_nonce(request.get(), nonce.get());
  }
  if (fields.nonce_bytes != 0) {
    const Bytes value(fields.nonce_bytes, 0xa5);
    BignumPtr number(BN_bin2bn(value.data(), static_cast<int>(value.size()), nullptr));
    Asn1IntegerPtr nonce(BN_to_ASN1_INTEGER(number.get(), nullptr));
    TS_REQ_set_nonce(request.get(), nonce.get());
  }
  TS_REQ_set_cert_req(request.get(), fields.cert_req ? 1 : 0);
  return ToDer(i2d_TS_REQ, request.get());
}

TsReqPtr Decode(ByteView der) {
  const unsigned char* p = der.data();
  return TsReqPtr(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
}

bool Same(ByteView a, ByteView b) { return std::ranges::equal(a, b); }
ByteView Content(const ASN1_OBJECT* oid) { return {OBJ_get0_data(oid), OBJ_length(oid)}; }
ByteView Content(const ASN1_STRING* s) {
  return {ASN1_STRING_get0_data(s), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// What the reader makes of `der` is what d2i_TS_REQ makes of it.
void ExpectReadAsOpenSslDoes(const Bytes& der) {
  std::optional<PlainTimeStampRequest> read = ReadPlainTimeStampRequest(der);
  ASSERT_TRUE(read.has_value());
  TsReqPtr request = Decode(der);
  ASSERT_TRUE(request);
  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(request.get());
  const ASN1_OBJECT* algorithm = nullptr;
  int parameter_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(&algorithm, &parameter_type, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  EXPECT_TRUE(Same(read->imprint_algorithm, Content(algorithm)));
  EXPECT_EQ(read->imprint_null_parameters, parameter_type == V_ASN1_NULL);
  EXPECT_TRUE(Same(read->hashed_message, Content(TS_MSG_IMPRINT_get_msg(imprint))));
  const ASN1_OBJECT* policy = TS_REQ_get_policy_id(request.get());
  EXPECT_TRUE(policy == nullptr ? read->policy.empty() : Same(read->policy, Content(policy)));
  const ASN1_INTEGER* nonce = TS_REQ_get_nonce(request.get());
  // The nonce is copied into TSTInfo as read: it must be what OpenSSL writes.
  EXPECT_TRUE(nonce == nullptr ? read->nonce.empty() : Same(read->nonce, ToDer(i2d_ASN1_INTEGER, nonce)));
  EXPECT_EQ(read->cert_req, TS_REQ_get_cert_req(request.get()) != 0);
}

TEST(PlainTimeStampRequest, ReadsEveryFieldAsOpenSslDoes) {
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha512(), EVP_sha3_384()}) {
    for (bool null_parameters : {true, false}) {
      for (const char* policy : {static_cast<const char*>(nullptr), "1.3.6.1.4.1.99999.1.2"}) {
        for (std::optional<long> nonce : {std::optional<long>(), std::optional<long>(0), std::optional<long>(127),
                                          std::optional<long>(128), std::optional<long>(-1),
                                          std::optional<long>(-128), std::optional<long>(-129),
                                          std::optional<long>(-256), std::optional<long>(0x1234567890abcdefL)}) {
          for (bool cert_req : {true, false}) {
            SCOPED_TRACE(std::string(EVP_MD_get0_name(md)) + (null_parameters ? " NULL" : "") +
                         (policy ? " policy" : "") + (nonce ? " nonce " + std::to_string(*nonce) : "") +
                         (cert_req ? " certReq" : ""));
            ExpectReadAsOpenSslDoes(OpenSslRequest({md, null_parameters, policy, nonce, cert_req}));
          }
        }
      }
    }
  }
}

// Long-form lengths: an 80-byte nonce makes the request's own length take two
// octets (81 xx), a 200-byte one the nonce's too, and the request's three (82 xx xx).
TEST(PlainTimeStampRequest, ReadsLongFormLengths) {
  for (std::size_t nonce_bytes : {80u, 200u}) {
    SCOPED_TRACE(std::to_string(nonce_bytes) + "-byte nonce");
    const Bytes der = OpenSslRequest({.cert_req = true, .nonce_bytes = nonce_bytes});
    ASSERT_GE(der[1], 0x81);
    ExpectReadAsOpenSslDoes(der);
    EXPECT_EQ(ReadPlainTimeStampRequest(der)->nonce.size(), nonce_bytes + (nonce_bytes < 128 ? 3u : 4u));
  }
}

TEST(PlainTimeStampRequest, EveryTruncationIsLeftUnread) {
  const Bytes der = OpenSslRequest({.policy = "1.2.3.4", .nonce = 99, .cert_req = true});
  ASSERT_TRUE(ReadPlainTimeStampRequest(der).has_value());
  for (std::size_t size = 0; size < der.size(); ++size)
    EXPECT_FALSE(ReadPlainTimeStampRequest(ByteView(der).first(size)).has_value()) << size << " bytes";
}

TEST(PlainTimeStampRequest, BytesAfterTheRequestAreLeftUnread) {
  Bytes der = OpenSslRequest({});
  der.push_back(0x00);
  EXPECT_FALSE(ReadPlainTimeStampRequest(der).has_value());
}

// Each case: the plain request below with one change, all of which OpenSSL's
// decoder reads (so it, not the fast path, answers them).
//   30 3d                       TimeStampReq (61 bytes)
//     02 01 01                  version 1
//     30 31                     messageImprint
//       30 0d 06 09 <sha256> 05 00
//       04 20 <32 x 5a>
//     02 02 00 80               nonce 128
//     01 01 ff                  certReq TRUE
Bytes Plain() { return OpenSslRequest({.nonce = 128, .cert_req = true}); }

Bytes Replace(Bytes der, std::size_t at, std::size_t erase, std::initializer_list<std::uint8_t> insert) {
  der.erase(der.begin() + static_cast<std::ptrdiff_t>(at), der.begin() + static_cast<std::ptrdiff_t>(at + erase));
  der.insert(der.begin() + static_cast<std::ptrdiff_t>(at), insert);
  return der;
}

TEST(PlainTimeStampRequest, TheLayoutTheCasesBelowAssume) {
  const Bytes der = Plain();
  ASSERT_EQ(der.size(), 0x3fu);
  EXPECT_EQ(der[0], 0x30);
  EXPECT_EQ(der[1], 0x3d);
  EXPECT_EQ(der[2], 0x02);
  EXPECT_EQ(der[0x14], 0x05);  // NULL parameters
  EXPECT_EQ(der[0x38], 0x02);  // the nonce
  EXPECT_EQ(der[0x3c], 0x01);  // certReq
}

TEST(PlainTimeStampRequest, BerThatOpenSslReadsIsLeftUnread) {
  struct Case {
    const char* what;
    Bytes der;
  };
  const Bytes plain = Plain();
  Bytes long_form = Replace(plain, 1, 1, {0x81, 0x3d});  // a length that fits the short form
  Bytes padded_length = Replace(plain, 1, 1, {0x82, 0x00, 0x3d});
  Bytes explicit_false = Replace(plain, 0x3c, 3, {0x01, 0x01, 0x00});  // certReq FALSE written out
  Bytes other_true = Replace(plain, 0x3c, 3, {0x01, 0x01, 0x01});      // TRUE as 0x01, not 0xff
  Bytes padded_nonce = Replace(plain, 0x38, 4, {0x02, 0x03, 0x00, 0x00, 0x80});
  padded_nonce[1] = 0x3e;
  Bytes indefinite = Replace(plain, 1, 1, {0x80});
  indefinite.insert(indefinite.end(), {0x00, 0x00});
  for (const Case& c : {Case{"long-form length", long_form}, Case{"padded length", padded_length},
                        Case{"explicit certReq FALSE", explicit_false}, Case{"certReq TRUE as 01", other_true},
                        Case{"indefinite length", indefinite}}) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(Decode(c.der)) << "OpenSSL reads it";
    EXPECT_FALSE(ReadPlainTimeStampRequest(c.der).has_value());
  }
  // OpenSSL 3 refuses an INTEGER padded with a sign octet; so does the reader.
  Bytes padded_positive = Replace(plain, 0x38, 4, {0x02, 0x02, 0x00, 0x7f});
  Bytes padded_negative = Replace(plain, 0x38, 4, {0x02, 0x02, 0xff, 0x80});
  for (const Bytes& der : {padded_nonce, padded_positive, padded_negative}) {
    EXPECT_FALSE(Decode(der));
    EXPECT_FALSE(ReadPlainTimeStampRequest(der).has_value());
  }
}

TEST(PlainTimeStampRequest, OtherVersionsParametersAndExtensionsAreLeftUnread) {
  const Bytes plain = Plain();
  Bytes version2 = plain;
  version2[4] = 2;
  Bytes other_parameters = Replace(plain, 0x14, 2, {0x04, 0x00});  // an empty OCTET STRING for NULL
  // An empty list of extensions, which OpenSSL reads.
  Bytes extensions = plain;
  extensions.insert(extensions.end(), {0xa0, 0x00});
  extensions[1] = static_cast<std::uint8_t>(extensions[1] + 2);
  EXPECT_TRUE(Decode(extensions));
  EXPECT_TRUE(Decode(version2));
  EXPECT_FALSE(ReadPlainTimeStampRequest(version2).has_value());
  EXPECT_FALSE(ReadPlainTimeStampRequest(other_parameters).has_value());
  EXPECT_FALSE(ReadPlainTimeStampRequest(extensions).has_value());
  EXPECT_FALSE(ReadPlainTimeStampRequest(Bytes{}).has_value());
  EXPECT_FALSE(ReadPlainTimeStampRequest(Bytes{0x30, 0x00}).has_value());
}

}  // namespace
}  // namespace preserve::timestamp::internal
