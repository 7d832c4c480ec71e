#include "cms_test_signer.h"

#include <openssl/cms.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "preserve/util/digest.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::testing {

namespace {

CmsContentInfoPtr ParseDer(const Bytes& der) {
  const unsigned char* p = der.data();
  CmsContentInfoPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(cms) << OpenSslErrors();
  return cms;
}

}  // namespace

Bytes SignDetached(ByteView content, const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem,
                   const TestSignOptions& options) {
  Bytes cert_text = ReadFileOrDie(cert_pem);
  Bytes key_text = ReadFileOrDie(key_pem);
  BioPtr cert_bio = MemoryBio(cert_text);
  BioPtr key_bio = MemoryBio(key_text);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  const EVP_MD* md = EVP_get_digestbyname(options.digest.c_str());
  if (!cert || !key || md == nullptr) {
    ADD_FAILURE() << "cannot load the signer or digest: " << OpenSslErrors();
    return {};
  }
  const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | (options.signed_attributes ? 0 : CMS_NOATTR);
  CmsContentInfoPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  CMS_SignerInfo* si = cms ? CMS_add1_signer(cms.get(), cert.get(), key.get(), md, flags) : nullptr;
  if (si == nullptr) {
    ADD_FAILURE() << "CMS_add1_signer: " << OpenSslErrors();
    return {};
  }
  // OpenSSL writes the current time only when the attribute is not there yet.
  if (options.signing_time) {
    Asn1TimePtr t(ASN1_TIME_set(nullptr, static_cast<time_t>(options.signing_time->time_since_epoch().count())));
    EXPECT_EQ(CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t.get(), -1), 1) << OpenSslErrors();
  }
  for (const Bytes& der : options.certificates) {
    const unsigned char* p = der.data();
    X509Ptr extra(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(extra && CMS_add1_cert(cms.get(), extra.get()) == 1) << OpenSslErrors();
  }
  for (const Bytes& der : options.crls) {
    const unsigned char* p = der.data();
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(crl && CMS_add1_crl(cms.get(), crl.get()) == 1) << OpenSslErrors();
  }
  BioPtr data = MemoryBio(content);
  if (CMS_final(cms.get(), data.get(), nullptr, flags) != 1) {
    ADD_FAILURE() << "CMS_final: " << OpenSslErrors();
    return {};
  }
  return ToDer(i2d_CMS_ContentInfo, cms.get());
}

Bytes SignatureValue(const Bytes& cms_der) {
  CmsContentInfoPtr cms = ParseDer(cms_der);
  if (!cms) return {};
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
  ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(si);
  const unsigned char* data = ASN1_STRING_get0_data(value);
  return Bytes(data, data + ASN1_STRING_length(value));
}

Bytes WithSignatureTimeStamp(const Bytes& cms_der, const Bytes& token_der) {
  CmsContentInfoPtr cms = ParseDer(cms_der);
  if (!cms) return {};
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
  // V_ASN1_SEQUENCE with bytes: the attribute value is the token's DER as is.
  if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token_der.data(),
                                    static_cast<int>(token_der.size())) != 1) {
    ADD_FAILURE() << "CMS_unsigned_add1_attr_by_NID: " << OpenSslErrors();
    return {};
  }
  return ToDer(i2d_CMS_ContentInfo, cms.get());
}

Bytes TimeStampToken(timestamp::TsaTransport& tsa, ByteView data) {
  auto token = timestamp::RequestTimeStamp(tsa, HashAlgorithm::kSha256, Digest(HashAlgorithm::kSha256, data));
  EXPECT_TRUE(token.ok()) << token.status().ToString();
  return token.ok() ? *token : Bytes{};
}

signature::SignatureReport ValidateOneSigner(ByteView signature, ByteView content,
                                             const signature::CmsValidationOptions& options) {
  auto result = signature::ValidateCms(signature, content, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok() || result->signers.size() != 1) {
    ADD_FAILURE() << "expected one signer";
    return {};
  }
  return result->signers.front();
}

}  // namespace preserve::testing
