// Which of the recorder's programs serve each signal on the running kernel: the one hook table. The
// recorder switches off the programs not chosen before load; doctor and the trace metadata report it.
#pragma once

#include <string>
#include <vector>

struct bpf_object;

struct HookChoice {
  std::string signal;       // what the rows are (e.g. "exit")
  std::string hook;         // the section that serves it here, empty when none can
  std::string unavailable;  // why no hook can, when hook is empty
};

struct RecorderHookPlan {
  std::vector<HookChoice> signals;
  std::vector<std::string> programs;  // programs to load, by name
};

// Reads the kernel's BTF (tracepoint prototypes, functions) and tries an empty fentry program. durations:
// syscall entry times; acts: tampering, system-wide and in-target rows and library calls.
RecorderHookPlan PlanRecorderHooks(bool durations, bool acts);

// Sets each program's autoload from the plan.
void ApplyHookPlan(bpf_object* obj, const RecorderHookPlan& plan);
