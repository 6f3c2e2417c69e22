#pragma once
// Starts a program for an end-to-end test and makes sure it is gone when the test ends, whatever happens: output
// to files in a scratch directory, every wait bounded, SIGKILL on destruction.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace ferry::testing {

// The emulator prefix a cross-built test must put before the programs it starts ("" natively).
inline std::vector<std::string> emulator_prefix(const char* emulator) {
  std::vector<std::string> words;
  std::istringstream in(emulator);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

class child_process {
 public:
  // Starts argv[0] with argv; stdout and stderr go to <output_stem>.out and <output_stem>.err. The environment is
  // this process's, or `environment` ("NAME=value" each) when given.
  child_process(std::vector<std::string> argv, const std::string& output_stem,
                std::optional<std::vector<std::string>> environment = std::nullopt)
      : _out_path(output_stem + ".out"), _err_path(output_stem + ".err") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, _out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, _err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<char*> variables;
    if (environment) {
      for (std::string& v : *environment) variables.push_back(v.data());
      variables.push_back(nullptr);
    }
    char** const env = environment ? variables.data() : environ;
    if (posix_spawnp(&_pid, args[0], &actions, nullptr, args.data(), env) != 0) _pid = -1;
    posix_spawn_file_actions_destroy(&actions);
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process() {
    if (running()) {
      ::kill(_pid, SIGKILL);
      wait_for(std::chrono::seconds(5));
    }
  }

  bool started() const noexcept { return _pid > 0; }
  // The process's id (under an emulator, the emulator's process, which runs the program), -1 when not started.
  pid_t pid() const noexcept { return _pid; }

  bool running() {
    if (_pid <= 0 || _status) return false;
    int status = 0;
    if (::waitpid(_pid, &status, WNOHANG) == _pid) _status = status;
    return !_status;
  }

  void signal(int number) {
    if (running()) ::kill(_pid, number);
  }

  // The exit code once the process has exited within `limit`; nothing when it is still running (or was killed by
  // a signal, reported as 128 + signal).
  std::optional<int> wait_for(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!_status) return std::nullopt;
    if (WIFEXITED(*_status)) return WEXITSTATUS(*_status);
    return 128 + WTERMSIG(*_status);
  }

  std::string out() const { return slurp(_out_path); }
  std::string err() const { return slurp(_err_path); }

 private:
  static std::string slurp(const std::string& path) {
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
  }

  pid_t _pid = -1;
  std::optional<int> _status;
  std::string _out_path;
  std::string _err_path;
};

}  // namespace ferry::testing
