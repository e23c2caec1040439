// Linux names for the numbers a trace row holds (x86_64): errno values, open flags, mmap protections,
// signals, ptrace requests, BPF program types, perf event types. One table each, shared by replay, the
// report and the detectors. Unknown values stay visible as numbers, never dropped.

// prettier-ignore
const PTRACE_REQUESTS: Record<number, string> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 3: 'PTRACE_PEEKUSER', 4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA', 6: 'PTRACE_POKEUSER', 7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP',
  12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS', 14: 'PTRACE_GETFPREGS', 15: 'PTRACE_SETFPREGS', 16: 'PTRACE_ATTACH',
  17: 'PTRACE_DETACH', 24: 'PTRACE_SYSCALL', 0x4200: 'PTRACE_SETOPTIONS', 0x4201: 'PTRACE_GETEVENTMSG',
  0x4202: 'PTRACE_GETSIGINFO', 0x4203: 'PTRACE_SETSIGINFO', 0x4204: 'PTRACE_GETREGSET', 0x4205: 'PTRACE_SETREGSET',
  0x4206: 'PTRACE_SEIZE', 0x4207: 'PTRACE_INTERRUPT', 0x4208: 'PTRACE_LISTEN',
};

export function ptraceRequestName(request: number | null): string {
  return request === null ? 'PTRACE_?' : (PTRACE_REQUESTS[request] ?? `PTRACE_${request}`);
}

/** mmap/mprotect protection bits. */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
/** The access mode bits of open flags (O_RDONLY 0, O_WRONLY 1, O_RDWR 2). */
export const O_ACCMODE = 3;

/** errno names and strerror texts (x86_64 Linux), plus the kernel-internal restart codes a tracer can see. */
const ERRNO: Record<number, [string, string]> = {
  1: ['EPERM', 'Operation not permitted'],
  2: ['ENOENT', 'No such file or directory'],
  3: ['ESRCH', 'No such process'],
  4: ['EINTR', 'Interrupted system call'],
  5: ['EIO', 'Input/output error'],
  6: ['ENXIO', 'No such device or address'],
  7: ['E2BIG', 'Argument list too long'],
  8: ['ENOEXEC', 'Exec format error'],
  9: ['EBADF', 'Bad file descriptor'],
  10: ['ECHILD', 'No child processes'],
  11: ['EAGAIN', 'Resource temporarily unavailable'],
  12: ['ENOMEM', 'Cannot allocate memory'],
  13: ['EACCES', 'Permission denied'],
  14: ['EFAULT', 'Bad address'],
  16: ['EBUSY', 'Device or resource busy'],
  17: ['EEXIST', 'File exists'],
  18: ['EXDEV', 'Invalid cross-device link'],
  19: ['ENODEV', 'No such device'],
  20: ['ENOTDIR', 'Not a directory'],
  21: ['EISDIR', 'Is a directory'],
  22: ['EINVAL', 'Invalid argument'],
  23: ['ENFILE', 'Too many open files in system'],
  24: ['EMFILE', 'Too many open files'],
  25: ['ENOTTY', 'Inappropriate ioctl for device'],
  26: ['ETXTBSY', 'Text file busy'],
  27: ['EFBIG', 'File too large'],
  28: ['ENOSPC', 'No space left on device'],
  29: ['ESPIPE', 'Illegal seek'],
  30: ['EROFS', 'Read-only file system'],
  31: ['EMLINK', 'Too many links'],
  32: ['EPIPE', 'Broken pipe'],
  33: ['EDOM', 'Numerical argument out of domain'],
  34: ['ERANGE', 'Numerical result out of range'],
  35: ['EDEADLK', 'Resource deadlock avoided'],
  36: ['ENAMETOOLONG', 'File name too long'],
  37: ['ENOLCK', 'No locks available'],
  38: ['ENOSYS', 'Function not implemented'],
  39: ['ENOTEMPTY', 'Directory not empty'],
  40: ['ELOOP', 'Too many levels of symbolic links'],
  61: ['ENODATA', 'No data available'],
  62: ['ETIME', 'Timer expired'],
  75: ['EOVERFLOW', 'Value too large for defined data type'],
  88: ['ENOTSOCK', 'Socket operation on non-socket'],
  95: ['EOPNOTSUPP', 'Operation not supported'],
  97: ['EAFNOSUPPORT', 'Address family not supported by protocol'],
  98: ['EADDRINUSE', 'Address already in use'],
  99: ['EADDRNOTAVAIL', 'Cannot assign requested address'],
  101: ['ENETUNREACH', 'Network is unreachable'],
  104: ['ECONNRESET', 'Connection reset by peer'],
  105: ['ENOBUFS', 'No buffer space available'],
  106: ['EISCONN', 'Transport endpoint is already connected'],
  107: ['ENOTCONN', 'Transport endpoint is not connected'],
  110: ['ETIMEDOUT', 'Connection timed out'],
  111: ['ECONNREFUSED', 'Connection refused'],
  114: ['EALREADY', 'Operation already in progress'],
  115: ['EINPROGRESS', 'Operation now in progress'],
  125: ['ECANCELED', 'Operation canceled'],
  512: ['ERESTARTSYS', 'To be restarted if SA_RESTART is set'],
  513: ['ERESTARTNOINTR', 'To be restarted'],
  514: ['ERESTARTNOHAND', 'To be restarted if no handler'],
  516: ['ERESTART_RESTARTBLOCK', 'Interrupted by signal'],
  524: ['ENOTSUPP', 'Operation not supported'],
};

/** Highest errno the kernel returns as -errno (larger negative values are addresses or plain results). */
const MAX_ERRNO = 4095;

export function errnoName(errno: number): string {
  return ERRNO[errno]?.[0] ?? `E${errno}`;
}

/** `-1 EPERM (Operation not permitted)` for -EPERM, the number itself otherwise (hex for addresses). */
export function formatReturn(ret: bigint, hex = false): string {
  if (ret < 0n && ret >= BigInt(-MAX_ERRNO)) {
    const errno = Number(-ret);
    const known = ERRNO[errno];
    return known ? `-1 ${known[0]} (${known[1]})` : `-1 E${errno}`;
  }
  return hex && ret > 0n ? `0x${BigInt.asUintN(64, ret).toString(16)}` : ret.toString();
}

/** The errno name of a failed return, or null. */
export function returnError(ret: bigint | null): string | null {
  return ret !== null && ret < 0n && ret >= BigInt(-MAX_ERRNO) ? errnoName(Number(-ret)) : null;
}

/** Syscalls that return an address: shown in hex like strace does. */
export const ADDRESS_RETURNING = new Set(['mmap', 'mremap', 'brk', 'shmat']);

// prettier-ignore
const SIGNALS = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1',
  'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP',
  'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

export function signalName(signal: number): string {
  if (signal === 0) return '0';
  if (signal > 0 && signal < SIGNALS.length) return SIGNALS[signal]!;
  if (signal >= 32 && signal <= 64) return signal === 34 ? 'SIGRTMIN' : `SIGRTMIN+${signal - 34}`;
  return `SIG${signal}`;
}

/** Open flags besides the access mode, in the order strace prints them (octal values, x86_64). */
// prettier-ignore
const OPEN_FLAGS: [number, string][] = [
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o4010000, 'O_SYNC'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'], [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'], [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'], [0o20200000, 'O_TMPFILE'],
];

export function openFlags(flags: number): string {
  const parts = [['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][flags & 3]!];
  let rest = flags & ~3;
  for (const [bit, name] of OPEN_FLAGS) {
    if ((rest & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) parts.push(`0${rest.toString(8)}`);
  return parts.join('|');
}

export function protFlags(prot: number): string {
  if (prot === 0) return 'PROT_NONE';
  const parts: string[] = [];
  if (prot & PROT_READ) parts.push('PROT_READ');
  if (prot & PROT_WRITE) parts.push('PROT_WRITE');
  if (prot & PROT_EXEC) parts.push('PROT_EXEC');
  const rest = prot & ~7;
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

// prettier-ignore
const BPF_PROG_TYPES = [
  'UNSPEC', 'SOCKET_FILTER', 'KPROBE', 'SCHED_CLS', 'SCHED_ACT', 'TRACEPOINT', 'XDP', 'PERF_EVENT', 'CGROUP_SKB',
  'CGROUP_SOCK', 'LWT_IN', 'LWT_OUT', 'LWT_XMIT', 'SOCK_OPS', 'SK_SKB', 'CGROUP_DEVICE', 'SK_MSG', 'RAW_TRACEPOINT',
  'CGROUP_SOCK_ADDR', 'LWT_SEG6LOCAL', 'LIRC_MODE2', 'SK_REUSEPORT', 'FLOW_DISSECTOR', 'CGROUP_SYSCTL',
  'RAW_TRACEPOINT_WRITABLE', 'CGROUP_SOCKOPT', 'TRACING', 'STRUCT_OPS', 'EXT', 'LSM', 'SK_LOOKUP', 'SYSCALL', 'NETFILTER',
];

export function bpfProgType(type: number): string {
  return type >= 0 && type < BPF_PROG_TYPES.length ? `BPF_PROG_TYPE_${BPF_PROG_TYPES[type]}` : `BPF_PROG_TYPE_${type}`;
}

const PERF_TYPES = ['PERF_TYPE_HARDWARE', 'PERF_TYPE_SOFTWARE', 'PERF_TYPE_TRACEPOINT', 'PERF_TYPE_HW_CACHE', 'PERF_TYPE_RAW', 'PERF_TYPE_BREAKPOINT'];

export function perfType(type: number): string {
  return PERF_TYPES[type] ?? `perf type ${type}`;
}

/** A wait status as words: `exited 0`, `killed by SIGKILL`, `killed by SIGSEGV (core dumped)`. */
export function waitStatus(status: number): string {
  const signal = status & 0x7f;
  if (signal === 0) return `exited ${(status >> 8) & 0xff}`;
  return `killed by ${signalName(signal)}${status & 0x80 ? ' (core dumped)' : ''}`;
}
