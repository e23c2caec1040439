/* Opens through a followed process's magic links /proc/PID/fd/N and /proc/PID/map_files/RANGE (and their
 * task/TID forms): the open gives the file the link points at (a memfd holding its state, a mapped file, a
 * device it holds), not a procfs file, so the open's file alone says nothing of the target. The kprobe on
 * proc_pid_get_link, which every follow of a /proc/PID/ magic link goes through (not readlink), notes per
 * thread which followed process's link it followed, with the link's procfs path; the exit of the open
 * syscall that followed it takes the note (act_on_open). A note left by another syscall (stat through the
 * link) is dropped at the thread's next open.
 *
 * Kernels without kprobes (CONFIG_KPROBES off) have no hook on the follow: there the open's own path says it,
 * /proc/PID/[task/TID/](fd|map_files)/X, or relative to a directory of the target's procfs entry (dirfd or
 * cwd). A symlink or ../ route to the link, or another procfs mount, is not seen that way (the hook table
 * says which of the two serves). */
#ifndef GPO_RECORD_PROC_LINKS_H
#define GPO_RECORD_PROC_LINKS_H

#define LINK_PATH_PARTS 6 /* task/TID forms: N, fd, TID, task, PID */

struct proc_link {
	__u32 nr; /* the syscall that followed the link */
	__u32 target_tgid;
	__u32 target_tid;
	__u32 parts;
	__u32 truncated;
	__u32 plain;                              /* name[0] is the whole path as the open named it */
	char name[LINK_PATH_PARTS][GPO_NAME_LEN]; /* the link's path below the procfs root, leaf first */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* thread */
	__type(value, struct proc_link);
} proc_links SEC(".maps");

/* Notes ever made: until the first, an open need not look for one (kernels without kprobes never make any). */
__u64 proc_link_notes;

/* Scratch for a note being made (too large for the stack beside the rest). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct proc_link);
} proc_link_scratch SEC(".maps");

static __always_inline void note_proc_link(struct dentry *dentry)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 actor = id >> 32, thread = (__u32)id, tid = 0, target, zero = 0;
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct dentry *d = dentry, *parent;
	struct proc_link *l;
	struct pt_regs *regs;
	char dir[12] = {};

	if (!observe_acts || actor == gpo_tgid || !inode)
		return;
	target = resolve_pid(BPF_CORE_READ(container_of(inode, struct proc_inode, vfs_inode), pid), &tid);
	if (!target || !is_tracked(target) || target == actor)
		return;
	bpf_probe_read_kernel_str(dir, sizeof(dir), BPF_CORE_READ(dentry, d_parent, d_name.name));
	if (!starts_with(dir, "fd", 3) && !starts_with(dir, "map_files", 10))
		return; /* exe, cwd, root: not the process's memory or descriptors */
	l = bpf_map_lookup_elem(&proc_link_scratch, &zero);
	if (!l)
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	l->nr = BPF_CORE_READ(regs, orig_ax) & 0xffff;
	l->target_tgid = target;
	l->target_tid = tid;
	l->parts = 0;
	l->truncated = 1;
	l->plain = 0;
	for (__u32 i = 0; i < LINK_PATH_PARTS; i++) {
		parent = BPF_CORE_READ(d, d_parent);
		if (parent == d) {
			l->truncated = 0; /* the procfs root */
			break;
		}
		bpf_probe_read_kernel_str(l->name[i], GPO_NAME_LEN, BPF_CORE_READ(d, d_name.name));
		l->parts = i + 1;
		d = parent;
	}
	bpf_map_update_elem(&proc_links, &thread, l, BPF_ANY);
	if (!proc_link_notes)
		proc_link_notes = 1;
}

/* An open that followed a followed process's link: a proc_open row with the link's path (procfs taken to be
 * at /proc), the open's flags, and the device and inode of the file it gave. False when the file is itself
 * a procfs file of a followed process (its fd N was /proc/self/mem): that file's own row says more. */
static __always_inline bool link_opened(struct proc_link *link, __u32 nr, long ret)
{
	struct file *f = fd_file(ret);
	struct gpo_act_event *e;
	struct inode *inode;
	__u32 parts = link->parts, tid = 0, target;

	if (!f)
		return false;
	inode = BPF_CORE_READ(f, f_inode);
	if (BPF_CORE_READ(inode, i_sb, s_magic) == PROC_SUPER_MAGIC) {
		target = resolve_pid(BPF_CORE_READ(container_of(inode, struct proc_inode, vfs_inode), pid),
				     &tid);
		if (target && is_tracked(target) && target != bpf_get_current_pid_tgid() >> 32)
			return false;
	}
	e = act_begin(GPO_KIND_PROC_OPEN, nr, ret);
	if (!e)
		return true;
	e->target_tgid = link->target_tgid;
	e->target_tid = link->target_tid;
	e->request = BPF_CORE_READ(f, f_flags);
	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->inode = BPF_CORE_READ(inode, i_ino);
	bpf_probe_read_kernel(e->name, sizeof(link->name), link->name);
	if (link->plain) {
		parts = 0;
	} else if (parts < LINK_PATH_PARTS) {
		/* Constant offsets only: 6.1's verifier loses the bound of a variable index into the record. */
		for (__u32 k = 0; k < LINK_PATH_PARTS; k++)
			if (k == parts)
				__builtin_memcpy(e->name[k], "proc", 5);
		parts++;
	}
	e->name_parts = parts;
	if (link->truncated) {
		e->flags |= GPO_ACT_PATH_TRUNCATED;
		count(GPO_CNT_NAME_TRUNCATED, 1);
	}
	event_submit(e);
	return true;
}

/* Without the kprobe. Whether p, from index i, is "fd/" or "map_files/" (after an optional "task/TID/"):
 * the part of a procfs path below a process's directory that is one of its links. */
static __always_inline bool link_below(const char *p, __u32 i)
{
	if (p[i & 31] == 't' && p[(i + 1) & 31] == 'a' && p[(i + 2) & 31] == 's' && p[(i + 3) & 31] == 'k' &&
	    p[(i + 4) & 31] == '/') {
		i += 5;
		for (int k = 0; k < 8; k++) {
			if (p[i & 31] < '0' || p[i & 31] > '9')
				break;
			i++;
		}
		if (p[i & 31] != '/')
			return false;
		i++;
	}
	i &= 31;
	if (p[i] == 'f' && p[(i + 1) & 63] == 'd' && p[(i + 2) & 63] == '/')
		return true;
	for (int k = 0; k < 10; k++)
		if (p[(i + k) & 63] != "map_files/"[k])
			return false;
	return true;
}

/* The followed process whose link an open's path names, or 0; the path (or, relative to a procfs directory,
 * path and directory) in l. */
static __always_inline __u32 link_by_path(struct proc_link *l, const char *user_path, int dirfd, __u32 *tid)
{
	char *p = l->name[0];
	__u32 i = 6, vpid = 0;
	struct dentry *d, *parent;
	struct inode *inode;
	char dir[12] = {};

	long n;

	/* Every open of the system passes here: most are ruled out by their first bytes. */
	if (!user_path || bpf_probe_read_user_str(p, 7, user_path) <= 0)
		return 0;
	if (p[0] == '/' && !starts_with(p, "/proc/", 6))
		return 0;
	n = bpf_probe_read_user_str(p, sizeof(l->name), user_path);
	if (n <= 0)
		return 0;
	l->truncated = n == sizeof(l->name);
	if (p[0] == '/') {
		if (!starts_with(p, "/proc/", 6))
			return 0;
		for (int k = 0; k < 8; k++) {
			if (p[i & 31] < '0' || p[i & 31] > '9')
				break;
			vpid = vpid * 10 + (p[i & 31] - '0');
			i++;
		}
		if (p[i & 31] != '/' || !link_below(p, i + 1))
			return 0;
		l->plain = 1;
		l->parts = 1;
		return resolve_vpid(vpid, tid);
	}
	/* Relative: to a directory of the target's procfs entry (/proc/PID, its fd/, map_files/, task/TID). */
	if (dirfd == AT_FDCWD_FD) {
		d = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), fs, pwd.dentry);
	} else {
		struct file *f = fd_file(dirfd);

		if (!f)
			return 0;
		d = BPF_CORE_READ(f, f_path.dentry);
	}
	inode = BPF_CORE_READ(d, d_inode);
	if (!inode || BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC)
		return 0;
	bpf_probe_read_kernel_str(dir, sizeof(dir), BPF_CORE_READ(d, d_name.name));
	if (!starts_with(dir, "fd", 3) && !starts_with(dir, "map_files", 10) && !link_below(p, 0))
		return 0;
	bool cut = n > GPO_NAME_LEN;

	if (cut)
		p[GPO_NAME_LEN - 1] = 0; /* one component */
	l->plain = 0;
	l->parts = 1;
	l->truncated = 1;
	for (__u32 k = 1; k < LINK_PATH_PARTS; k++) {
		parent = BPF_CORE_READ(d, d_parent);
		if (parent == d) {
			l->truncated = 0;
			break;
		}
		bpf_probe_read_kernel_str(l->name[k], GPO_NAME_LEN, BPF_CORE_READ(d, d_name.name));
		l->parts = k + 1;
		d = parent;
	}
	l->truncated |= cut;
	return resolve_pid(BPF_CORE_READ(container_of(inode, struct proc_inode, vfs_inode), pid), tid);
}

/* The open of a file that is not procfs, by a path naming a followed process's link: its row. */
static __always_inline bool link_opened_by_path(__u32 nr, long ret, const char *user_path, int dirfd)
{
	__u32 zero = 0, tid = 0, target;
	struct proc_link *l = bpf_map_lookup_elem(&proc_link_scratch, &zero);

	if (!l)
		return false;
	target = link_by_path(l, user_path, dirfd, &tid);
	if (!target || !is_tracked(target) || target == bpf_get_current_pid_tgid() >> 32)
		return false;
	l->target_tgid = target;
	l->target_tid = tid;
	return link_opened(l, nr, ret);
}

#endif
