// Process control for ending the tree gpo launched. gpo becomes a child subreaper, so the orphans of that
// tree (a double fork, a daemon) are reparented to gpo rather than to init and stay findable below it; and
// it signals a process through a pidfd opened after checking the process is still the one gpo saw (same
// start time), so a pid reused in between is never signalled.
#include "process-control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace {

// becomeChildSubreaper(): undefined, or strerror text when the kernel refuses.
Napi::Value BecomeChildSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return Napi::String::New(env, strerror(errno));
  return env.Undefined();
}

// Field 22 of /proc/PID/stat (start time in clock ticks after boot), or "" when the process is gone.
std::string StartTicks(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* file = fopen(path, "r");
  if (!file) return "";
  char buffer[4096];
  size_t length = fread(buffer, 1, sizeof buffer - 1, file);
  fclose(file);
  buffer[length] = 0;
  // comm may hold spaces and parentheses: the fields after it start after the last ')'.
  char* field = strrchr(buffer, ')');
  if (!field) return "";
  // After ')' come fields 3, 4, ...: skip 19 separators to reach field 22.
  for (int skip = 0; skip < 20 && field; skip++) field = strchr(field + 1, ' ');
  if (!field) return "";
  field++;
  return std::string(field, strcspn(field, " "));
}

// signalProcess(pid, startTicks, signal): "sent"; "gone" when no process with that pid and start time is
// left (exited, or its pid reused); else the strerror text.
Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  std::string start = info[1].As<Napi::String>().Utf8Value();
  int signal = info[2].As<Napi::Number>().Int32Value();
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return Napi::String::New(env, errno == ESRCH ? "gone" : strerror(errno));
  // The pidfd now pins one process: if it is not the one seen, the pid was reused before the open.
  if (StartTicks(pid) != start) {
    close(fd);
    return Napi::String::New(env, "gone");
  }
  long sent = syscall(SYS_pidfd_send_signal, fd, signal, nullptr, 0);
  int error = errno;
  close(fd);
  if (sent == 0) return Napi::String::New(env, "sent");
  return Napi::String::New(env, error == ESRCH ? "gone" : strerror(error));
}

// reapChild(pid): true when pid was a child of this process that had exited and is now reaped. For the
// orphans gpo inherits as subreaper only: Node's own children are Node's to wait for.
Napi::Value ReapChild(const Napi::CallbackInfo& info) {
  int pid = info[0].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(info.Env(), pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid);
}

}  // namespace

void InitProcessControl(Napi::Env env, Napi::Object exports) {
  exports.Set("becomeChildSubreaper", Napi::Function::New(env, BecomeChildSubreaper, "becomeChildSubreaper"));
  exports.Set("signalProcess", Napi::Function::New(env, SignalProcess, "signalProcess"));
  exports.Set("reapChild", Napi::Function::New(env, ReapChild, "reapChild"));
}
