/* Records shared by the BPF programs and the addon. One definition: native/ includes this header, and
 * test/record-layout.test.ts checks the TypeScript side's view of these sizes against the addon. */
#ifndef GPO_H
#define GPO_H

#define GPO_STAGE_RECORDS 64
/* PID_MAX_LIMIT on 64-bit kernels: the tracked-process bitmap covers every possible tgid. */
#define GPO_PID_LIMIT (4 * 1024 * 1024)
#define GPO_PID_BITMAP_WORDS (GPO_PID_LIMIT / 64) /* __u64 words */
#define GPO_COMM_LEN 16
#define GPO_PATH_LEN 256
#define GPO_ARGV_LEN 1024
#define GPO_MAX_SYSCALL 512
/* Syscall timestamps are stored relative to the recording's base time in the low 48 bits (78 hours). */
#define GPO_TS_BITS 48
#define GPO_TS_MASK ((1ULL << GPO_TS_BITS) - 1)

enum gpo_record_type {
	GPO_REC_SYSCALLS = 1, /* a batch of struct gpo_syscall (or gpo_syscall_timed) */
	GPO_REC_FORK = 2,     /* new process or new thread */
	GPO_REC_EXEC = 3,
	GPO_REC_EXIT = 4,
	GPO_REC_RENAME = 5,
};

/* One syscall as it leaves the kernel: 24 bytes, the ring buffer's bandwidth is the cost. */
struct gpo_syscall {
	__u64 ts_nr; /* low 48 bits: ns since base_ns; high 16 bits: syscall number */
	__s64 ret;
	__u32 tgid;
	__u32 tid;
};

/* The same with the time spent in the syscall, when durations are recorded. */
struct gpo_syscall_timed {
	struct gpo_syscall core;
	__u64 duration_ns;
};

/* Header of a staged batch as it appears in the ring buffer; count records follow. */
struct gpo_batch_header {
	__u32 type; /* GPO_REC_SYSCALLS */
	__u32 count;
	__u32 record_size;
	__u32 pad;
};

/* Header of every lifecycle record. ts is ns since base_ns (full 64 bits). */
struct gpo_event_header {
	__u32 type;
	__u32 tgid;
	__u32 tid;
	__u32 pad;
	__u64 ts;
};

struct gpo_fork_event {
	struct gpo_event_header h; /* the parent thread */
	__u32 child_tgid;
	__u32 child_tid;
	char child_comm[GPO_COMM_LEN];
};

#define GPO_EXEC_PATH_TRUNCATED 1
#define GPO_EXEC_ARGV_TRUNCATED 2

struct gpo_exec_event {
	struct gpo_event_header h; /* tid is the thread after exec (the leader) */
	__u32 old_tid;             /* the thread that called execve */
	__u32 argv_len;            /* bytes of NUL-separated argv in argv[] */
	__u32 flags;               /* GPO_EXEC_*_TRUNCATED */
	__u32 pad;
	char comm[GPO_COMM_LEN];
	char path[GPO_PATH_LEN];
	char argv[GPO_ARGV_LEN];
};

struct gpo_exit_event {
	struct gpo_event_header h;
	__s32 exit_code;
	__u32 group_dead;
};

struct gpo_rename_event {
	struct gpo_event_header h;
	char comm[GPO_COMM_LEN];
};

/* Per-CPU counters, summed by user space. */
enum gpo_counter {
	GPO_CNT_SYSCALLS_DROPPED = 0, /* syscall records lost to a full ring buffer */
	GPO_CNT_EVENTS_DROPPED,       /* lifecycle records lost to a full ring buffer */
	GPO_CNT_PATH_TRUNCATED,       /* exec paths cut to GPO_PATH_LEN */
	GPO_CNT_ARGV_TRUNCATED,       /* exec argv cut to GPO_ARGV_LEN */
	GPO_CNT_BATCHES,              /* syscall batches written */
	GPO_CNT_MAX,
};

#endif
