// The one hook table: for each signal, the recorder's programs that can serve it, best first, with what
// each needs of the kernel. Kernels differ (../README.md, "Supported kernels"): sched_process_exit gained
// group_dead in 6.16, io_uring_complete took a cqe pointer in 6.3, and some kernels refuse fentry.
#include "recorder-hooks.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include <string>

#include "probe.skel.h"

namespace {

// The parameters of a tp_btf tracepoint's BTF prototype (btf_trace_NAME, whose first parameter is the
// tracepoint's private data), without that first one; empty when the kernel has no such tracepoint.
std::vector<const btf_type*> TracepointParams(const btf* vmlinux, const char* name, bool* found) {
  std::vector<const btf_type*> out;
  *found = false;
  std::string typedef_name = std::string("btf_trace_") + name;
  int id = btf__find_by_name_kind(vmlinux, typedef_name.c_str(), BTF_KIND_TYPEDEF);
  if (id <= 0) return out;
  const btf_type* t = btf__type_by_id(vmlinux, id);
  t = btf__type_by_id(vmlinux, t->type);  // pointer
  if (!t || !btf_is_ptr(t)) return out;
  t = btf__type_by_id(vmlinux, t->type);  // func proto
  if (!t || !btf_is_func_proto(t)) return out;
  *found = true;
  const btf_param* p = btf_params(t);
  for (int i = 1; i < btf_vlen(t); i++)
    out.push_back(btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, p[i].type)));
  return out;
}

bool HasFunction(const btf* vmlinux, const char* name) {
  return btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
}

int SilentPrint(enum libbpf_print_level, const char*, va_list) { return 0; }

// Whether an empty fentry program loads here (some kernels refuse fentry with EPERM); errno otherwise.
int FentryLoads() {
  libbpf_print_fn_t previous = libbpf_set_print(SilentPrint);
  probe_bpf* skel = probe_bpf__open();
  int err = skel ? 0 : errno;
  if (skel) {
    bpf_program* prog;
    bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, prog == skel->progs.probe_fentry);
    err = -probe_bpf__load(skel);
    probe_bpf__destroy(skel);
  }
  libbpf_set_print(previous);
  return err;
}

}  // namespace

RecorderHookPlan PlanRecorderHooks(bool durations) {
  RecorderHookPlan plan;
  btf* vmlinux = btf__load_vmlinux_btf();
  auto choose = [&](const char* signal, const char* program, const char* hook) {
    plan.signals.push_back({signal, hook, ""});
    if (program) plan.programs.push_back(program);
  };
  auto none = [&](const char* signal, std::string why) { plan.signals.push_back({signal, "", why}); };

  // Always there from 5.5 on (tp_btf), on every kernel gpo supports.
  plan.programs.push_back("on_sys_exit");
  plan.programs.push_back("on_sched_switch");
  choose("syscalls", nullptr, "tp_btf/sys_exit");
  choose("fork", "on_fork", "tp_btf/sched_process_fork");
  choose("exec", "on_exec", "tp_btf/sched_process_exec");
  choose("rename", "on_rename", "tp_btf/task_rename");
  if (durations) choose("durations", "on_sys_enter", "tp_btf/sys_enter");
  // Acts named by a syscall's arguments: read at syscall exit, with the pid resolved in the caller's
  // namespace from the recorder's own table of followed threads (no kfunc needed).
  choose("acts", nullptr, "tp_btf/sys_exit");
  choose("libcall", "on_libcall", "uprobe.s");

  bool found = false;
  std::vector<const btf_type*> exit_params =
      vmlinux ? TracepointParams(vmlinux, "sched_process_exit", &found) : std::vector<const btf_type*>();
  int fentry_err = FentryLoads();
  if (exit_params.size() >= 2) {
    choose("exit", "on_exit", "tp_btf/sched_process_exit");
  } else if (fentry_err == 0 && vmlinux && HasFunction(vmlinux, "taskstats_exit")) {
    choose("exit", "on_exit_taskstats", "fentry/taskstats_exit");
  } else {
    // Still every exit; only group_dead may be 1 on two threads exiting at the same moment.
    choose("exit", "on_exit_live", "tp_btf/sched_process_exit (group_dead from signal->live)");
  }

  std::vector<const btf_type*> uring = vmlinux ? TracepointParams(vmlinux, "io_uring_complete", &found)
                                               : std::vector<const btf_type*>();
  if (!found) {
    none("io_uring_open", "the kernel has no io_uring_complete tracepoint");
  } else if (uring.size() == 3 && btf_is_ptr(uring[2])) {
    choose("io_uring_open", "on_io_uring_complete", "tp_btf/io_uring_complete");
  } else if (uring.size() >= 4 && btf_is_int(uring[3])) {
    choose("io_uring_open", "on_io_uring_complete_res", "tp_btf/io_uring_complete (res argument)");
  } else {
    none("io_uring_open", "io_uring_complete has arguments gpo does not know");
  }
  plan.fentry_error = fentry_err;
  btf__free(vmlinux);
  return plan;
}

void ApplyHookPlan(bpf_object* obj, const RecorderHookPlan& plan) {
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bool on = false;
    for (const std::string& name : plan.programs) on = on || name == bpf_program__name(prog);
    bpf_program__set_autoload(prog, on);
  }
}
