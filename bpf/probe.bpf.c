// SPDX-License-Identifier: GPL-2.0
// Feature probe for `gpo doctor`: one empty program per hook type, plus the tp_btf hooks gpo records with.
// User space (native/probe.cc) loads and attaches them one at a time, so each result stands alone.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// One program per hook type.

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_tracepoint(void *ctx) { return 0; }

SEC("raw_tp/sys_enter")
int probe_raw_tp(void *ctx) { return 0; }

// Also the hook gpo's syscall recorder uses.
SEC("tp_btf/sys_exit")
int probe_tp_btf(void *ctx) { return 0; }

// Attached by file offset from user space (libbpf 1.1 cannot resolve double-versioned glibc symbols).
SEC("uprobe")
int probe_uprobe(void *ctx) { return 0; }

SEC("fentry/do_sys_openat2")
int probe_fentry(void *ctx) { return 0; }

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file) { return 0; }

SEC("kprobe/do_sys_openat2")
int probe_kprobe(void *ctx) { return 0; }

// The other tp_btf hooks gpo's recorder attaches: process lifecycle, thread names, scheduling, io_uring.

SEC("tp_btf/sched_process_fork")
int probe_sched_process_fork(void *ctx) { return 0; }

SEC("tp_btf/sched_process_exec")
int probe_sched_process_exec(void *ctx) { return 0; }

SEC("tp_btf/sched_process_exit")
int probe_sched_process_exit(void *ctx) { return 0; }

SEC("tp_btf/task_rename")
int probe_task_rename(void *ctx) { return 0; }

SEC("tp_btf/sched_switch")
int probe_sched_switch(void *ctx) { return 0; }

SEC("tp_btf/io_uring_complete")
int probe_io_uring_complete(void *ctx) { return 0; }
