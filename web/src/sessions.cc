#include "sessions.h"

#include <openssl/crypto.h>

#include <array>

#include "preserve/util/bytes.h"
#include "preserve/util/digest.h"

namespace preserve::web {

Result<std::string> RandomToken() {
  std::array<std::uint8_t, 32> bytes{};
  PRESERVE_RETURN_IF_ERROR(RandomBytes(bytes));
  return ToHex(Bytes(bytes.begin(), bytes.end()));
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

SessionStore::SessionStore(const Clock& clock, std::chrono::minutes idle, std::chrono::hours lifetime)
    : clock_(clock), idle_(idle), lifetime_(lifetime) {}

Result<Session> SessionStore::Start(const std::string& account, archive::Role role) {
  Session s;
  PRESERVE_ASSIGN_OR_RETURN(s.id, RandomToken());
  PRESERVE_ASSIGN_OR_RETURN(s.csrf, RandomToken());
  s.account = account;
  s.role = role;
  s.started = s.last_seen = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  // Ended sessions go when a new one starts: the table stays as large as the
  // sessions in use.
  const TimePoint now = s.started;
  std::erase_if(sessions_, [&](const auto& entry) {
    return now - entry.second.last_seen > idle_ || now - entry.second.started > lifetime_;
  });
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::Find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  const TimePoint now = clock_.Now();
  if (now - it->second.last_seen > idle_ || now - it->second.started > lifetime_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second;
}

void SessionStore::End(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(id);
}

void SessionStore::EndAllOf(const std::string& account) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(sessions_, [&](const auto& entry) { return entry.second.account == account; });
}

SignInGuard::SignInGuard(const Clock& clock, unsigned lockout_after, std::chrono::minutes lockout_for)
    : clock_(clock), lockout_after_(lockout_after), lockout_for_(lockout_for) {}

std::optional<TimePoint> SignInGuard::LockedUntil(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(name);
  if (it == records_.end() || !it->second.locked_until) return std::nullopt;
  if (clock_.Now() >= *it->second.locked_until) {
    records_.erase(it);  // served its time: a fresh count
    return std::nullopt;
  }
  return it->second.locked_until;
}

bool SignInGuard::Failed(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Bounded: names tried without success are forgotten once the table is
  // large, locked ones last (a flood of made-up names must not grow memory).
  if (records_.size() >= 100000) std::erase_if(records_, [](const auto& e) { return !e.second.locked_until; });
  Record& r = records_[name];
  if (++r.failures < lockout_after_) return false;
  r.locked_until = clock_.Now() + lockout_for_;
  return true;
}

void SignInGuard::Succeeded(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.erase(name);
}

}  // namespace preserve::web
