/* Acts worth a row: tampering from other processes, system-wide events, in-target memory, library calls. */
#ifndef GPO_RECORD_ACTS_H
#define GPO_RECORD_ACTS_H

/* procfs files of followed processes whose opening was recorded (by file pointer): with BPF LSM, an access
 * through any other descriptor (opened before recording started, or passed from another process) gets
 * its own row. Entries leave when the file is freed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} proc_files_seen SEC(".maps");

static __always_inline struct gpo_act_event *act_begin(__u32 kind, __u32 nr, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gpo_act_event *e;

	e = event_begin(sizeof(*e), GPO_REC_ACT, id >> 32, (__u32)id);
	if (!e)
		return NULL;
	e->kind = kind;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->target_tgid = 0;
	e->target_tid = 0;
	e->ret = ret;
	e->request = 0;
	e->addr = 0;
	e->size = 0;
	e->dev = 0;
	e->inode = 0;
	e->offset = 0;
	e->nr = nr;
	e->name_parts = 0;
	e->flags = 0;
	e->pad = 0;
	e->name[0][0] = 0;
	e->exe_parts = 0;
	e->pad2 = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (kind >= GPO_KIND_PTRACE && kind <= GPO_KIND_DEVICE_OPEN) {
		/* The actor may be gone by the time user space looks: take its executable now. */
		struct file *exe =
			BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), mm, exe_file);

		if (exe) {
			e->exe_parts = walk_path(e->exe, e, BPF_CORE_READ(exe, f_path.dentry),
						 BPF_CORE_READ(exe, f_path.mnt));
			if (BPF_CORE_READ(exe, f_inode, __i_nlink) == 0)
				/* a tool that unlinked itself, or ran from a memfd */
				e->flags |= GPO_ACT_EXE_DELETED;
		}
	}
	return e;
}

/* An act by another process naming a followed one: worth a row (a refused attempt too). */
static __always_inline void act_on_target(__u32 kind, __u32 nr, long ret, __u32 target, __u32 target_tid,
					  __u64 request, __u64 addr, __u64 size)
{
	struct gpo_act_event *e;

	if (!target || !is_tracked(target) || target == bpf_get_current_pid_tgid() >> 32)
		return;
	e = act_begin(kind, nr, ret);
	if (!e)
		return;
	e->target_tgid = target;
	e->target_tid = target_tid;
	e->request = request;
	e->addr = addr;
	e->size = size;
	event_submit(e);
}

/* Opens through a followed process's fd/ and map_files/ links: they need act_begin, act_on_open needs them. */
#include "proc-links.h"

/* Bytes asked for by a process_vm_* call: the sum of the remote iovec lengths (first 8 entries). */
static __always_inline __u64 iov_bytes(const struct iovec *iov, unsigned long count)
{
	__u64 total = 0;

	for (int i = 0; i < 8; i++) {
		struct iovec v;

		if (i >= count || bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		total += v.iov_len;
	}
	return total;
}

/* Opens: a procfs file of a followed process (resolved from the kernel's own objects when the open
 * succeeded, so no path trick hides it), or a device that only cheats and tools want. */
static __always_inline void act_on_open(__u32 nr, long ret, const char *user_path, int dirfd, __u64 flags)
{
	struct gpo_act_event *e;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 actor = id >> 32, thread = (__u32)id;
	struct proc_link *link = proc_link_notes ? bpf_map_lookup_elem(&proc_links, &thread) : NULL;

	/* This open followed a followed process's fd/ or map_files/ link (proc-links.h). */
	if (link) {
		bool done = ret >= 0 && link->nr == nr && link_opened(link, nr, ret);

		bpf_map_delete_elem(&proc_links, &thread);
		if (done)
			return;
	}
	if (ret >= 0) {
		struct file *f = fd_file(ret);
		struct inode *inode;
		__u32 tid = 0, target = 0;
		umode_t mode;
		dev_t rdev;

		if (!f)
			return;
		inode = BPF_CORE_READ(f, f_inode);
		if (BPF_CORE_READ(inode, i_sb, s_magic) == PROC_SUPER_MAGIC) {
			struct proc_inode *pi = container_of(inode, struct proc_inode, vfs_inode);
			struct pid *pid = BPF_CORE_READ(pi, pid);
			char name[8];

			if (pid) {
				target = resolve_pid(pid, &tid);
				if (!target || !is_tracked(target) || target == actor)
					return;
				e = act_begin(GPO_KIND_PROC_OPEN, nr, ret);
			} else {
				bpf_probe_read_kernel_str(name, sizeof(name),
							  BPF_CORE_READ(f, f_path.dentry, d_name.name));
				if (!starts_with(name, "kcore", 6))
					return;
				e = act_begin(GPO_KIND_DEVICE_OPEN, nr, ret);
			}
		} else {
			if (link_opened_by_path(nr, ret, user_path, dirfd))
				return;
			mode = BPF_CORE_READ(inode, i_mode);
			rdev = BPF_CORE_READ(inode, i_rdev);
			if ((mode & S_IFMT) != S_IFCHR ||
			    (rdev != MKDEV(10, 223) && rdev != MKDEV(1, 1) && rdev != MKDEV(1, 2)))
				return;
			e = act_begin(GPO_KIND_DEVICE_OPEN, nr, ret);
		}
		if (!e)
			return;
		if (target) {
			__u64 key = (__u64)f;
			__u8 one = 1;

			bpf_map_update_elem(&proc_files_seen, &key, &one, BPF_ANY);
		}
		e->target_tgid = target;
		e->target_tid = tid;
		e->request = BPF_CORE_READ(f, f_flags);
		put_file(e, f);
		event_submit(e);
		return;
	}
	/* A refused or failed open has no file: go by the path asked for. */
	{
		char path[24] = {};
		__u32 vpid = 0, tid = 0, target = 0;
		__u32 kind;

		if (bpf_probe_read_user_str(path, sizeof(path), user_path) <= 0)
			return;
		if (starts_with(path, "/dev/uinput", 12) || starts_with(path, "/dev/mem", 9) ||
		    starts_with(path, "/dev/kmem", 10) || starts_with(path, "/proc/kcore", 12)) {
			kind = GPO_KIND_DEVICE_OPEN;
		} else if (starts_with(path, "/proc/", 6)) {
			for (int i = 6; i < 14; i++) {
				if (path[i] < '0' || path[i] > '9')
					break;
				vpid = vpid * 10 + (path[i] - '0');
			}
			target = resolve_vpid(vpid, &tid);
			if (!target || !is_tracked(target) || target == actor)
				return;
			kind = GPO_KIND_PROC_OPEN;
		} else {
			return;
		}
		e = act_begin(kind, nr, ret);
		if (!e)
			return;
		e->target_tgid = target;
		e->target_tid = tid;
		e->request = flags;
		put_user_string(e, user_path);
		event_submit(e);
	}
}

struct vma_ctx {
	struct gpo_act_event *e;
	bool size; /* also take the mapping's length */
};

static long describe_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_ctx *c = data;
	struct file *f = vma->vm_file;

	if (c->size)
		c->e->size = vma->vm_end - vma->vm_start;
	if (f) {
		c->e->offset = (__u64)vma->vm_pgoff << 12;
		put_file(c->e, f);
	}
	return 0;
}

/* A syscall's arguments, named after the registers that carry them (pt_regs) so that handlers read them the
 * same way. The act handlers take this copy rather than the tracepoint's pt_regs pointer: they are global
 * functions, which the verifier checks once on their own instead of again for every state the syscall path
 * reaches them in (about a third of the recorder's load time), and a global function's pointer argument must
 * be memory it can size. */
struct syscall_args {
	__u64 di, si, dx, r10, r8, r9;
};

/* Inside a followed process: executable mappings (library loads), executable anonymous memory (mmap,
 * mprotect, pkey_mprotect), SysV shm attached executable.
 * (The act handlers are out of line: the syscall path stays small for the calls that are not acts. Returns 0.) */
__noinline int act_in_target(const struct syscall_args *regs, __u32 nr, long ret)
{
	struct gpo_act_event *e;

	if (!regs) /* never: but a global function's verifier does not know it */
		return 0;
	if (nr == NR_MMAP) {
		__u64 prot = regs->dx, flags = regs->r10;
		int fd = regs->r8;
		struct file *f;

		if (!(prot & PROT_EXEC) || (ret < 0 && ret > -4096))
			return 0;
		f = (flags & MAP_ANONYMOUS) ? NULL : fd_file(fd);
		e = act_begin(f ? GPO_KIND_MMAP_EXEC : GPO_KIND_EXEC_MEMORY, nr, ret);
		if (!e)
			return 0;
		e->request = prot;
		e->addr = ret;
		e->size = regs->si;
		e->offset = regs->r9;
		if (f)
			put_file(e, f);
		event_submit(e);
	} else if (nr == NR_MPROTECT || nr == NR_PKEY_MPROTECT) {
		struct vma_ctx c;

		if (!(regs->dx & PROT_EXEC))
			return 0;
		e = act_begin(GPO_KIND_EXEC_MEMORY, nr, ret);
		if (!e)
			return 0;
		e->request = regs->dx;
		e->addr = regs->di;
		e->size = regs->si;
		c.e = e;
		c.size = false;
		bpf_find_vma(bpf_get_current_task_btf(), regs->di, describe_vma, &c, 0);
		event_submit(e);
	} else if (nr == NR_SHMAT) {
		/* A SysV shm segment attached executable: memory like an anonymous mapping's, but shared. The
		 * segment's file (SYSV<key>, no name left) comes from the new mapping; prot as mmap would have it. */
		struct vma_ctx c;

		if (!(regs->dx & SHM_EXEC) || (ret < 0 && ret > -4096))
			return 0;
		e = act_begin(GPO_KIND_EXEC_MEMORY, nr, ret);
		if (!e)
			return 0;
		e->request = PROT_READ | PROT_EXEC | ((regs->dx & SHM_RDONLY) ? 0 : PROT_WRITE);
		e->addr = ret;
		c.e = e;
		c.size = true;
		bpf_find_vma(bpf_get_current_task_btf(), ret, describe_vma, &c, 0);
		event_submit(e);
	} else if (nr == NR_MEMFD_CREATE) {
		e = act_begin(GPO_KIND_MEMFD_CREATE, nr, ret);
		if (!e)
			return 0;
		e->request = regs->si;
		put_user_string(e, (void *)regs->di);
		event_submit(e);
	} else if (nr == NR_IO_URING_SETUP) {
		e = act_begin(GPO_KIND_IO_URING_SETUP, nr, ret);
		if (!e)
			return 0;
		e->request = regs->di;
		event_submit(e);
	}
	return 0;
}

#define EAGAIN_ERRNO 11

static __always_inline bool is_signal_syscall(__u32 nr)
{
	return nr == NR_KILL || nr == NR_TKILL || nr == NR_TGKILL || nr == NR_RT_SIGQUEUEINFO ||
	       nr == NR_RT_TGSIGQUEUEINFO || nr == NR_PIDFD_SEND_SIGNAL;
}

/* Which of a signal syscall's outcomes the syscall-exit hook records: those that generated no signal. A queue
 * overflow (-EAGAIN) did reach signal_generate (result TRACE_SIGNAL_OVERFLOW_FAIL), so it is recorded there. */
static __always_inline bool signal_generated_nothing(long sig, long ret)
{
	return sig == 0 || (ret < 0 && ret != -EAGAIN_ERRNO);
}

/* The syscalls act_any looks at. */
static __always_inline bool is_act_syscall(__u32 nr)
{
	/* clang-format off */
	switch (nr) {
	case NR_OPEN: case NR_KILL: case NR_PTRACE: case NR_RT_SIGQUEUEINFO: case NR_INIT_MODULE:
	case NR_TKILL: case NR_TGKILL: case NR_OPENAT: case NR_RT_TGSIGQUEUEINFO: case NR_PERF_EVENT_OPEN:
	case NR_PROCESS_VM_READV: case NR_PROCESS_VM_WRITEV: case NR_FINIT_MODULE: case NR_BPF:
	case NR_PIDFD_SEND_SIGNAL: case NR_PIDFD_OPEN: case NR_OPENAT2: case NR_PIDFD_GETFD:
		return true;
	}
	/* clang-format on */
	return false;
}

/* Any process: acts toward a followed process, and system-wide events. Returns 0. */
__noinline int act_any(const struct syscall_args *regs, __u32 nr, long ret, __u32 actor)
{
	__u32 tid = 0, target;
	struct gpo_act_event *e;

	if (!regs || actor == gpo_tgid) /* gpo reading /proc for thread names is not tampering */
		return 0;
	switch (nr) {
	case NR_PTRACE:
		target = resolve_vpid(regs->si, &tid);
		act_on_target(GPO_KIND_PTRACE, nr, ret, target, tid, regs->di, regs->dx, 0);
		break;
	case NR_PROCESS_VM_READV:
	case NR_PROCESS_VM_WRITEV:
		target = resolve_vpid(regs->di, &tid);
		if (target && is_tracked(target))
			act_on_target(nr == NR_PROCESS_VM_READV ? GPO_KIND_VM_READ : GPO_KIND_VM_WRITE, nr,
				      ret, target, tid, 0, 0, iov_bytes((void *)regs->r10, regs->r8));
		break;
	/* Signals that were generated are recorded by signal_generate (signals.h); here, the rest. */
	case NR_KILL:
	case NR_TKILL:
	case NR_RT_SIGQUEUEINFO:
		if (!signal_generated_nothing(regs->si, ret))
			break;
		target = resolve_vpid(regs->di, &tid);
		act_on_target(GPO_KIND_SIGNAL, nr, ret, target, tid, regs->si, 0, 0);
		break;
	case NR_TGKILL:
	case NR_RT_TGSIGQUEUEINFO:
		if (!signal_generated_nothing(regs->dx, ret))
			break;
		target = resolve_vpid(regs->si, &tid);
		act_on_target(GPO_KIND_SIGNAL, nr, ret, target, tid, regs->dx, 0, 0);
		break;
	case NR_PIDFD_SEND_SIGNAL:
		if (!signal_generated_nothing(regs->si, ret))
			break;
		target = resolve_pidfd(regs->di, &tid);
		act_on_target(GPO_KIND_SIGNAL, nr, ret, target, tid, regs->si, 0, 0);
		break;
	case NR_PIDFD_OPEN:
		target = resolve_vpid(regs->di, &tid);
		act_on_target(GPO_KIND_PIDFD, nr, ret, target, tid, regs->si, 0, 0);
		break;
	case NR_PIDFD_GETFD:
		target = resolve_pidfd(regs->di, &tid);
		act_on_target(GPO_KIND_PIDFD, nr, ret, target, tid, regs->si, 0, 0);
		break;
	case NR_PERF_EVENT_OPEN: {
		__u32 type = 0;

		bpf_probe_read_user(&type, sizeof(type), (void *)regs->di);
		target = resolve_vpid(regs->si, &tid);
		act_on_target(GPO_KIND_PERF_OPEN, nr, ret, target, tid, type, 0, 0);
		break;
	}
	case NR_OPEN:
		act_on_open(nr, ret, (void *)regs->di, AT_FDCWD_FD, regs->si);
		break;
	case NR_OPENAT:
		act_on_open(nr, ret, (void *)regs->si, regs->di, regs->dx);
		break;
	case NR_OPENAT2:
		act_on_open(nr, ret, (void *)regs->si, regs->di, 0);
		break;
	case NR_INIT_MODULE:
	case NR_FINIT_MODULE:
		e = act_begin(GPO_KIND_MODULE_LOAD, nr, ret);
		if (!e)
			break;
		if (nr == NR_FINIT_MODULE) {
			struct file *f = fd_file(regs->di);

			e->request = regs->dx;
			if (f)
				put_file(e, f);
		} else {
			e->size = regs->si;
		}
		event_submit(e);
		break;
	case NR_BPF:
		if (regs->di != BPF_PROG_LOAD_CMD)
			break;
		e = act_begin(GPO_KIND_BPF_LOAD, nr, ret);
		if (!e)
			break;
		{
			__u32 prog_type = 0;
			void *attr = (void *)regs->si;

			bpf_probe_read_user(&prog_type, sizeof(prog_type), attr);
			e->request = prog_type;
			bpf_probe_read_user_str(e->name[0], 16, attr + offsetof(union bpf_attr, prog_name));
		}
		event_submit(e);
		break;
	}
	return 0;
}

/* io_uring opens files inside the kernel, with no syscall to hook: an IORING_OP_OPENAT that completed put
 * the file in the submitting process's table (io-wq workers share it), so the file tells the same story as
 * an openat would: a procfs file of a followed process, or a device. */
static __always_inline void io_uring_opened(void *req, int res)
{
	__u8 op = BPF_CORE_READ((struct io_kiocb *)req, opcode);

	if (!observe_acts || (op != IORING_OP_OPENAT && op != IORING_OP_OPENAT2) || res < 0 ||
	    bpf_get_current_pid_tgid() >> 32 == gpo_tgid)
		return;
	act_on_open(NR_IO_URING_ENTER, res, NULL, AT_FDCWD_FD, 0);
}

/* A string argument, in a sleepable program (so a page not yet touched is faulted in): copied up to the
 * end of its page, then the rest of the area from the next page if that is readable (bpf_copy_from_user_str
 * would do this, but 6.1 lacks it); bytes after the NUL are ignored by user space. */
static __always_inline void copy_user_string(struct gpo_act_event *e, const void *s)
{
	char *dst = &e->name[0][0];
	__u64 first = 4096 - ((__u64)s & 4095);
	bool ended = false;

	if (first > sizeof(e->name))
		first = sizeof(e->name);
	barrier_var(first);
	if (first == 0 || first > sizeof(e->name))
		return;
	if (bpf_copy_from_user(dst, first, s)) {
		dst[0] = 0;
		return;
	}
	if (first < sizeof(e->name)) {
		__u64 rest = sizeof(e->name) - first;

		/* On failure the helper zeroes what it did not copy, so the string ends where the page did. */
		barrier_var(rest);
		if (rest <= sizeof(e->name))
			bpf_copy_from_user(dst + first, rest, s + first);
	}
	for (__u32 i = 0; i < sizeof(e->name); i++) {
		if (dst[i] == 0) {
			ended = true;
			break;
		}
	}
	if (!ended) {
		dst[sizeof(e->name) - 1] = 0;
		e->flags |= GPO_ACT_PATH_TRUNCATED;
		count(GPO_CNT_NAME_TRUNCATED, 1);
	}
}

#endif
