/* Constants the programs act on, and the configuration user space sets through the skeleton before load. */
#ifndef GPO_RECORD_CONFIG_H
#define GPO_RECORD_CONFIG_H

/* A stage is flushed once its oldest record is this old, at the thread's next syscall... */
#define FLUSH_AGE_NS (50 * 1000 * 1000ULL)
/* ...and at a timer interrupt on its CPU once this old: a CPU spinning in user space makes no syscall and
 * no context switch, yet gets its timer tick (every 1-10 ms by CONFIG_HZ). */
#define TICK_FLUSH_AGE_NS (10 * 1000 * 1000ULL)

/* x86_64 syscall numbers the programs act on. */
#define NR_OPEN 2
#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_SHMAT 30
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
#define NR_PKEY_MPROTECT 329
#define NR_PIDFD_SEND_SIGNAL 424
#define NR_IO_URING_SETUP 425
#define NR_IO_URING_ENTER 426
#define NR_PIDFD_OPEN 434
#define NR_OPENAT2 437
#define NR_PIDFD_GETFD 438

#define AT_FDCWD_FD -100
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define SHM_RDONLY 010000
#define SHM_EXEC 0100000
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

#endif
