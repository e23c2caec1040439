/* The ring buffer, the per-CPU syscall stages and the counters: syscall records staged and flushed 64 at a
 * time, and the one reserve-fill helper every other record goes through. */
#ifndef GPO_RECORD_STAGING_H
#define GPO_RECORD_STAGING_H

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

/* Every record but syscall batches: flush this CPU's stage first (so the record follows the syscalls its
 * thread made before it), reserve, count a loss, fill the common header. Submit with event_submit. */
static __always_inline void *event_begin(__u32 size, __u32 type, __u32 tgid, __u32 tid)
{
	struct gpo_event_header *h;

	flush_this_cpu();
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		count(GPO_CNT_EVENTS_DROPPED, 1);
		return NULL;
	}
	fill_header(h, type, tgid, tid);
	return h;
}

static __always_inline void event_submit(void *e) { bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP); }

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

#endif
