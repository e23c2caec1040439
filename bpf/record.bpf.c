// SPDX-License-Identifier: GPL-2.0
/* The recorder: every syscall of the followed processes, and their forks, execs, exits and renames.
 *
 * Syscall records are staged per CPU and written to the ring buffer 64 at a time (one bpf_ringbuf_output
 * instead of one reserve/submit each: measured about 11 ns cheaper per syscall). A CPU's stage is flushed
 * when it is full, when its oldest record is older than FLUSH_AGE_NS, at every context switch and before
 * any lifecycle record, so the ring buffer keeps each thread's events in order; and at a timer interrupt
 * once older than TICK_FLUSH_AGE_NS, so a CPU spinning in user space does not hold its last rows back.
 *
 * This file holds the programs; their helpers are in record/, one header per concern (config, staging,
 * tracked set, path walk, pid resolution, acts, lifecycle). User space chooses which programs load on the
 * running kernel (native/recorder-hooks.cc). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "gpo.h"
#include "record/config.h"
#include "record/staging.h"
#include "record/tracked.h"
#include "record/path.h"
#include "record/pids.h"
#include "record/acts.h"
#include "record/signals.h"
#include "record/lifecycle.h"
#include "record/loader-env.h"

char LICENSE[] SEC("license") = "GPL";

/* The tracepoint's arguments changed in 6.3 (a cqe pointer instead of user_data, res, cflags...): user
 * space loads the one that matches the kernel's BTF, so res is never read from the wrong argument. */
/* Every signal generated for a followed process, whatever route named it (record/signals.h). */
SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
	     int result)
{
	act_on_signal(sig, info, task, result);
	return 0;
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_io_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	io_uring_opened(req, BPF_CORE_READ(cqe, res));
	return 0;
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_io_uring_complete_res, void *ring, void *req, __u64 user_data, int res)
{
	io_uring_opened(req, res);
	return 0;
}

/* BPF LSM (where the kernel lets it load; user space switches these off elsewhere): a read or write of a
 * followed process's procfs file through a descriptor whose opening gpo did not see is a proc_open row
 * (once per file) with the access mask (MAY_READ 4, MAY_WRITE 2) as addr. */
SEC("lsm/file_permission")
int BPF_PROG(on_file_permission, struct file *file, int mask)
{
	struct inode *inode = file->f_inode;
	__u32 actor = bpf_get_current_pid_tgid() >> 32;
	__u32 target, tid = 0;
	struct gpo_act_event *e;
	struct pt_regs *regs;
	__u64 key = (__u64)file;
	__u8 one = 1;

	if (!observe_acts || inode->i_sb->s_magic != PROC_SUPER_MAGIC || actor == gpo_tgid)
		return 0;
	target = resolve_pid(BPF_CORE_READ(container_of(inode, struct proc_inode, vfs_inode), pid), &tid);
	if (!target || !is_tracked(target) || target == actor || bpf_map_lookup_elem(&proc_files_seen, &key))
		return 0;
	bpf_map_update_elem(&proc_files_seen, &key, &one, BPF_ANY);
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	e = act_begin(GPO_KIND_PROC_OPEN, BPF_CORE_READ(regs, orig_ax) & 0xffff, 0);
	if (!e)
		return 0;
	e->target_tgid = target;
	e->target_tid = tid;
	e->request = BPF_CORE_READ(file, f_flags);
	e->addr = mask;
	put_file(e, file);
	event_submit(e);
	return 0;
}

SEC("lsm/file_free_security")
int BPF_PROG(on_file_free, struct file *file)
{
	__u64 key = (__u64)file;

	bpf_map_delete_elem(&proc_files_seen, &key);
	return 0;
}

/* Every follow of a /proc/PID/ magic link, in the follower's context (record/proc-links.h). */
SEC("kprobe/proc_pid_get_link")
int BPF_KPROBE(on_proc_link, struct dentry *dentry)
{
	note_proc_link(dentry);
	return 0;
}

/* Library calls of followed processes: one uprobe per function; the attach cookie says which one
 * (low 16 bits: index into the addon's function table; bits 16..23: the argument that is a string).
 * Sleepable, so the string argument can be read even from a page not yet touched (a literal in .rodata
 * often is not when dlopen or dlsym is called). */
SEC("uprobe.s")
int BPF_KPROBE(on_libcall)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 arg = (cookie >> 16) & 0xff;
	struct gpo_act_event *e;
	const void *s;

	if (!is_tracked(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = act_begin(GPO_KIND_LIBCALL, 0, 0);
	if (!e)
		return 0;
	e->request = cookie & 0xffff;
	e->addr = PT_REGS_PARM1(ctx);
	e->size = PT_REGS_PARM2(ctx);
	s = arg == 1 ? (void *)e->addr : arg == 2 ? (void *)e->size : NULL;
	if (s)
		copy_user_string(e, s);
	event_submit(e);
	return 0;
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
	__u32 nr = regs->orig_ax & 0xffff;
	bool in_target = false, act;

	if (is_tracked(tgid)) {
		if (tgid != launcher_tgid) {
			record_syscall(id, nr, ret);
			in_target = observe_acts &&
				    (nr == NR_MMAP || nr == NR_MPROTECT || nr == NR_MEMFD_CREATE ||
				     nr == NR_IO_URING_SETUP || nr == NR_PKEY_MPROTECT || nr == NR_SHMAT);
		}
	}
	act = observe_acts && is_act_syscall(nr);
	if (in_target || act) {
		struct syscall_args args = { regs->di, regs->si, regs->dx, regs->r10, regs->r8, regs->r9 };

		if (in_target)
			act_in_target(&args, nr, ret);
		if (act)
			act_any(&args, nr, ret, tgid);
	}
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

/* A CPU that spins in user space neither makes a syscall nor switches tasks, but takes its timer interrupts:
 * a stage left waiting there is written once it is TICK_FLUSH_AGE_NS old. Runs in the interrupt, maybe in
 * the middle of a program holding the stage (busy: it is left to that program). */
SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(on_timer_expire)
{
	__u32 zero = 0;
	struct stage *s = bpf_map_lookup_elem(&stages, &zero);

	if (!s || s->h.count == 0 || s->busy)
		return 0;
	if (bpf_ktime_get_ns() - s->first_ts <= TICK_FLUSH_AGE_NS)
		return 0;
	s->busy = 1;
	asm volatile("" ::: "memory");
	flush_stage(s);
	asm volatile("" ::: "memory");
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
	if (ctgid == ptgid || follow_children)
		put_task_ids(child, true);
	e = event_begin(sizeof(*e), GPO_REC_FORK, ptgid, parent->pid);
	if (!e)
		return 0;
	e->child_tgid = ctgid;
	e->child_tid = child->pid;
	bpf_probe_read_kernel_str(e->child_comm, sizeof(e->child_comm), child->comm);
	event_submit(e);
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
	/* A thread other than the leader that execs takes the leader's number (whose exit removed it). */
	if (old_pid != p->pid) {
		struct gpo_task_key k = { .ns = BPF_CORE_READ(p, thread_pid, numbers[0].ns, ns.inum),
					  .nr = old_pid };

		bpf_map_delete_elem(&task_ids, &k);
		put_task_ids(p, true);
	}
	e = event_begin(sizeof(*e), GPO_REC_EXEC, tgid, p->pid);
	if (!e)
		return 0;
	e->old_tid = old_pid;
	e->flags = 0;
	{
		struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);

		e->nlink = BPF_CORE_READ(inode, __i_nlink);
		e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
		e->inode = BPF_CORE_READ(inode, i_ino);
	}
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
	event_submit(e);
	if (observe_acts)
		scan_loader_env(p);
	return 0;
}

/* One of three, chosen by user space from the kernel's BTF and what it allows (native/hooks.cc): the
 * tracepoint passes group_dead from 6.16 on; before, do_exit passes it to taskstats_exit (fentry), called
 * just after exit_code is set; without fentry, the signal's live-thread count, which another thread exiting
 * at the same moment may already have taken to 0 too (so a process may show two group_dead exits). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task, bool group_dead)
{
	record_exit(task, group_dead);
	return 0;
}

SEC("fentry/taskstats_exit")
int BPF_PROG(on_exit_taskstats, struct task_struct *task, int group_dead)
{
	record_exit(task, group_dead != 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_live, struct task_struct *task)
{
	record_exit(task, BPF_CORE_READ(task, signal, live.counter) == 0);
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *task, const char *comm)
{
	__u32 tgid = task->tgid;
	struct gpo_rename_event *e;

	if (!is_tracked(tgid))
		return 0;
	e = event_begin(sizeof(*e), GPO_REC_RENAME, tgid, task->pid);
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	event_submit(e);
	return 0;
}
