// The one hook table: for each signal, the recorder's programs that can serve it, best first, with what
// each needs of the kernel. Kernels differ (../README.md, "Supported kernels"): sched_process_exit gained
// group_dead in 6.16, io_uring_complete took a cqe pointer in 6.3, and some kernels refuse fentry.
#include "recorder-hooks.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "libbpf-log.h"
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
  for (int i = 1; i < btf_vlen(t); i++) out.push_back(btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, p[i].type)));
  return out;
}

bool HasFunction(const btf* vmlinux, const char* name) {
  return btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
}

// Whether an empty program of probe.bpf.c loads here (some kernels refuse fentry and lsm with EPERM) and,
// with attach, also attaches (a kernel without CONFIG_KPROBES loads kprobe programs but has nothing to
// attach them to): 0, or the errno.
int ProbeProgram(const char* program, bool attach) {
  LibbpfLogQuiet quiet;
  probe_bpf* skel = probe_bpf__open();
  int err = skel ? 0 : errno;
  if (skel) {
    bpf_program* prog;
    bpf_program* chosen = nullptr;
    bpf_object__for_each_program(prog, skel->obj) {
      bool on = strcmp(bpf_program__name(prog), program) == 0;
      bpf_program__set_autoload(prog, on);
      if (on) chosen = prog;
    }
    err = -probe_bpf__load(skel);
    if (!err && attach && chosen) {
      bpf_link* link = bpf_program__attach(chosen);
      err = link ? 0 : errno;
      bpf_link__destroy(link);
    }
    probe_bpf__destroy(skel);
  }
  return err;
}

// The same for an empty fentry or lsm program, loaded without libbpf: its target is found in the kernel's
// BTF the plan has parsed, where libbpf would parse it again (50-70 ms of gpo record's start). Loads as
// libbpf loads the probe's program: the type, the attach type and the target's BTF id, GPL.
int ProbeBtfProgram(const btf* vmlinux, bpf_prog_type type, bpf_attach_type attach, const char* function) {
  int id = btf__find_by_name_kind(vmlinux, function, BTF_KIND_FUNC);
  if (id <= 0) return ESRCH;  // what libbpf says of a target it cannot find
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
  insns[0].dst_reg = BPF_REG_0;
  insns[1].code = BPF_JMP | BPF_EXIT;
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = uint32_t(id));
  int fd = bpf_prog_load(type, nullptr, "GPL", insns, 2, &opts);
  if (fd < 0) return -fd;
  close(fd);
  return 0;
}

// probe_fentry and probe_lsm of probe.bpf.c (fentry/do_sys_openat2, lsm/file_open): without the kernel's
// BTF, as libbpf says it.
int ProbeFentry(const btf* vmlinux) {
  return vmlinux ? ProbeBtfProgram(vmlinux, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_sys_openat2")
                 : ProbeProgram("probe_fentry", false);
}
int ProbeLsm(const btf* vmlinux) {
  return vmlinux ? ProbeBtfProgram(vmlinux, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bpf_lsm_file_open")
                 : ProbeProgram("probe_lsm", false);
}

// The bpf LSM must be among the active LSMs for lsm/ programs to be called at all; unknown (true) when
// securityfs is not mounted.
bool BpfLsmActive() {
  FILE* f = fopen("/sys/kernel/security/lsm", "r");
  if (!f) return true;
  char list[512] = {};
  size_t n = fread(list, 1, sizeof list - 1, f);
  fclose(f);
  std::string lsms = "," + std::string(list, n) + ",";
  return lsms.find(",bpf,") != std::string::npos || lsms.find(",bpf\n") != std::string::npos;
}

}  // namespace

RecorderHookPlan PlanRecorderHooks(bool durations, bool acts) {
  RecorderHookPlan plan;
  btf* vmlinux = btf__load_vmlinux_btf();
  auto use = [&](const char* program) { plan.programs.push_back(program); };
  auto serve = [&](const char* signal, std::string hook) { plan.signals.push_back({signal, hook, ""}); };
  auto none = [&](const char* signal, std::string why) { plan.signals.push_back({signal, "", why}); };

  // tp_btf and the ring buffer: every kernel gpo supports (5.8 on) has them.
  use("on_sys_exit");
  use("on_sched_switch");
  use("on_timer_expire");
  use("on_fork");
  use("on_exec");
  use("on_rename");
  serve("syscalls", "tp_btf/sys_exit");
  if (durations) {
    use("on_sys_enter");
    serve("syscall_entry", "tp_btf/sys_enter");
  }
  serve("fork", "tp_btf/sched_process_fork");
  serve("exec", "tp_btf/sched_process_exec");
  serve("rename", "tp_btf/task_rename");
  serve(
      "flush",
      "tp_btf/sched_switch + tp_btf/hrtimer_expire_entry (a stage waiting 10 ms on a CPU that spins without syscalls)");

  bool found = false;
  std::vector<const btf_type*> exit_params =
      vmlinux ? TracepointParams(vmlinux, "sched_process_exit", &found) : std::vector<const btf_type*>();
  if (exit_params.size() >= 2) {
    use("on_exit");
    serve("exit", "tp_btf/sched_process_exit");
  } else if (ProbeFentry(vmlinux) == 0 && vmlinux && HasFunction(vmlinux, "taskstats_exit")) {
    use("on_exit_taskstats");
    serve("exit", "fentry/taskstats_exit (sched_process_exit has no group_dead before 6.16)");
  } else {
    use("on_exit_live");
    serve("exit",
          "tp_btf/sched_process_exit (group_dead from signal->live: two threads exiting at once may both show it)");
  }

  if (acts) {
    // Acts named by a syscall's arguments are read at syscall exit; a pid is resolved in the caller's pid
    // namespace through the recorder's table of followed threads, files from the kernel's own objects.
    serve("ptrace", "tp_btf/sys_exit (ptrace; target resolved in the caller's pid namespace)");
    serve("vm_read", "tp_btf/sys_exit (process_vm_readv)");
    serve("vm_write", "tp_btf/sys_exit (process_vm_writev)");
    serve(
        "proc_open",
        "tp_btf/sys_exit (open, openat, openat2; procfs inode -> struct pid when the open succeeded, path otherwise)");
    // Signals by every route (kill(0), kill(-pgid), killpg, kill(-1) name no pid): the tracepoint fires for
    // each process a signal is generated for; what it cannot see (refused, signal 0) the syscall exit does.
    bool signal_tracepoint = false;
    if (vmlinux) TracepointParams(vmlinux, "signal_generate", &signal_tracepoint);
    if (signal_tracepoint) {
      use("on_signal_generate");
      serve("signal",
            "tp_btf/signal_generate (every signal another process generates for a followed one, whatever the route: "
            "kill(pid), kill(0), kill(-pgid), killpg, kill(-1), tkill, tgkill, rt_sigqueueinfo, pidfd_send_signal) + "
            "tp_btf/sys_exit (refused ones and signal 0, which generate none, when the pid names the target)");
    } else {
      none("signal",
           "the kernel has no signal_generate tracepoint: only refused signals and signal 0 naming the target's pid "
           "are recorded");
    }
    serve("pidfd", "tp_btf/sys_exit (pidfd_open, pidfd_getfd)");
    serve("perf_open", "tp_btf/sys_exit (perf_event_open)");
    serve("module_load", "tp_btf/sys_exit (init_module, finit_module)");
    serve("bpf_load", "tp_btf/sys_exit (bpf BPF_PROG_LOAD)");
    serve("device_open", "tp_btf/sys_exit (opens of /dev/uinput, /dev/mem, /dev/kmem, /proc/kcore)");
    serve("mmap_exec",
          "tp_btf/sys_exit (mmap with PROT_EXEC of a file; path from the kernel file object: memfd and SysV shm by "
          "their own name, \" (deleted)\" when the file has no name left)");
    serve("exec_memory",
          "tp_btf/sys_exit (anonymous mmap with PROT_EXEC, mprotect and pkey_mprotect adding PROT_EXEC, shmat with "
          "SHM_EXEC; the mapping's file when it has one)");
    serve("memfd_create", "tp_btf/sys_exit (memfd_create)");
    serve("io_uring_setup", "tp_btf/sys_exit (io_uring_setup)");
    serve("loader_env",
          "tp_btf/sched_process_exec (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH in the new program's environment)");

    std::vector<const btf_type*> uring =
        vmlinux ? TracepointParams(vmlinux, "io_uring_complete", &found) : std::vector<const btf_type*>();
    if (!found) {
      none("io_uring_open", "the kernel has no io_uring_complete tracepoint (io_uring off)");
    } else if (uring.size() == 3 && btf_is_ptr(uring[2])) {
      use("on_io_uring_complete");
      serve("io_uring_open", "tp_btf/io_uring_complete (IORING_OP_OPENAT, OPENAT2: res from the cqe)");
    } else if (uring.size() >= 4 && btf_is_int(uring[3])) {
      use("on_io_uring_complete_res");
      serve("io_uring_open", "tp_btf/io_uring_complete (IORING_OP_OPENAT, OPENAT2: res argument, before 6.3)");
    } else {
      none("io_uring_open", "io_uring_complete has arguments gpo does not know");
    }
    // Opens through /proc/PID/fd/N and /proc/PID/map_files/RANGE give the file the link points at, not a
    // procfs file: only the follow of the magic link says whose it was.
    // Without a kprobe, the open's path says it (proc-links.h), which a symlink or ../ route avoids.
    int kprobe_error = ProbeProgram("probe_kprobe", true);
    bool link_function = vmlinux && HasFunction(vmlinux, "proc_pid_get_link");
    if (!kprobe_error && link_function) {
      use("on_proc_link");
      serve("proc_link_open",
            "kprobe/proc_pid_get_link + tp_btf/sys_exit (opens through /proc/<target>/fd/N and "
            "/proc/<target>/map_files/RANGE by other processes, whatever path reached the link: proc_open rows with "
            "the link's path and the opened file's device and inode)");
    } else {
      serve("proc_link_open",
            std::string(
                "tp_btf/sys_exit by the open's path only (/proc/<target>/[task/TID/](fd|map_files)/X, or relative to a "
                "directory of the target's procfs entry; a symlink or ../ route to the link is not seen): ") +
                (kprobe_error ? std::string("kprobes do not attach here: ") + strerror(kprobe_error)
                              : std::string("the kernel has no proc_pid_get_link to probe")));
    }
    // Accesses to a followed process's procfs files through a descriptor opened before recording (or by a
    // route no open hook saw): only an LSM hook sees every read and write.
    int lsm_error = ProbeLsm(vmlinux);
    if (lsm_error) {
      none("proc_access", std::string("needs BPF LSM (lsm/file_permission), refused here: ") + strerror(lsm_error));
    } else if (!BpfLsmActive()) {
      none("proc_access",
           "needs BPF LSM (lsm/file_permission): bpf is not among the active LSMs (boot with lsm=...,bpf)");
    } else {
      use("on_file_permission");
      use("on_file_free");
      serve("proc_access",
            "lsm/file_permission (reads and writes of /proc/<target>/ files through descriptors whose open gpo did not "
            "see)");
    }
    use("on_libcall");
    serve("libcall", "uprobe.s (by file offset, filtered by tgid in the program)");
  }
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
