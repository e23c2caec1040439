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

/* x86_64 syscall numbers this file acts on. */
#define NR_OPEN 2
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_KILL 62
#define NR_PTRACE 101
#define NR_RT_SIGQUEUEINFO 129
#define NR_INIT_MODULE 175
#define NR_TKILL 200
#define NR_TGKILL 234
#define NR_OPENAT 257
#define NR_RT_TGSIGQUEUEINFO 297
#define NR_PERF_EVENT_OPEN 298
#define NR_PROCESS_VM_READV 310
#define NR_PROCESS_VM_WRITEV 311
#define NR_FINIT_MODULE 313
#define NR_MEMFD_CREATE 319
#define NR_BPF 321
#define NR_PIDFD_SEND_SIGNAL 424
#define NR_IO_URING_SETUP 425
#define NR_IO_URING_ENTER 426
#define NR_PIDFD_OPEN 434
#define NR_OPENAT2 437
#define NR_PIDFD_GETFD 438

#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define BPF_PROG_LOAD_CMD 5
#define PROC_SUPER_MAGIC 0x9fa0
#define PIDFS_MAGIC 0x50494446
#define ANON_INODE_FS_MAGIC 0x09041934
#define S_IFMT 00170000
#define S_IFCHR 0020000
#define MKDEV(ma, mi) (((ma) << 20) | (mi))


/* Set through the skeleton before load. */
const volatile __u64 base_ns = 0;
const volatile bool follow_children = true;
const volatile bool record_durations = false;
/* Off with `gpo record --syscalls-only`: syscalls and lifecycle rows only. */
const volatile bool observe_acts = true;
/* gpo's own process: its acts (reading /proc for thread names) are not the system's. */
const volatile __u32 gpo_tgid = 0;

/* The followed processes, one bit per tgid. User space seeds it; the fork and exit hooks maintain it, and
 * clearing a bit when its process dies means a reused pid is never followed by mistake. */
__u64 tracked_tgids[GPO_PID_BITMAP_WORDS];
/* `gpo record -- CMD` starts CMD through a launcher; what the launcher does before its exec is not CMD's. */
__u32 launcher_tgid = 0;

/* Every thread of a followed process by its number in each pid namespace it is visible in: a pid named
 * by a syscall is looked up in the caller's namespace, as the kernel does. Kept without kfuncs (6.1 has
 * no bpf_task_from_pid, 6.12 no bpf_task_from_vpid): the fork, exec and exit hooks maintain it, user space
 * seeds the threads that existed before recording. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GPO_TASK_IDS);
	__type(key, struct gpo_task_key);
	__type(value, struct gpo_task_ids);
} task_ids SEC(".maps");

/* procfs files of followed processes whose opening was recorded (by file pointer): with BPF LSM, an access
 * through any other descriptor (opened before recording started, or passed from another process) gets
 * its own row. Entries leave when the file is freed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} proc_files_seen SEC(".maps");

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

/* pids never reach PID_MAX_LIMIT, so masking the word index (rather than a bounds check the compiler may
 * reshape past the verifier's understanding) keeps every access in the bitmap without changing meaning. */
static __always_inline bool is_tracked(__u32 tgid)
{
	return tracked_tgids[(tgid >> 6) & (GPO_PID_BITMAP_WORDS - 1)] & (1ULL << (tgid & 63));
}

static __always_inline void set_tracked(__u32 tgid, bool on)
{
	__u64 *word = &tracked_tgids[(tgid >> 6) & (GPO_PID_BITMAP_WORDS - 1)];

	if (on)
		__sync_fetch_and_or(word, 1ULL << (tgid & 63));
	else
		__sync_fetch_and_and(word, ~(1ULL << (tgid & 63)));
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
	__u64 len;

	if (n == 0)
		return;
	if (n > GPO_STAGE_RECORDS)
		n = GPO_STAGE_RECORDS;
	s->h.type = GPO_REC_SYSCALLS;
	s->h.record_size = size;
	/* 6.1's verifier loses the bounds of n * size: bound the length itself, in the register it is passed in. */
	len = sizeof(s->h) + (__u64)n * size;
	barrier_var(len);
	if (len > sizeof(s->h) + sizeof(s->records))
		len = sizeof(s->h) + sizeof(s->records);
	if (bpf_ringbuf_output(&events, s, len, BPF_RB_NO_WAKEUP) == 0) {
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


/* ---- Acts worth a row: tampering from other processes, system-wide events, in-target memory ---- */

/* A path walk in progress, per CPU: bpf_loop's callback is verified once, where an unrolled walk with
 * its mount-crossing branches made the verifier give up. */
struct path_walk {
	char name[GPO_NAME_PARTS][GPO_NAME_LEN];
	struct dentry *dentry;
	struct mount *mnt;
	__u32 parts;
	__u32 truncated;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_walk);
} path_walks SEC(".maps");

static long path_step(__u32 index, void *unused)
{
	__u32 zero = 0;
	struct path_walk *w = bpf_map_lookup_elem(&path_walks, &zero);
	struct dentry *dentry, *parent, *root;
	struct mount *mnt, *up;
	__u32 n;

	if (!w)
		return 1;
	dentry = w->dentry;
	mnt = w->mnt;
	parent = BPF_CORE_READ(dentry, d_parent);
	root = BPF_CORE_READ(mnt, mnt.mnt_root);
	if (dentry == root || dentry == parent) {
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (dentry != root || up == mnt)
			return 1; /* the global root */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	n = w->parts;
	if (n >= GPO_NAME_PARTS) {
		w->truncated = 1;
		return 1;
	}
	bpf_probe_read_kernel_str(w->name[n], GPO_NAME_LEN, BPF_CORE_READ(dentry, d_name.name));
	w->parts = n + 1;
	w->dentry = parent;
	return 0;
}

/* Writes the components of a path into dst, leaf first, crossing mount points up to the root; returns
 * how many. */
static __always_inline __u32 walk_path(char dst[GPO_NAME_PARTS][GPO_NAME_LEN], struct gpo_act_event *e,
				       struct dentry *dentry, struct vfsmount *vfsmnt)
{
	__u32 zero = 0;
	struct path_walk *w = bpf_map_lookup_elem(&path_walks, &zero);

	if (!w)
		return 0;
	w->dentry = dentry;
	w->mnt = container_of(vfsmnt, struct mount, mnt);
	w->parts = 0;
	w->truncated = 0;
	bpf_loop(GPO_NAME_PARTS + 8, path_step, NULL, 0);
	bpf_probe_read_kernel(dst, GPO_NAME_PARTS * GPO_NAME_LEN, w->name);
	if (w->truncated) {
		e->flags |= GPO_ACT_PATH_TRUNCATED;
		count(GPO_CNT_NAME_TRUNCATED, 1);
	}
	return w->parts;
}

static __always_inline void put_path(struct gpo_act_event *e, struct dentry *dentry, struct vfsmount *vfsmnt)
{
	e->name_parts = walk_path(e->name, e, dentry, vfsmnt);
}

static __always_inline struct gpo_act_event *act_begin(__u32 kind, __u32 nr, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gpo_act_event *e;

	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return NULL;
	}
	fill_header(&e->h, GPO_REC_ACT, id >> 32, (__u32)id);
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
		struct file *exe = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), mm, exe_file);

		if (exe)
			e->exe_parts = walk_path(e->exe, e, BPF_CORE_READ(exe, f_path.dentry), BPF_CORE_READ(exe, f_path.mnt));
	}
	return e;
}

static __always_inline void act_submit(struct gpo_act_event *e)
{
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline void put_file(struct gpo_act_event *e, struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);

	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->inode = BPF_CORE_READ(inode, i_ino);
	put_path(e, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
}

static __always_inline void put_user_string(struct gpo_act_event *e, const void *user)
{
	if (bpf_probe_read_user_str(e->name, sizeof(e->name), user) == sizeof(e->name)) {
		e->flags |= GPO_ACT_PATH_TRUNCATED;
		count(GPO_CNT_NAME_TRUNCATED, 1);
	}
}

static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline bool starts_with(const char *s, const char *prefix, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != prefix[i])
			return false;
	return true;
}

/* The number and namespace of level `level` of a struct pid. */
static __always_inline struct gpo_task_key pid_key(struct pid *pid, __u32 level)
{
	struct upid *numbers = (void *)pid + offsetof(struct pid, numbers);
	struct gpo_task_key k = {};
	struct upid up = {};

	bpf_probe_read_kernel(&up, sizeof(up), &numbers[level]);
	k.nr = up.nr;
	k.ns = BPF_CORE_READ(up.ns, ns.inum);
	return k;
}

/* Enters (or removes) a followed thread under its number in each pid namespace that sees it. */
static __always_inline void put_task_ids(struct task_struct *t, bool add)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	__u32 level = BPF_CORE_READ(pid, level);
	struct gpo_task_ids ids = { .tgid = BPF_CORE_READ(t, tgid), .tid = BPF_CORE_READ(t, pid) };

	for (__u32 i = 0; i < GPO_PID_LEVELS; i++) {
		struct gpo_task_key k;

		if (i > level)
			break;
		k = pid_key(pid, i);
		if (add)
			bpf_map_update_elem(&task_ids, &k, &ids, BPF_ANY);
		else
			bpf_map_delete_elem(&task_ids, &k);
	}
}

/* The followed process a struct pid's thread belongs to (its tid in *tid); 0 when none. */
static __always_inline __u32 lookup_ids(struct gpo_task_key *k, __u32 *tid)
{
	struct gpo_task_ids *ids = bpf_map_lookup_elem(&task_ids, k);

	if (!ids)
		return 0;
	*tid = ids->tid;
	return ids->tgid;
}

/* The followed process a pid argument names, resolved in the caller's pid namespace; 0 if none. */
static __always_inline __u32 resolve_vpid(long vpid, __u32 *tid)
{
	struct pid *own = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), thread_pid);
	struct gpo_task_key k;

	if (vpid <= 0 || vpid >= GPO_PID_LIMIT)
		return 0;
	k = pid_key(own, BPF_CORE_READ(own, level)); /* levels past GPO_PID_LEVELS were never entered */
	k.nr = vpid;
	return lookup_ids(&k, tid);
}

/* The followed process of a struct pid taken from a kernel object (a procfs inode, a pidfd). */
static __always_inline __u32 resolve_pid(struct pid *pid, __u32 *tid)
{
	struct gpo_task_key k;

	if (!pid)
		return 0;
	k = pid_key(pid, 0);
	return lookup_ids(&k, tid);
}

/* The process a pidfd refers to: a pidfs file keeps the struct pid in its inode (6.9 on), an anonymous
 * "[pidfd]" file in its private data (before). */
static __always_inline __u32 resolve_pidfd(int fd, __u32 *tid)
{
	struct file *f = fd_file(fd);
	char name[8] = {};

	if (!f)
		return 0;
	if (BPF_CORE_READ(f, f_inode, i_sb, s_magic) == PIDFS_MAGIC)
		return resolve_pid(BPF_CORE_READ(f, f_inode, i_private), tid);
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	if (BPF_CORE_READ(f, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC || !starts_with(name, "[pidfd]", 8))
		return 0;
	return resolve_pid(BPF_CORE_READ(f, private_data), tid);
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
	act_submit(e);
}

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
static __always_inline void act_on_open(__u32 nr, long ret, const char *user_path, __u64 flags)
{
	struct gpo_act_event *e;
	__u32 actor = bpf_get_current_pid_tgid() >> 32;

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
				bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
				if (!starts_with(name, "kcore", 6))
					return;
				e = act_begin(GPO_KIND_DEVICE_OPEN, nr, ret);
			}
		} else {
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
		act_submit(e);
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
		act_submit(e);
	}
}

struct vma_ctx {
	struct gpo_act_event *e;
};

static long describe_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_ctx *c = data;
	struct file *f = vma->vm_file;

	if (f) {
		c->e->offset = (__u64)vma->vm_pgoff << 12;
		put_file(c->e, f);
	}
	return 0;
}

/* Inside a followed process: executable mappings (library loads), executable anonymous memory.
 * (The act handlers are out of line: the syscall path stays small for the calls that are not acts.) */
static __noinline void act_in_target(struct pt_regs *regs, __u32 nr, long ret)
{
	struct gpo_act_event *e;

	if (nr == NR_MMAP) {
		__u64 prot = regs->dx, flags = regs->r10;
		int fd = regs->r8;
		struct file *f;

		if (!(prot & PROT_EXEC) || (ret < 0 && ret > -4096))
			return;
		f = (flags & MAP_ANONYMOUS) ? NULL : fd_file(fd);
		e = act_begin(f ? GPO_KIND_MMAP_EXEC : GPO_KIND_EXEC_MEMORY, nr, ret);
		if (!e)
			return;
		e->request = prot;
		e->addr = ret;
		e->size = regs->si;
		e->offset = regs->r9;
		if (f)
			put_file(e, f);
		act_submit(e);
	} else if (nr == NR_MPROTECT) {
		struct vma_ctx c;

		if (!(regs->dx & PROT_EXEC))
			return;
		e = act_begin(GPO_KIND_EXEC_MEMORY, nr, ret);
		if (!e)
			return;
		e->request = regs->dx;
		e->addr = regs->di;
		e->size = regs->si;
		c.e = e;
		bpf_find_vma(bpf_get_current_task_btf(), regs->di, describe_vma, &c, 0);
		act_submit(e);
	} else if (nr == NR_MEMFD_CREATE) {
		e = act_begin(GPO_KIND_MEMFD_CREATE, nr, ret);
		if (!e)
			return;
		e->request = regs->si;
		put_user_string(e, (void *)regs->di);
		act_submit(e);
	} else if (nr == NR_IO_URING_SETUP) {
		e = act_begin(GPO_KIND_IO_URING_SETUP, nr, ret);
		if (!e)
			return;
		e->request = regs->di;
		act_submit(e);
	}
}

/* The syscalls act_any looks at. */
static __always_inline bool is_act_syscall(__u32 nr)
{
	switch (nr) {
	case NR_OPEN: case NR_KILL: case NR_PTRACE: case NR_RT_SIGQUEUEINFO: case NR_INIT_MODULE:
	case NR_TKILL: case NR_TGKILL: case NR_OPENAT: case NR_RT_TGSIGQUEUEINFO: case NR_PERF_EVENT_OPEN:
	case NR_PROCESS_VM_READV: case NR_PROCESS_VM_WRITEV: case NR_FINIT_MODULE: case NR_BPF:
	case NR_PIDFD_SEND_SIGNAL: case NR_PIDFD_OPEN: case NR_OPENAT2: case NR_PIDFD_GETFD:
		return true;
	}
	return false;
}

/* Any process: acts toward a followed process, and system-wide events. */
static __noinline void act_any(struct pt_regs *regs, __u32 nr, long ret, __u32 actor)
{
	__u32 tid = 0, target;
	struct gpo_act_event *e;

	if (actor == gpo_tgid)
		return; /* gpo reading /proc for thread names is not tampering */
	switch (nr) {
	case NR_PTRACE:
		target = resolve_vpid(regs->si, &tid);
		act_on_target(GPO_KIND_PTRACE, nr, ret, target, tid, regs->di, regs->dx, 0);
		break;
	case NR_PROCESS_VM_READV:
	case NR_PROCESS_VM_WRITEV:
		target = resolve_vpid(regs->di, &tid);
		if (target && is_tracked(target))
			act_on_target(nr == NR_PROCESS_VM_READV ? GPO_KIND_VM_READ : GPO_KIND_VM_WRITE, nr, ret,
				      target, tid, 0, 0, iov_bytes((void *)regs->r10, regs->r8));
		break;
	case NR_KILL:
	case NR_TKILL:
	case NR_RT_SIGQUEUEINFO:
		target = resolve_vpid(regs->di, &tid);
		act_on_target(GPO_KIND_SIGNAL, nr, ret, target, tid, regs->si, 0, 0);
		break;
	case NR_TGKILL:
	case NR_RT_TGSIGQUEUEINFO:
		target = resolve_vpid(regs->si, &tid);
		act_on_target(GPO_KIND_SIGNAL, nr, ret, target, tid, regs->dx, 0, 0);
		break;
	case NR_PIDFD_SEND_SIGNAL:
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
		act_on_open(nr, ret, (void *)regs->di, regs->si);
		break;
	case NR_OPENAT:
		act_on_open(nr, ret, (void *)regs->si, regs->dx);
		break;
	case NR_OPENAT2:
		act_on_open(nr, ret, (void *)regs->si, 0);
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
		act_submit(e);
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
		act_submit(e);
		break;
	}
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
	act_on_open(NR_IO_URING_ENTER, res, NULL, 0);
}

/* The tracepoint's arguments changed in 6.3 (a cqe pointer instead of user_data, res, cflags...): user
 * space loads the one that matches the kernel's BTF, so res is never read from the wrong argument. */
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
 * with the syscall doing the access as nr and the access mask (MAY_READ 4, MAY_WRITE 2) as addr. */
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
	act_submit(e);
	return 0;
}

SEC("lsm/file_free_security")
int BPF_PROG(on_file_free, struct file *file)
{
	__u64 key = (__u64)file;

	bpf_map_delete_elem(&proc_files_seen, &key);
	return 0;
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
	act_submit(e);
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

/* Stages one syscall record of a followed thread. */
static __always_inline void record_syscall(__u64 id, __u64 nr, long ret)
{
	__u32 tgid = id >> 32;
	struct gpo_syscall_timed rec;
	struct stage *s;
	__u64 now;
	__u32 i, size;

	now = bpf_ktime_get_ns();
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
		return;
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
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u32 nr = regs->orig_ax & 0xffff;

	if (is_tracked(tgid)) {
		if (tgid != launcher_tgid) {
			record_syscall(id, nr, ret);
			if (observe_acts && (nr == NR_MMAP || nr == NR_MPROTECT || nr == NR_MEMFD_CREATE || nr == NR_IO_URING_SETUP))
				act_in_target(regs, nr, ret);
		}
	}
	if (observe_acts && is_act_syscall(nr))
		act_any(regs, nr, ret, tgid);
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
	if (ctgid == ptgid || follow_children)
		put_task_ids(child, true);
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
	/* A thread other than the leader that execs takes the leader's number (whose exit removed it). */
	if (old_pid != p->pid) {
		struct gpo_task_key k = { .ns = BPF_CORE_READ(p, thread_pid, numbers[0].ns, ns.inum), .nr = old_pid };

		bpf_map_delete_elem(&task_ids, &k);
		put_task_ids(p, true);
	}
	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return 0;
	}
	fill_header(&e->h, GPO_REC_EXEC, tgid, p->pid);
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
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* A thread's exit; group_dead: the last thread of its process. */
static __always_inline void record_exit(struct task_struct *task, bool group_dead)
{
	__u32 tgid = task->tgid;
	struct gpo_exit_event *e;

	if (!is_tracked(tgid))
		return;
	put_task_ids(task, false);
	if (group_dead)
		set_tracked(tgid, false);
	flush_this_cpu();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return;
	}
	fill_header(&e->h, GPO_REC_EXIT, tgid, task->pid);
	e->exit_code = task->exit_code;
	e->group_dead = group_dead;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
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
