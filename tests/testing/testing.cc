#include "testing.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "preserve/util/certificates.h"

extern char** environ;

namespace preserve::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::filesystem::path base = std::filesystem::path(PRESERVE_BINARY_DIR) / "test-tmp";
  std::filesystem::create_directories(base);
  path_ = base / ("t" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                  std::to_string(rd() % 100000));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path SourceDir() { return PRESERVE_SOURCE_DIR; }
std::filesystem::path BinaryDir() { return PRESERVE_BINARY_DIR; }

std::filesystem::path FixturePath(const std::string& relative) { return SourceDir() / "tests" / "fixtures" / relative; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::map<std::string, std::string> ReadEnvFile(const std::filesystem::path& path) {
  std::map<std::string, std::string> vars;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const std::string prefix = "export ";
    if (line.rfind(prefix, 0) != 0) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    vars[line.substr(prefix.size(), eq - prefix.size())] = line.substr(eq + 1);
  }
  return vars;
}

Bytes SignedFixture(const std::string& name) { return ReadFileOrDie(FixturePath("signed/" + name)); }

Bytes PkiCertificate(const std::string& name) {
  auto certs = LoadCertificates(FixturePath("pki/" + name + ".pem"));
  EXPECT_TRUE(certs.ok()) << certs.status().ToString();
  return certs.ok() ? certs->front() : Bytes{};
}

CommandResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  const RunOptions& options) {
  using SteadyClock = std::chrono::steady_clock;
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (!options.drop_inherited_preserve_env || std::strncmp(*e, "PRESERVE_", 9) != 0) env_strings.emplace_back(*e);
  for (const auto& e : env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  const SteadyClock::time_point start = SteadyClock::now();
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = std::string("cannot start ") + argv[0] + ": " + std::strerror(rc);
    return result;
  }
  std::optional<SteadyClock::time_point> deadline;
  if (options.kill_after) deadline = start + *options.kill_after;
  // Read both pipes together so a chatty child never blocks on a full pipe.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    timespec wait{};
    timespec* timeout = nullptr;
    if (deadline && !result.kill_timer_fired) {
      auto left = std::max<SteadyClock::duration>(SteadyClock::duration::zero(), *deadline - SteadyClock::now());
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      wait.tv_sec = static_cast<time_t>(ns / 1000000000);
      wait.tv_nsec = static_cast<long>(ns % 1000000000);
      timeout = &wait;
    }
    int ready = ::ppoll(fds, 2, timeout, nullptr);
    if (ready < 0 && errno != EINTR) break;
    if (deadline && !result.kill_timer_fired && SteadyClock::now() >= *deadline) {
      ::kill(pid, SIGKILL);  // not yet reaped, so still our child even if it has just exited
      result.kill_timer_fired = true;
    }
    for (int i = 0; i < 2 && ready > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  result.peak_rss_kib = static_cast<std::uint64_t>(usage.ru_maxrss);  // Linux: kibibytes
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
  result.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void WriteFile(const std::filesystem::path& path, std::string_view data) { WriteFile(path, AsBytes(data)); }

void WriteFile(const std::filesystem::path& path, ByteView data) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

Bytes ReadFileOrDie(const std::filesystem::path& path) {
  auto data = ReadFile(path);
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return data.ok() ? data.value() : Bytes{};
}

Bytes PatternBytes(std::size_t size, std::uint8_t seed) {
  Bytes out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

}  // namespace preserve::testing
