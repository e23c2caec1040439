// libbpf's messages through one print function: echoed to stderr when verbose (--verbose), and kept
// quietly otherwise so that an error can carry libbpf's reason in one line.
#pragma once

#include <string>

// Starts collecting (and echoing when verbose); the reason is reset.
void LibbpfLogBegin(bool verbose);
// libbpf's reason for the last failure: its first warning, and the verifier's last word if it logged one.
std::string LibbpfLogReason();
