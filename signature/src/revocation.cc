#include "revocation.h"

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <utility>

#include "revocation_cache_impl.h"
#include "preserve/util/http_client.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve::signature::internal {

namespace {

// kClockSkew and kMaxAgeWithoutNextUpdate: revocation_cache_impl.h, which
// judges reuse by the same rules.
// CRLs of large CAs run to megabytes; anything past this is not a CRL.
constexpr std::uint64_t kMaxAnswerBytes = 32u << 20;

// --- HTTP (RFC 5280 CRL distribution points, RFC 6960 appendix A) ---

// GET `url`, or POST `post` as `content_type`. Every failure to get a 200
// answer in time is an error whose message names the whole URL: CRL and OCSP
// locations come from certificates and hold no secrets.
Result<Bytes> HttpFetch(const std::string& url, const Bytes* post, std::string_view content_type,
                        std::chrono::milliseconds timeout) {
  // http:// only: distribution points and responders are plain HTTP by RFC 5280
  // and RFC 6960 (the data is signed); ldap:// and https:// are not fetched.
  if (!url.starts_with("http://")) return Status::InvalidArgument(url + ": not an http:// URL");
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return Status::InvalidArgument(url + ": " + parsed.status().message());
  HttpClientOptions options;
  options.name = url;
  options.timeout = timeout;
  options.max_response_bytes = kMaxAnswerBytes;
  PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> client,
                            HttpClient::Create(std::move(*parsed), std::move(options)));
  HttpClient::Request request;
  if (post != nullptr) {
    request.method = HttpClient::Method::kPost;
    request.content_type = content_type;
    request.body = *post;
  }
  PRESERVE_ASSIGN_OR_RETURN(HttpClient::Response response, client->Send(request));
  if (response.status != 200)
    return Status::Unavailable(url + " answered HTTP " + std::to_string(response.status) + " " + response.reason);
  return std::move(response.body);
}

// --- reading CRLs and OCSP responses ---

enum class CertState { kGood, kRevoked, kOnHold };

// A status some source settled, with the material that settled it.
struct Answer {
  CertState state = CertState::kGood;
  TimePoint revoked_at;  // kRevoked, kOnHold
  std::string source;    // "OCSP http://...", "the CRL the signature carries"
  Bytes crl;             // DER, when a CRL settled it
  Bytes ocsp_response;   // DER, when an OCSP response did
  Bytes responder;       // DER of a delegated OCSP responder's certificate
};

// nullopt: the data is not about this certificate. An error: it is, but
// cannot be relied on (the message says why).
using Reading = Result<std::optional<Answer>>;

// EN 319 102-1 5.2.5: without a policy's maximum age, data is fresh while
// its next update is not yet due.
Status CheckFresh(const ASN1_TIME* this_update, const ASN1_TIME* next_update, TimePoint now,
                  const std::string& what) {
  std::optional<TimePoint> issued = Asn1TimeToTimePoint(this_update);
  if (!issued) return Status::Corruption(what + " has an unreadable thisUpdate");
  if (*issued > now + kClockSkew)
    return Status::FailedPrecondition(what + " claims to be issued in the future (" + FormatUtcTime(*issued) + ")");
  if (next_update != nullptr) {
    std::optional<TimePoint> due = Asn1TimeToTimePoint(next_update);
    if (!due) return Status::Corruption(what + " has an unreadable nextUpdate");
    if (*due < now)
      return Status::FailedPrecondition(what + " is stale: its next update was due " + FormatUtcTime(*due));
  } else if (*issued + kMaxAgeWithoutNextUpdate < now) {
    return Status::FailedPrecondition(what + " is stale: issued " + FormatUtcTime(*issued) +
                                      " with no next update, more than a day before the validation time");
  }
  return Status::Ok();
}

bool IsHold(X509_REVOKED* entry) {
  Asn1EnumeratedPtr reason(
      static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
  ERR_clear_error();
  return reason && ASN1_ENUMERATED_get(reason.get()) == CRL_REASON_CERTIFICATE_HOLD;
}

// Whether `issuer` is one of the certificates found, when the CRL was
// prepared, to sign it: the same DER is the same key, so the same outcome.
bool KnownSigner(const LocalCrl& local, X509* issuer) {
  for (int i = 0; i < sk_X509_num(local.verified_by.get()); ++i)
    if (X509_cmp(sk_X509_value(local.verified_by.get(), i), issuer) == 0) return true;
  return false;
}

// `local`: the caller's CRL as prepared; null for a CRL from elsewhere.
// `fetched`: the CRL as fetched online, whose signature check `cache`
// memoises; null for the others.
Reading ReadCrl(X509_CRL* crl, const LocalCrl* local, X509* cert, X509* issuer, TimePoint now,
                const std::string& source, RevocationCacheImpl* cache = nullptr,
                const FetchedData* fetched = nullptr) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) != 0) return std::optional<Answer>();
  // A delta CRL only amends its base CRL; base CRLs are complete on their own.
  if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0) return std::optional<Answer>();
  IssuingDistPointPtr scope(
      static_cast<ISSUING_DIST_POINT*>(X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, nullptr, nullptr)));
  ERR_clear_error();
  if (scope) {
    const bool is_ca = X509_check_ca(cert) > 0;
    if ((scope->onlyuser != 0 && is_ca) || (scope->onlyCA != 0 && !is_ca) || scope->onlyattr != 0)
      return std::optional<Answer>();
    if (scope->onlysomereasons != nullptr || scope->indirectCRL != 0)
      return Status::FailedPrecondition(source + " is partitioned by reason or indirect, which preserve does not use");
  }
  if (cache != nullptr && fetched != nullptr) {
    if (!cache->VerifyCrl(*fetched, issuer)) return Status::Corruption(source + " is not signed by " + SubjectText(issuer));
  } else if (local == nullptr || !KnownSigner(*local, issuer)) {
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    if (key == nullptr || X509_CRL_verify(crl, key) != 1) {
      ERR_clear_error();
      return Status::Corruption(source + " is not signed by " + SubjectText(issuer));
    }
  }
  if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0)
    return Status::Corruption(source + " is signed by " + SubjectText(issuer) + ", whose key usage has no cRLSign");

  Answer answer;
  answer.source = source;
  answer.crl = local != nullptr ? local->der : fetched != nullptr ? fetched->der : ToDer(i2d_X509_CRL, crl);
  X509_REVOKED* entry = nullptr;
  // 1: listed; 2: removeFromCRL, which only a delta CRL says.
  if (X509_CRL_get0_by_cert(crl, &entry, cert) == 1) {
    std::optional<TimePoint> at = Asn1TimeToTimePoint(X509_REVOKED_get0_revocationDate(entry));
    if (!at) return Status::Corruption(source + " lists the certificate with an unreadable revocation date");
    answer.state = IsHold(entry) ? CertState::kOnHold : CertState::kRevoked;
    answer.revoked_at = *at;
    return std::optional<Answer>(std::move(answer));
  }
  PRESERVE_RETURN_IF_ERROR(CheckFresh(X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl), now, source));
  return std::optional<Answer>(std::move(answer));
}

// The validity of `cert` covers `at`.
bool ValidAt(X509* cert, TimePoint at) {
  std::optional<TimePoint> from = Asn1TimeToTimePoint(X509_get0_notBefore(cert));
  std::optional<TimePoint> to = Asn1TimeToTimePoint(X509_get0_notAfter(cert));
  return from && to && *from <= at && at <= *to;
}

// `response` parsed from `der`. `request` is the request an online answer
// must match (its nonce); null for a response given locally.
Reading ReadOcsp(OCSP_RESPONSE* response, ByteView der, X509* cert, X509* issuer, TimePoint now,
                 const std::string& source, OCSP_REQUEST* request) {
  int status = OCSP_response_status(response);
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return Status::Unavailable(source + " answered " + OCSP_response_status_str(status));
  OcspBasicRespPtr basic(OCSP_response_get1_basic(response));
  if (!basic) {
    ERR_clear_error();
    return Status::Corruption(source + " holds no basic OCSP response");
  }

  // The single response about this certificate, under whichever hash the
  // responder used in its CertID.
  OCSP_SINGLERESP* single = nullptr;
  for (int i = 0; i < OCSP_resp_count(basic.get()) && single == nullptr; ++i) {
    OCSP_SINGLERESP* candidate = OCSP_resp_get0(basic.get(), i);
    ASN1_OBJECT* hash = nullptr;
    OCSP_id_get0_info(nullptr, &hash, nullptr, nullptr, const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(candidate)));
    const EVP_MD* md = hash != nullptr ? EVP_get_digestbyobj(hash) : nullptr;
    if (md == nullptr) continue;
    OcspCertIdPtr mine(OCSP_cert_to_id(md, cert, issuer));
    if (mine && OCSP_id_cmp(mine.get(), OCSP_SINGLERESP_get0_id(candidate)) == 0) single = candidate;
  }
  ERR_clear_error();
  if (single == nullptr) return std::optional<Answer>();
  // 0: both carry a nonce and they differ, a replayed or misrouted answer. A
  // responder that sends none (pre-produced responses) is judged on freshness.
  if (request != nullptr && OCSP_check_nonce(request, basic.get()) == 0)
    return Status::Corruption(source + " answered with another nonce than the request's");

  X509StackPtr extra(sk_X509_new_null());
  if (!extra || X509_add_cert(extra.get(), issuer, X509_ADD_FLAG_UP_REF) != 1)
    return Status::Internal(OpenSslFailure("X509_add_cert"));
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic.get(), &signer, extra.get()) != 1 || signer == nullptr) {
    ERR_clear_error();
    return Status::Corruption(source + " carries no certificate of its signer");
  }
  // The signature only: who may sign for this issuer is decided below.
  if (OCSP_basic_verify(basic.get(), extra.get(), nullptr, OCSP_NOVERIFY) != 1) {
    ERR_clear_error();
    return Status::Corruption(source + ": the signature does not verify");
  }
  Answer answer;
  if (X509_cmp(signer, issuer) != 0) {
    // RFC 6960 4.2.2.2: a delegated responder is certified for OCSP signing by the CA itself.
    EVP_PKEY* issuer_key = X509_get0_pubkey(issuer);
    bool authorized = issuer_key != nullptr && X509_check_issued(issuer, signer) == X509_V_OK &&
                      X509_verify(signer, issuer_key) == 1 &&
                      (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) != 0 &&
                      (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) != 0;
    ERR_clear_error();
    if (!authorized)
      return Status::Corruption(source + " is signed by " + SubjectText(signer) + ", neither " +
                                SubjectText(issuer) + " nor a responder it authorized with id-kp-OCSPSigning");
    std::optional<TimePoint> produced = Asn1TimeToTimePoint(OCSP_resp_get0_produced_at(basic.get()));
    if (!produced || !ValidAt(signer, *produced))
      return Status::Corruption(source + " is signed by " + SubjectText(signer) +
                                " outside that certificate's validity");
    answer.responder = ToDer(i2d_X509, signer);
  }

  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  int state = OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
  answer.source = source;
  answer.ocsp_response = Bytes(der.begin(), der.end());
  switch (state) {
    case V_OCSP_CERTSTATUS_GOOD:
      PRESERVE_RETURN_IF_ERROR(CheckFresh(this_update, next_update, now, source));
      return std::optional<Answer>(std::move(answer));
    case V_OCSP_CERTSTATUS_REVOKED: {
      std::optional<TimePoint> at = Asn1TimeToTimePoint(revoked_at);
      if (!at) return Status::Corruption(source + " gives an unreadable revocation time");
      answer.state = reason == OCSP_REVOKED_STATUS_CERTIFICATEHOLD ? CertState::kOnHold : CertState::kRevoked;
      answer.revoked_at = *at;
      return std::optional<Answer>(std::move(answer));
    }
    default:
      return Status::Unavailable(source + " does not know the certificate (status unknown)");
  }
}

std::vector<std::string> CrlUrls(X509* cert) {
  std::vector<std::string> urls;
  CrlDistPointsPtr points(
      static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
  ERR_clear_error();
  for (int i = 0; points && i < sk_DIST_POINT_num(points.get()); ++i) {
    DIST_POINT* point = sk_DIST_POINT_value(points.get(), i);
    // Only full names; a point relative to the issuer's name (type 1) names no URL.
    if (point->distpoint == nullptr || point->distpoint->type != 0) continue;
    GENERAL_NAMES* names = point->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
      if (name->type != GEN_URI) continue;
      const ASN1_STRING* uri = name->d.uniformResourceIdentifier;
      urls.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                        static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
  }
  return urls;
}

std::vector<std::string> OcspUrls(X509* cert) {
  std::vector<std::string> urls;
  OpenSslStringStackPtr list(X509_get1_ocsp(cert));
  ERR_clear_error();
  for (int i = 0; list && i < sk_OPENSSL_STRING_num(list.get()); ++i)
    urls.emplace_back(sk_OPENSSL_STRING_value(list.get(), i));
  return urls;
}

Result<Bytes> OcspRequestDer(X509* cert, X509* issuer, OcspRequestPtr& request) {
  request.reset(OCSP_REQUEST_new());
  // SHA-1 CertIDs are what every responder understands (RFC 5019 2.1.1); they
  // identify, they do not protect.
  OcspCertIdPtr id(OCSP_cert_to_id(nullptr, cert, issuer));
  if (!request || !id || OCSP_request_add0_id(request.get(), id.get()) == nullptr)
    return Status::Internal(OpenSslFailure("cannot build an OCSP request"));
  id.release();  // the request owns it now
  if (OCSP_request_add1_nonce(request.get(), nullptr, -1) != 1)
    return Status::Internal(OpenSslFailure("cannot add an OCSP nonce"));
  return ToDer(i2d_OCSP_REQUEST, request.get());
}

// What the sources say about one certificate.
struct CertificateStatus {
  bool checkable = true;  // false: no pointer to revocation data and none at hand
  std::optional<Answer> answer;
  std::vector<std::string> problems;  // why no source settled it
};

class StatusSearch {
 public:
  StatusSearch(X509* cert, X509* issuer, const RevocationInput& input) : cert_(cert), issuer_(issuer), in_(input) {}

  CertificateStatus Run() {
    for (int i = 0; i < sk_X509_CRL_num(in_.carried_crls); ++i)
      Consider(ReadCrl(sk_X509_CRL_value(in_.carried_crls, i), nullptr, cert_, issuer_, in_.now,
                       "the CRL the signature carries"));
    for (const LocalCrl& local : in_.local->crls)
      Consider(ReadCrl(local.crl.get(), &local, cert_, issuer_, in_.now, "a local CRL"));
    for (const LocalOcspResponse& local : in_.local->ocsp)
      Consider(ReadOcsp(local.response.get(), local.der, cert_, issuer_, in_.now, "a local OCSP response", nullptr));
    if (Settled()) return Finish();

    std::vector<std::string> ocsp = OcspUrls(cert_);
    std::vector<std::string> crls = CrlUrls(cert_);
    if (!applicable_ && ocsp.empty() && crls.empty()) {
      out_.checkable = false;
      return std::move(out_);
    }
    if (!in_.options->online) {
      if (!ocsp.empty() || !crls.empty())
        out_.problems.push_back("fetching revocation data is off and no local data settles it");
      return Finish();
    }
    for (const std::string& url : ocsp) {
      if (Settled()) break;
      AskResponder(url);
    }
    for (const std::string& url : crls) {
      if (Settled()) break;
      FetchCrl(url);
    }
    return Finish();
  }

 private:
  // A revocation, or fresh "good", ends the search; a hold is kept in case a
  // later source shows it lifted.
  bool Settled() const { return out_.answer && out_.answer->state != CertState::kOnHold; }

  void Consider(Reading reading) {
    if (!reading.ok()) {
      applicable_ = true;
      out_.problems.push_back(reading.status().message());
      return;
    }
    if (!reading->has_value()) return;
    applicable_ = true;
    if (!out_.answer || out_.answer->state == CertState::kOnHold) out_.answer = std::move(**reading);
  }

  // The options' cache of online answers; null when there is none.
  RevocationCacheImpl* Cache() const {
    return in_.options->cache ? &RevocationCacheAccess::Of(*in_.options->cache) : nullptr;
  }

  // Asks the responder at `url`, or takes its answer about this certificate
  // from the cache while fresh. An answer is judged against the request it
  // answered (its nonce) when this process asked it, by whichever validation
  // uses it; one kept from an earlier run has no request at hand and is
  // judged as a response given locally is (see revocation_cache.h).
  void AskResponder(const std::string& url) {
    const std::string source = "OCSP " + url;
    const std::string key = OcspKey(url, cert_, issuer_);
    auto fetch = [&]() -> FetchOutcome {
      OcspRequestPtr request;
      PRESERVE_ASSIGN_OR_RETURN(Bytes der, OcspRequestDer(cert_, issuer_, request));
      PRESERVE_ASSIGN_OR_RETURN(Bytes body, HttpFetch(url, &der, "application/ocsp-request", in_.options->timeout));
      PRESERVE_ASSIGN_OR_RETURN(std::shared_ptr<FetchedData> data, OcspData(key, body, in_.now, source));
      data->request = std::move(request);
      return std::shared_ptr<const FetchedData>(std::move(data));
    };
    RevocationCacheImpl* cache = key.empty() ? nullptr : Cache();
    FetchOutcome data = cache != nullptr ? cache->Get(key, in_.now, in_.options->ocsp_max_age, fetch) : fetch();
    if (!data.ok()) return Consider(data.status());
    const FetchedData& d = **data;
    Reading reading = ReadOcsp(d.response.get(), d.der, cert_, issuer_, in_.now, source, d.request.get());
    if (reading.ok() && !reading->has_value())
      return Consider(Status::Corruption(source + " answered about another certificate"));
    if (reading.ok()) d.authentic = true;
    Consider(std::move(reading));
  }

  // Fetches the CRL at `url`, or takes it from the cache while fresh.
  void FetchCrl(const std::string& url) {
    const std::string source = "CRL " + url;
    const std::string key = CrlKey(url);
    auto fetch = [&]() -> FetchOutcome {
      PRESERVE_ASSIGN_OR_RETURN(Bytes body, HttpFetch(url, nullptr, "", in_.options->timeout));
      PRESERVE_ASSIGN_OR_RETURN(std::shared_ptr<FetchedData> data, CrlData(key, body, in_.now, source));
      return std::shared_ptr<const FetchedData>(std::move(data));
    };
    RevocationCacheImpl* cache = Cache();
    FetchOutcome data = cache != nullptr ? cache->Get(key, in_.now, in_.options->ocsp_max_age, fetch) : fetch();
    if (!data.ok()) return Consider(data.status());
    const FetchedData& d = **data;
    Reading reading = ReadCrl(d.crl.get(), nullptr, cert_, issuer_, in_.now, source, cache, &d);
    if (reading.ok() && !reading->has_value())
      return Consider(Status::Corruption(source + " is not a CRL of " + SubjectText(issuer_) + " covering it"));
    if (reading.ok()) d.authentic = true;
    Consider(std::move(reading));
  }

  CertificateStatus Finish() { return std::move(out_); }

  X509* cert_;
  X509* issuer_;
  const RevocationInput& in_;
  bool applicable_ = false;
  CertificateStatus out_;
};

std::string ShortName(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  unsigned char* utf8 = nullptr;
  int length = index >= 0 ? ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index))) : -1;
  if (length < 0) {
    ERR_clear_error();
    return SubjectText(cert);
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

void AddOnce(std::vector<Bytes>& to, Bytes der) {
  if (!der.empty() && std::find(to.begin(), to.end(), der) == to.end()) to.push_back(std::move(der));
}

// Keeps the first failure, except that a TOTAL-FAILED REVOKED outranks any
// INDETERMINATE one.
void Fail(RevocationOutcome& out, SubIndication s, std::string reason) {
  if (out.sub_indication == SubIndication::kNone ||
      (s == SubIndication::kRevoked && out.sub_indication != SubIndication::kRevoked)) {
    out.sub_indication = s;
    out.reason = std::move(reason);
  }
}

// EN 319 102-1: a revocation matters unless a signature time-stamp proves the
// signature existed before it. The signer's own claim to have signed at or
// after the revocation establishes it was made with a revoked certificate
// (REVOKED); anything short of that is REVOKED_NO_POE, or REVOKED_CA_NO_POE
// for a CA certificate.
void JudgeRevocation(X509* cert, bool is_signer, const Answer& answer, const RevocationInput& in,
                     RevocationOutcome& out) {
  const std::string subject = SubjectText(cert);
  const std::string when = FormatUtcTime(answer.revoked_at);
  if (in.proven && *in.proven < answer.revoked_at) {
    out.warnings.push_back("The certificate " + subject + " was revoked on " + when + " (" + answer.source +
                           "), after the signature time-stamp proves the signature existed (" +
                           FormatUtcTime(*in.proven) + ").");
    return;
  }
  if (is_signer && in.claimed && *in.claimed >= answer.revoked_at) {
    Fail(out, SubIndication::kRevoked,
         "The certificate " + subject + " was revoked on " + when + " (" + answer.source +
             "), before the signing time " + FormatUtcTime(*in.claimed) + " the signature claims.");
    return;
  }
  std::string tail = in.claimed ? "; the signature claims " + FormatUtcTime(*in.claimed) +
                                      " but no signature time-stamp proves it existed before the revocation."
                                : "; no signature time-stamp proves the signature existed before the revocation.";
  Fail(out, is_signer ? SubIndication::kRevokedNoPoe : SubIndication::kRevokedCaNoPoe,
       "The " + std::string(is_signer ? "" : "CA ") + "certificate " + subject + " was revoked on " + when + " (" +
           answer.source + ")" + tail);
}

std::string Join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

}  // namespace

std::optional<TimePoint> Asn1TimeToTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  using namespace std::chrono;
  sys_days date = year(tm.tm_year + 1900) / month(static_cast<unsigned>(tm.tm_mon + 1)) /
                  day(static_cast<unsigned>(tm.tm_mday));
  return TimePoint(date) + hours(tm.tm_hour) + minutes(tm.tm_min) + seconds(tm.tm_sec);
}

std::string SubjectText(X509* cert) {
  // Subjects go to records officers as they are written: UTF-8, not \XX escapes.
  constexpr unsigned long kUtf8Rfc2253 = XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, kUtf8Rfc2253) < 0) {
    ERR_clear_error();
    return "";
  }
  return ToString(BioContents(out.get()));
}

RevocationOutcome CheckRevocation(const RevocationInput& input) {
  RevocationOutcome out;
  if (!input.options->check) {
    out.summary = "not checked (revocation checking is off)";
    return out;
  }
  const int below_anchor = sk_X509_num(input.path) - 1;
  if (below_anchor <= 0) {
    out.summary = "nothing to check: the signer's certificate is itself a trust anchor";
    return out;
  }
  std::vector<std::string> summary;
  int unchecked = 0;
  for (int i = 0; i < below_anchor; ++i) {
    X509* cert = sk_X509_value(input.path, i);
    X509* issuer = sk_X509_value(input.path, i + 1);
    CertificateStatus status = StatusSearch(cert, issuer, input).Run();
    const std::string name = ShortName(cert);
    if (!status.checkable) {
      ++unchecked;
      out.warnings.push_back(SubjectText(cert) +
                             ": revocation not checkable: names no CRL distribution point or OCSP responder");
      summary.push_back(name + ": not checkable");
      continue;
    }
    if (!status.answer) {
      Fail(out, SubIndication::kTryLater,
           "The revocation status of " + SubjectText(cert) +
               " cannot be established: " + (status.problems.empty() ? "no data" : Join(status.problems, "; ")) + ".");
      summary.push_back(name + ": status unknown");
      continue;
    }
    const Answer& answer = *status.answer;
    AddOnce(out.crls, answer.crl);
    AddOnce(out.ocsp_responses, answer.ocsp_response);
    AddOnce(out.certificates, answer.responder);
    switch (answer.state) {
      case CertState::kGood:
        summary.push_back(name + ": good (" + answer.source + ")");
        break;
      case CertState::kOnHold:
        Fail(out, SubIndication::kTryLater,
             "The certificate " + SubjectText(cert) + " is suspended (certificateHold) since " +
                 FormatUtcTime(answer.revoked_at) + " (" + answer.source + "); its status may still change.");
        summary.push_back(name + ": on hold (" + answer.source + ")");
        break;
      case CertState::kRevoked:
        JudgeRevocation(cert, i == 0, answer, input, out);
        summary.push_back(name + ": revoked " + FormatUtcTime(answer.revoked_at) + " (" + answer.source + ")");
        break;
    }
  }
  out.summary = unchecked == below_anchor
                    ? "not checkable: no certificate of the path names a CRL distribution point or OCSP responder"
                    : Join(summary, "; ");
  return out;
}

}  // namespace preserve::signature::internal
