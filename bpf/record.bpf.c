// SPDX-License-Identifier: GPL-2.0
/* The recorder: every syscall of the followed processes, and their forks, execs, exits and renames.
 *
 * Syscall records are staged per CPU and written to the ring buffer 64 at a time (one bpf_ringbuf_output
 * instead of one reserve/submit each: measured about 11 ns cheaper per syscall). A CPU's stage is flushed
 * when it is full, when its oldest record is older than FLUSH_AGE_NS, at every context switch and before
 * any lifecycle record, so the ring buffer keeps each thread's events in order. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "gpo.h"

char LICENSE[] SEC("license") = "GPL";

#define FLUSH_AGE_NS (50 * 1000 * 1000ULL)

/* Set through the skeleton before load. */
const volatile __u64 base_ns = 0;
const volatile bool follow_children = true;
const volatile bool record_durations = false;

/* The followed processes, one bit per tgid. User space seeds it; the fork and exit hooks maintain it, and
 * clearing a bit when its process dies means a reused pid is never followed by mistake. */
__u64 tracked_tgids[GPO_PID_BITMAP_WORDS];
/* `gpo record -- CMD` starts CMD through a launcher; what the launcher does before its exec is not CMD's. */
__u32 launcher_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

struct stage {
	struct gpo_batch_header h;
	__u8 records[GPO_STAGE_RECORDS * sizeof(struct gpo_syscall_timed)];
	__u64 first_ts;
	/* Set while a program on this CPU uses the stage: on a preemptible kernel another task may run a
	 * program here in between, and must not touch a half-written stage. */
	__u32 busy;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stage);
} stages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GPO_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Lost syscall records by syscall number, so a report can say exactly what was lost. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GPO_MAX_SYSCALL);
	__type(key, __u32);
	__type(value, __u64);
} dropped_by_nr SEC(".maps");

/* Syscall entry time per thread, only with durations. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} entry_ts SEC(".maps");

static __always_inline bool is_tracked(__u32 tgid)
{
	__u32 word = tgid >> 6;

	if (word >= GPO_PID_BITMAP_WORDS)
		return false;
	return tracked_tgids[word] & (1ULL << (tgid & 63));
}

static __always_inline void set_tracked(__u32 tgid, bool on)
{
	__u32 word = tgid >> 6;

	if (word >= GPO_PID_BITMAP_WORDS)
		return;
	if (on)
		__sync_fetch_and_or(&tracked_tgids[word], 1ULL << (tgid & 63));
	else
		__sync_fetch_and_and(&tracked_tgids[word], ~(1ULL << (tgid & 63)));
}

static __always_inline void count(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += n;
}

static __always_inline __u32 record_size(void)
{
	return record_durations ? sizeof(struct gpo_syscall_timed) : sizeof(struct gpo_syscall);
}

static __always_inline void count_dropped_syscall(__u64 ts_nr)
{
	__u32 nr = ts_nr >> GPO_TS_BITS;
	__u64 *c;

	if (nr >= GPO_MAX_SYSCALL)
		nr = GPO_MAX_SYSCALL - 1;
	c = bpf_map_lookup_elem(&dropped_by_nr, &nr);
	if (c)
		*c += 1;
}

/* Writes the staged records as one ring-buffer record; the caller holds the stage (busy). */
static __always_inline void flush_stage(struct stage *s)
{
	__u32 n = s->h.count;
	__u32 size = record_size();

	if (n == 0)
		return;
	if (n > GPO_STAGE_RECORDS)
		n = GPO_STAGE_RECORDS;
	s->h.type = GPO_REC_SYSCALLS;
	s->h.record_size = size;
	if (bpf_ringbuf_output(&events, s, sizeof(s->h) + n * size, BPF_RB_NO_WAKEUP) == 0) {
		count(GPO_CNT_BATCHES, 1);
	} else {
		count(GPO_CNT_SYSCALLS_DROPPED, n);
		for (__u32 i = 0; i < GPO_STAGE_RECORDS; i++) {
			if (i >= n)
				break;
			__u32 off = i * size;
			if (off > sizeof(s->records) - sizeof(struct gpo_syscall))
				break;
			count_dropped_syscall(((struct gpo_syscall *)(s->records + off))->ts_nr);
		}
	}
	s->h.count = 0;
}

static __always_inline struct stage *claim_stage(void)
{
	__u32 zero = 0;
	struct stage *s = bpf_map_lookup_elem(&stages, &zero);

	if (!s || s->busy)
		return NULL;
	s->busy = 1;
	asm volatile("" ::: "memory");
	return s;
}

static __always_inline void release_stage(struct stage *s)
{
	asm volatile("" ::: "memory");
	s->busy = 0;
}

/* Lifecycle records follow the syscalls this thread made before them. */
static __always_inline void flush_this_cpu(void)
{
	struct stage *s = claim_stage();

	if (!s)
		return;
	flush_stage(s);
	release_stage(s);
}

static __always_inline void fill_header(struct gpo_event_header *h, __u32 type, __u32 tgid, __u32 tid)
{
	h->type = type;
	h->tgid = tgid;
	h->tid = tid;
	h->pad = 0;
	h->ts = bpf_ktime_get_ns() - base_ns;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	__u64 *t;

	if (!is_tracked(bpf_get_current_pid_tgid() >> 32))
		return 0;
	t = bpf_task_storage_get(&entry_ts, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		*t = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct gpo_syscall_timed rec;
	struct stage *s;
	__u64 now, nr;
	__u32 i, size;

	if (!is_tracked(tgid) || tgid == launcher_tgid)
		return 0;
	now = bpf_ktime_get_ns();
	nr = regs->orig_ax & 0xffff;
	rec.core.ts_nr = ((now - base_ns) & GPO_TS_MASK) | (nr << GPO_TS_BITS);
	rec.core.ret = ret;
	rec.core.tgid = tgid;
	rec.core.tid = (__u32)id;
	rec.duration_ns = 0;
	if (record_durations) {
		__u64 *t = bpf_task_storage_get(&entry_ts, bpf_get_current_task_btf(), 0, 0);

		if (t && *t && *t <= now)
			rec.duration_ns = now - *t;
	}
	size = record_size();

	s = claim_stage();
	if (!s) {
		/* Another program holds this CPU's stage (we preempted it): write this record on its own. */
		struct {
			struct gpo_batch_header h;
			struct gpo_syscall_timed r;
		} one = { .h = { .type = GPO_REC_SYSCALLS, .count = 1, .record_size = size }, .r = rec };

		if (bpf_ringbuf_output(&events, &one, sizeof(one.h) + size, BPF_RB_NO_WAKEUP)) {
			count(GPO_CNT_SYSCALLS_DROPPED, 1);
			count_dropped_syscall(rec.core.ts_nr);
		}
		return 0;
	}
	i = s->h.count;
	if (i >= GPO_STAGE_RECORDS) {
		flush_stage(s);
		i = 0;
	}
	if (i == 0)
		s->first_ts = now;
	if (record_durations)
		*(struct gpo_syscall_timed *)(s->records + i * sizeof(struct gpo_syscall_timed)) = rec;
	else
		*(struct gpo_syscall *)(s->records + i * sizeof(struct gpo_syscall)) = rec.core;
	s->h.count = i + 1;
	if (i + 1 >= GPO_STAGE_RECORDS || now - s->first_ts > FLUSH_AGE_NS)
		flush_stage(s);
	release_stage(s);
	return 0;
}

/* A task leaving the CPU may next run on another one: flush so its records stay in order. */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 zero = 0;
	struct stage *s = bpf_map_lookup_elem(&stages, &zero);

	if (!s || s->h.count == 0 || s->busy)
		return 0;
	s->busy = 1;
	flush_stage(s);
	s->busy = 0;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	__u32 ctgid = child->tgid;
	struct gpo_fork_event *e;

	if (!is_tracked(ptgid))
		return 0;
	if (ctgid != ptgid && follow_children)
		set_tracked(ctgid, true);
	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return 0;
	}
	fill_header(&e->h, GPO_REC_FORK, ptgid, parent->pid);
	e->child_tgid = ctgid;
	e->child_tid = child->pid;
	bpf_probe_read_kernel_str(e->child_comm, sizeof(e->child_comm), child->comm);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct gpo_exec_event *e;
	unsigned long arg_start, arg_end, len;
	long n;

	if (!is_tracked(tgid))
		return 0;
	if (tgid == launcher_tgid)
		launcher_tgid = 0;
	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return 0;
	}
	fill_header(&e->h, GPO_REC_EXEC, tgid, p->pid);
	e->old_tid = old_pid;
	e->flags = 0;
	e->pad = 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), p->comm);
	n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	if (n == sizeof(e->path)) {
		e->flags |= GPO_EXEC_PATH_TRUNCATED;
		count(GPO_CNT_PATH_TRUNCATED, 1);
	}
	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > GPO_ARGV_LEN) {
		len = GPO_ARGV_LEN;
		e->flags |= GPO_EXEC_ARGV_TRUNCATED;
		count(GPO_CNT_ARGV_TRUNCATED, 1);
	}
	if (bpf_probe_read_user(e->argv, len, (void *)arg_start))
		len = 0;
	e->argv_len = len;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task, bool group_dead)
{
	__u32 tgid = task->tgid;
	struct gpo_exit_event *e;

	if (!is_tracked(tgid))
		return 0;
	if (group_dead)
		set_tracked(tgid, false);
	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return 0;
	}
	fill_header(&e->h, GPO_REC_EXIT, tgid, task->pid);
	e->exit_code = task->exit_code;
	e->group_dead = group_dead;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *task, const char *comm)
{
	__u32 tgid = task->tgid;
	struct gpo_rename_event *e;

	if (!is_tracked(tgid))
		return 0;
	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return 0;
	}
	fill_header(&e->h, GPO_REC_RENAME, tgid, task->pid);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}
