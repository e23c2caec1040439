/* The tracked set: followed processes by tgid (a bitmap), and their threads by pid namespace and number. */
#ifndef GPO_RECORD_TRACKED_H
#define GPO_RECORD_TRACKED_H

/* The followed processes, one bit per tgid. User space seeds it; the fork and exit hooks maintain it, and
 * clearing a bit when its process dies means a reused pid is never followed by mistake. */
__u64 tracked_tgids[GPO_PID_BITMAP_WORDS];

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

#endif
