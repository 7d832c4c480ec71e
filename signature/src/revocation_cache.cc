#include "preserve/signature/revocation_cache.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <utility>

#include "revocation.h"
#include "revocation_cache_impl.h"
#include "preserve/util/digest.h"

namespace preserve::signature {

namespace internal {

namespace {

constexpr std::string_view kCrlPrefix = "crl ";
constexpr std::string_view kOcspPrefix = "ocsp ";

// The window of data issued at `this_update` that names `next_update` (or none).
void SetWindow(FetchedData& data, const ASN1_TIME* this_update, const ASN1_TIME* next_update) {
  data.issued = Asn1TimeToTimePoint(this_update);
  if (!data.issued) return;
  if (next_update == nullptr) {
    data.fresh_until = *data.issued + kMaxAgeWithoutNextUpdate;
  } else {
    data.fresh_until = Asn1TimeToTimePoint(next_update);
    if (!data.fresh_until) data.issued.reset();
  }
}

// The CertID an OCSP key names; null when it does not read.
OcspCertIdPtr KeyCertId(const std::string& key) {
  const std::size_t space = key.rfind(' ');
  if (!key.starts_with(kOcspPrefix) || space == std::string::npos || space < kOcspPrefix.size()) return nullptr;
  auto der = FromHex(std::string_view(key).substr(space + 1));
  if (!der.ok()) return nullptr;
  const unsigned char* p = der->data();
  OcspCertIdPtr id(d2i_OCSP_CERTID(nullptr, &p, static_cast<long>(der->size())));
  ERR_clear_error();
  return id;
}

}  // namespace

std::string CrlKey(const std::string& url) { return std::string(kCrlPrefix) + url; }

std::string OcspKey(const std::string& url, X509* cert, X509* issuer) {
  OcspCertIdPtr id(OCSP_cert_to_id(nullptr, cert, issuer));
  if (!id) {
    ERR_clear_error();
    return "";
  }
  return std::string(kOcspPrefix) + url + " " + ToHex(ToDer(i2d_OCSP_CERTID, id.get()));
}

Result<std::shared_ptr<FetchedData>> CrlData(const std::string& key, ByteView body, TimePoint fetched,
                                             const std::string& what) {
  const unsigned char* p = body.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(body.size())));
  if (!crl) {
    // Some servers publish PEM although RFC 5280 4.2.1.13 asks for DER.
    ERR_clear_error();
    BioPtr bio = MemoryBio(body);
    crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!crl) {
    ERR_clear_error();
    return Status::Corruption(what + " is not a CRL");
  }
  auto data = std::make_shared<FetchedData>();
  data->key = key;
  data->der = ToDer(i2d_X509_CRL, crl.get());
  data->sha256 = Digest(HashAlgorithm::kSha256, data->der);
  data->fetched = fetched;
  SetWindow(*data, X509_CRL_get0_lastUpdate(crl.get()), X509_CRL_get0_nextUpdate(crl.get()));
  data->crl = std::move(crl);
  return data;
}

Result<std::shared_ptr<FetchedData>> OcspData(const std::string& key, ByteView body, TimePoint fetched,
                                              const std::string& what) {
  const unsigned char* p = body.data();
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body.size())));
  if (!response) {
    ERR_clear_error();
    return Status::Corruption(what + " is not a DER OCSP response");
  }
  auto data = std::make_shared<FetchedData>();
  data->key = key;
  data->der = Bytes(body.begin(), body.end());
  data->sha256 = Digest(HashAlgorithm::kSha256, data->der);
  data->fetched = fetched;
  // The window of the single response about the certificate asked for.
  OcspBasicRespPtr basic(OCSP_response_status(response.get()) == OCSP_RESPONSE_STATUS_SUCCESSFUL
                             ? OCSP_response_get1_basic(response.get())
                             : nullptr);
  OcspCertIdPtr id = KeyCertId(key);
  const int index = basic && id ? OCSP_resp_find(basic.get(), id.get(), -1) : -1;
  if (index >= 0) {
    ASN1_GENERALIZEDTIME* this_update = nullptr;
    ASN1_GENERALIZEDTIME* next_update = nullptr;
    int status = OCSP_single_get0_status(OCSP_resp_get0(basic.get(), index), nullptr, nullptr, &this_update,
                                         &next_update);
    if (status == V_OCSP_CERTSTATUS_GOOD || status == V_OCSP_CERTSTATUS_REVOKED)
      SetWindow(*data, this_update, next_update);
  }
  ERR_clear_error();
  data->response = std::move(response);
  return data;
}

bool RevocationCacheImpl::Reusable(const FetchedData& data, TimePoint now, std::chrono::seconds ocsp_max_age) {
  if (!data.issued || !data.fresh_until) return false;
  if (*data.issued > now + kClockSkew || now > *data.fresh_until) return false;
  return data.crl != nullptr || (ocsp_max_age.count() > 0 && now <= data.fetched + ocsp_max_age);
}

FetchOutcome RevocationCacheImpl::Get(const std::string& key, TimePoint now, std::chrono::seconds ocsp_max_age,
                                      const std::function<FetchOutcome()>& fetch) {
  std::promise<FetchOutcome> promise;
  {
    std::unique_lock lock(mutex_);
    auto held = held_.find(key);
    if (held != held_.end() && Reusable(*held->second, now, ocsp_max_age)) {
      ++stats_.reused;
      return held->second;
    }
    auto flight = in_flight_.find(key);
    if (flight != in_flight_.end()) {
      std::shared_future<FetchOutcome> pending = flight->second;
      ++stats_.waited;
      lock.unlock();
      return pending.get();
    }
    in_flight_.emplace(key, promise.get_future().share());
    ++stats_.fetches;
  }
  FetchOutcome outcome = fetch();
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(key);
    if (outcome.ok() && Reusable(**outcome, now, ocsp_max_age)) {
      const std::size_t size = (*outcome)->der.size();
      auto held = held_.find(key);
      const std::size_t replaced = held != held_.end() ? held->second->der.size() : 0;
      if ((held != held_.end() || held_.size() < kCapacity) && held_bytes_ - replaced + size <= kCapacityBytes) {
        held_bytes_ = held_bytes_ - replaced + size;
        held_[key] = *outcome;
        new_[key] = *outcome;
      }
    }
  }
  promise.set_value(outcome);
  return outcome;
}

bool RevocationCacheImpl::VerifyCrl(const FetchedData& data, X509* issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || data.crl == nullptr) {
    ERR_clear_error();
    return false;
  }
  const std::string memo = ToString(data.sha256) + ToString(ToDer(i2d_X509_PUBKEY, X509_get_X509_PUBKEY(issuer)));
  // Held while verifying: the validations that wait for a fetch all come
  // here at once, and one verification should serve them all.
  std::lock_guard lock(mutex_);
  auto known = crl_verdicts_.find(memo);
  if (known != crl_verdicts_.end()) return known->second;
  const bool verified = X509_CRL_verify(data.crl.get(), key) == 1;
  ERR_clear_error();
  ++stats_.crl_signature_checks;
  if (crl_verdicts_.size() < kVerdictCapacity) crl_verdicts_.emplace(memo, verified);
  return verified;
}

bool RevocationCacheImpl::Add(const RevocationCache::Item& item, TimePoint now, std::chrono::seconds ocsp_max_age) {
  Result<std::shared_ptr<FetchedData>> data = Status::InvalidArgument("unknown key");
  if (item.key.starts_with(kCrlPrefix))
    data = CrlData(item.key, item.der, item.fetched, item.key);
  else if (item.key.starts_with(kOcspPrefix))
    data = OcspData(item.key, item.der, item.fetched, item.key);
  if (!data.ok() || !Reusable(**data, now, ocsp_max_age)) return false;
  std::lock_guard lock(mutex_);
  auto held = held_.find(item.key);
  const std::size_t replaced = held != held_.end() ? held->second->der.size() : 0;
  if ((held == held_.end() && held_.size() >= kCapacity) || held_bytes_ - replaced + item.der.size() > kCapacityBytes)
    return false;
  held_bytes_ = held_bytes_ - replaced + item.der.size();
  held_[item.key] = std::move(data).value();
  return true;
}

std::vector<RevocationCache::Item> RevocationCacheImpl::TakeNew(TimePoint now, std::chrono::seconds ocsp_max_age) {
  std::vector<RevocationCache::Item> items;
  std::lock_guard lock(mutex_);
  for (auto it = new_.begin(); it != new_.end();) {
    const FetchedData& data = *it->second;
    if (!Reusable(data, now, ocsp_max_age)) {
      it = new_.erase(it);
    } else if (data.authentic) {
      items.push_back({data.key, data.der, data.fetched});
      it = new_.erase(it);
    } else {
      ++it;  // a validation may still be judging it
    }
  }
  return items;
}

RevocationCache::Stats RevocationCacheImpl::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace internal

RevocationCache::RevocationCache() : impl_(std::make_unique<internal::RevocationCacheImpl>()) {}
RevocationCache::~RevocationCache() = default;

bool RevocationCache::Add(const Item& item, TimePoint now, std::chrono::seconds ocsp_max_age) {
  return impl_->Add(item, now, ocsp_max_age);
}

std::vector<RevocationCache::Item> RevocationCache::TakeNew(TimePoint now, std::chrono::seconds ocsp_max_age) {
  return impl_->TakeNew(now, ocsp_max_age);
}

RevocationCache::Stats RevocationCache::stats() const { return impl_->stats(); }

}  // namespace preserve::signature
