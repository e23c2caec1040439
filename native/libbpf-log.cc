#include "libbpf-log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>

#include <sstream>

namespace {

bool echo = false;
bool quiet = false;
bool hold = false;
// Never destroyed: a recorder loading on a pool thread may still log while the process exits.
std::string& first_warning = *new std::string;
std::string& last_log_line = *new std::string;
std::string& held = *new std::string;
bool in_log = false;

std::string Trim(std::string s) {
  if (s.rfind("libbpf: ", 0) == 0) s.erase(0, 8);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

int Print(enum libbpf_print_level level, const char* format, va_list args) {
  if (quiet) return 0;
  if (echo) {
    va_list copy;
    va_copy(copy, args);
    if (hold) {
      char line[8192];
      vsnprintf(line, sizeof line, format, copy);
      held += line;
    } else {
      vfprintf(stderr, format, copy);
    }
    va_end(copy);
  }
  if (level != LIBBPF_WARN) return 0;
  char buf[8192];
  vsnprintf(buf, sizeof buf, format, args);
  // The verifier's log comes as one message between BEGIN and END markers; its last line says why.
  std::istringstream lines(buf);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("-- BEGIN PROG LOAD LOG --") != std::string::npos) {
      in_log = true;
      continue;
    }
    if (line.find("-- END PROG LOAD LOG --") != std::string::npos) {
      in_log = false;
      continue;
    }
    if (in_log) {
      if (!line.empty() && line.rfind("processed ", 0) != 0 && line.rfind("verification time", 0) != 0 &&
          line.rfind("stack depth", 0) != 0)
        last_log_line = Trim(line);
      continue;
    }
    std::string t = Trim(line);
    // Unprivileged, libbpf 1.1 first warns that it cannot raise RLIMIT_MEMLOCK (not needed from 5.11 on).
    if (t.empty() || t.rfind("Failed to bump RLIMIT_MEMLOCK", 0) == 0) continue;
    if (first_warning.empty()) first_warning = t;
  }
  return 0;
}

}  // namespace

void LibbpfLogBegin(bool verbose, bool hold_echo) {
  echo = verbose;
  hold = hold_echo;
  held.clear();
  first_warning.clear();
  last_log_line.clear();
  in_log = false;
  libbpf_set_print(Print);
}

void LibbpfLogRelease() {
  hold = false;
  fwrite(held.data(), 1, held.size(), stderr);
  held.clear();
}

std::string LibbpfLogReason() {
  if (last_log_line.empty()) return first_warning;
  if (first_warning.empty()) return last_log_line;
  return first_warning + " (verifier: " + last_log_line + ")";
}

LibbpfLogQuiet::LibbpfLogQuiet() : was_quiet_(quiet) {
  quiet = true;
  libbpf_set_print(Print);
}

LibbpfLogQuiet::~LibbpfLogQuiet() { quiet = was_quiet_; }
