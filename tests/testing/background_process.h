// A server command (`preserve serve`, `preserve tsa serve`) run in the
// background for a test: started, its address read from the "listening on
// ADDRESS" line of its stderr, and stopped with a signal (SIGKILL when the
// object goes, if the test did not stop it).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace preserve::testing {

class BackgroundProcess {
 public:
  // Runs `argv` (argv[0] a path) with `env` added to the environment, and
  // waits up to 30 s for "listening on ADDRESS" on its stderr.
  explicit BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // What followed "listening on ": "127.0.0.1:8443" or "https://127.0.0.1:8443";
  // empty when it never said so (output() tells why).
  const std::string& address() const { return address_; }
  // Its stderr so far.
  const std::string& output() const { return output_; }
  // Reads what stderr has for up to `timeout_ms`.
  void ReadOutput(int timeout_ms);
  // Sends `signal`, waits for the end, and returns the exit code (128 + the
  // signal when one ended it).
  int Stop(int signal);

 private:
  bool ReadSome(int timeout_ms);  // false at the end of stderr

  pid_t pid_ = -1;
  int stderr_ = -1;
  std::string output_;
  std::string address_;
};

}  // namespace preserve::testing
