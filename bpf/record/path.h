/* Files and paths: a descriptor's file, a dentry's path walked up across mounts, strings into act rows. */
#ifndef GPO_RECORD_PATH_H
#define GPO_RECORD_PATH_H

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
		if (dentry != root) {
			/* A file in no directory (a memfd, a SysV shm segment): its own name ("memfd:NAME",
			 * "SYSV0000002a") is its whole path, as /proc/PID/maps shows it. */
			n = w->parts;
			if (n < GPO_NAME_PARTS) {
				bpf_probe_read_kernel_str(w->name[n], GPO_NAME_LEN,
							  BPF_CORE_READ(dentry, d_name.name));
				w->parts = n + 1;
			}
			return 1;
		}
		if (up == mnt)
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
	if (w->parts == 0)
		dst[0][0] = 0; /* not an earlier walk's leaf */
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

static __always_inline void put_file(struct gpo_act_event *e, struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);

	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->inode = BPF_CORE_READ(inode, i_ino);
	if (BPF_CORE_READ(inode, __i_nlink) == 0)
		e->flags |= GPO_ACT_FILE_DELETED;
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

#endif
