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

/* Row kinds, in the order of ROW_KINDS in src/trace/schema.ts (test/record-layout.test.ts checks it). */
enum gpo_row_kind {
	GPO_KIND_SYSCALL = 0,
	GPO_KIND_FORK,
	GPO_KIND_THREAD,
	GPO_KIND_EXEC,
	GPO_KIND_EXIT,
	GPO_KIND_RENAME,
	GPO_KIND_PTRACE,
	GPO_KIND_VM_READ,
	GPO_KIND_VM_WRITE,
	GPO_KIND_PROC_OPEN,
	GPO_KIND_SIGNAL,
	GPO_KIND_PIDFD,
	GPO_KIND_PERF_OPEN,
	GPO_KIND_MODULE_LOAD,
	GPO_KIND_BPF_LOAD,
	GPO_KIND_DEVICE_OPEN,
	GPO_KIND_MMAP_EXEC,
	GPO_KIND_EXEC_MEMORY,
	GPO_KIND_MEMFD_CREATE,
	GPO_KIND_IO_URING_SETUP,
	GPO_KIND_LIBCALL,
	GPO_KIND_LOADER_ENV,
	GPO_KIND_COUNT,
};

enum gpo_record_type {
	GPO_REC_SYSCALLS = 1, /* a batch of struct gpo_syscall (or gpo_syscall_timed) */
	GPO_REC_FORK = 2,     /* new process or new thread */
	GPO_REC_EXEC = 3,
	GPO_REC_EXIT = 4,
	GPO_REC_RENAME = 5,
	GPO_REC_ACT = 6, /* struct gpo_act_event: tampering, system-wide, in-target and library-call rows */
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
	__u32 nlink;               /* links of the executed file: 0 for a memfd or a deleted file */
	__u64 dev;
	__u64 inode;
	char comm[GPO_COMM_LEN];
	char path[GPO_PATH_LEN];
	char argv[GPO_ARGV_LEN];
};

struct gpo_exit_event {
	struct gpo_event_header h;
	__s32 exit_code;
	__u32 group_dead;
	char comm[GPO_COMM_LEN];
};

struct gpo_rename_event {
	struct gpo_event_header h;
	char comm[GPO_COMM_LEN];
};

#define GPO_NAME_PARTS 10
#define GPO_NAME_LEN 48
#define GPO_ACT_PATH_TRUNCATED 1
/* GPO_ACT_FILE_DELETED: the file has no name left (unlinked, O_TMPFILE, memfd, SysV shm): " (deleted)" */
#define GPO_ACT_FILE_DELETED 2
#define GPO_ACT_EXE_DELETED 4 /* the same of the actor's executable */

/* One act worth a row of its own. pid/tid of the header are the actor's. The name area holds either a
 * plain string (name_parts == 0: a user path, memfd name, library call argument) or, for a file the
 * kernel resolved, the components of its path from the leaf up (name_parts of them). */
struct gpo_act_event {
	struct gpo_event_header h;
	__u32 kind; /* enum gpo_row_kind */
	__u32 uid;
	__u32 target_tgid;
	__u32 target_tid;
	__s64 ret;
	__u64 request;
	__u64 addr;
	__u64 size;
	__u64 dev;
	__u64 inode;
	__u64 offset;
	__u32 nr;
	__u32 name_parts;
	__u32 flags; /* GPO_ACT_* */
	__u32 pad;
	char comm[GPO_COMM_LEN];
	char name[GPO_NAME_PARTS][GPO_NAME_LEN];
	__u32 exe_parts; /* actor rows: components of the actor's executable path, leaf first */
	__u32 pad2;
	char exe[GPO_NAME_PARTS][GPO_NAME_LEN];
};

/* Loader variables found in the environment of an exec (GPO_KIND_LOADER_ENV acts: request is the variable,
 * the name area its value). GPO_LOADER_UNSCANNED: the environment was not read to its end. The environment
 * is read string by string, a string longer than a piece in pieces; at most GPO_ENV_PIECES pieces. */
enum gpo_loader_variable {
	GPO_LOADER_PRELOAD = 0,  /* LD_PRELOAD */
	GPO_LOADER_AUDIT,        /* LD_AUDIT */
	GPO_LOADER_LIBRARY_PATH, /* LD_LIBRARY_PATH */
	GPO_LOADER_UNSCANNED,
};
#define GPO_ENV_PIECES 8192
#define GPO_ENV_PIECE_LEN 4096

/* The followed threads by pid namespace and number (map task_ids): a thread is entered once per namespace
 * level it is visible in, up to GPO_PID_LEVELS levels. */
#define GPO_TASK_IDS 65536
#define GPO_PID_LEVELS 4
struct gpo_task_key {
	__u32 ns; /* inode number of the pid namespace */
	__u32 nr; /* the thread's number there */
};

struct gpo_task_ids {
	__u32 tgid; /* global ids */
	__u32 tid;
};

/* Per-CPU counters, summed by user space. */
enum gpo_counter {
	GPO_CNT_SYSCALLS_DROPPED = 0, /* syscall records lost to a full ring buffer */
	GPO_CNT_EVENTS_DROPPED,       /* lifecycle records lost to a full ring buffer */
	GPO_CNT_PATH_TRUNCATED,       /* exec paths cut to GPO_PATH_LEN */
	GPO_CNT_ARGV_TRUNCATED,       /* exec argv cut to GPO_ARGV_LEN */
	GPO_CNT_BATCHES,              /* syscall batches written */
	GPO_CNT_NAME_TRUNCATED,       /* act paths cut to fit */
	GPO_CNT_ENV_UNSCANNED,        /* exec environments not read to their end */
	GPO_CNT_MAX,
};

#endif
