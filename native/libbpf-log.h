// libbpf's messages through one print function: echoed to stderr when verbose (--verbose), and kept
// quietly otherwise so that an error can carry libbpf's reason in one line.
#pragma once

#include <string>

// Starts collecting (and echoing when verbose); the reason is reset. hold_echo: the echo is kept until
// LibbpfLogRelease (a load on another thread speaks when its result is taken, not in the middle of others).
void LibbpfLogBegin(bool verbose, bool hold_echo = false);
// Writes the echo held since LibbpfLogBegin(verbose, true) to stderr and stops holding.
void LibbpfLogRelease();
// libbpf's reason for the last failure: its first warning, and the verifier's last word if it logged one.
std::string LibbpfLogReason();

// While one lives, libbpf's messages are neither echoed nor kept: for probes whose failure is an answer
// (recorder-hooks.cc), not an error to explain.
class LibbpfLogQuiet {
 public:
  LibbpfLogQuiet();
  ~LibbpfLogQuiet();
  LibbpfLogQuiet(const LibbpfLogQuiet&) = delete;
  LibbpfLogQuiet& operator=(const LibbpfLogQuiet&) = delete;

 private:
  bool was_quiet_;
};
