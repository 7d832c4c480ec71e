// Who is signed in, and who may not try again yet.
//
// SessionStore keeps sessions in memory: a session is a random 256-bit id
// (the cookie), the account, its role, a CSRF token of its own and the
// language chosen. It ends on sign-out, after `idle` without a request, and
// after `lifetime` in any case; a service restart ends all of them. The
// role is read again from the store on every request (WebApp does that), so
// disabling an account or changing its role takes effect at once.
//
// SignInGuard counts failed sign-ins per account name: `lockout_after`
// failures in a row lock the name for `lockout_for` (by the archive's
// clock); a success clears the count. Names without an account are counted
// the same way, so that a lock does not tell which names exist.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "preserve/archive/accounts.h"
#include "preserve/util/clock.h"

namespace preserve::web {

struct Session {
  std::string id;    // the cookie's value: 64 hex digits
  std::string csrf;  // the token every form of this session carries: 64 hex digits
  std::string account;
  archive::Role role = archive::Role::kOfficer;
  TimePoint started;
  TimePoint last_seen;
};

class SessionStore {
 public:
  SessionStore(const Clock& clock, std::chrono::minutes idle, std::chrono::hours lifetime);
  // A new session for the account (after a sign-in).
  Result<Session> Start(const std::string& account, archive::Role role);
  // The session with that id, its last_seen moved on; nullopt when unknown or ended.
  std::optional<Session> Find(const std::string& id);
  void End(const std::string& id);
  // Ends every session of the account (disabled, password changed).
  void EndAllOf(const std::string& account);

 private:
  const Clock& clock_;
  std::chrono::minutes idle_;
  std::chrono::hours lifetime_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

class SignInGuard {
 public:
  SignInGuard(const Clock& clock, unsigned lockout_after, std::chrono::minutes lockout_for);
  // Until when the name is locked; nullopt when it may try.
  std::optional<TimePoint> LockedUntil(const std::string& name);
  // Returns true when this failure locks the name.
  bool Failed(const std::string& name);
  void Succeeded(const std::string& name);

 private:
  struct Record {
    unsigned failures = 0;
    std::optional<TimePoint> locked_until;
  };
  const Clock& clock_;
  unsigned lockout_after_;
  std::chrono::minutes lockout_for_;
  std::mutex mutex_;
  std::map<std::string, Record> records_;
};

// 32 random bytes as 64 hex digits.
Result<std::string> RandomToken();
// Compares in time that does not depend on where they differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace preserve::web
