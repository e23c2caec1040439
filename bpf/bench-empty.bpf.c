// SPDX-License-Identifier: GPL-2.0
// The floor for bench/record: a tp_btf program on the recorder's syscall hook that returns at once, so the
// recorder's cost can be read against what any tp_btf tracer pays.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_exit")
int empty_sys_exit(void *ctx) { return 0; }
