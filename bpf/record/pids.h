/* Pid resolution: which followed process a pid argument, a struct pid or a pidfd names. */
#ifndef GPO_RECORD_PIDS_H
#define GPO_RECORD_PIDS_H

/* The followed process a pid argument names, resolved in the caller's pid namespace: (tgid << 32) | tid,
 * 0 if none. A global function, so the verifier checks it once per program rather than at each of the
 * syscalls that name a pid. */
__noinline __u64 resolve_vpid_ids(long vpid)
{
	struct pid *own = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), thread_pid);
	struct gpo_task_key k;
	__u32 tid = 0, tgid;

	if (vpid <= 0 || vpid >= GPO_PID_LIMIT)
		return 0;
	k = pid_key(own, BPF_CORE_READ(own, level)); /* levels past GPO_PID_LEVELS were never entered */
	k.nr = vpid;
	tgid = lookup_ids(&k, &tid);
	return tgid ? ((__u64)tgid << 32) | tid : 0;
}

static __always_inline __u32 resolve_vpid(long vpid, __u32 *tid)
{
	__u64 ids = resolve_vpid_ids(vpid);

	*tid = (__u32)ids;
	return ids >> 32;
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
	if (BPF_CORE_READ(f, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC ||
	    !starts_with(name, "[pidfd]", 8))
		return 0;
	return resolve_pid(BPF_CORE_READ(f, private_data), tid);
}

#endif
