// libbpf's messages through one print function: echoed to stderr when verbose (--verbose), and kept
// quietly otherwise so that an error can carry libbpf's reason in one line.
#pragma once

#include <string>

// Starts collecting (and echoing when verbose); the reason is reset.
void LibbpfLogBegin(bool verbose);
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
