/* Signals to followed processes, by every route: the kernel's signal_generate tracepoint fires once for each
 * process or thread a signal is generated for, so kill(0), kill(-pgid), killpg, kill(-1),
 * PIDFD_SIGNAL_PROCESS_GROUP and F_SETOWN's SIGIO to a group are seen like kill(pid). A signal the kernel
 * refused (EPERM, ESRCH, a bad number) or signal 0 generates nothing: those stay with the syscall-exit hook
 * (act_any, acts.h), where the pid argument names the target. */
#ifndef GPO_RECORD_SIGNALS_H
#define GPO_RECORD_SIGNALS_H

#define SEND_SIG_PRIV_INFO 1 /* (struct kernel_siginfo *)1: sent by the kernel on its own behalf */
#define SI_TIMER_CODE (-2)

/* A signal generated for a followed process by another process. Not recorded: the process's own signals
 * (a thread to another, raise, SIGPIPE), gpo's own (stopping what it launched), and those the kernel sends
 * on its own behalf, which would flood a trace with rows no other process caused: SEND_SIG_PRIV (timers'
 * SIGALRM, the terminal's SIGINT/SIGTSTP/SIGHUP, OOM kills), si_code > 0 (SIGCHLD, faults, SIGIO), and POSIX
 * timer expiries (SI_TIMER, sent from interrupt context whatever runs). rt_sigqueueinfo lets a sender forge
 * SI_TIMER (any si_code < 0), so an SI_TIMER signal sent from inside a signal syscall is kept. */
static __always_inline void act_on_signal(int sig, struct kernel_siginfo *info, struct task_struct *task,
					  int result)
{
	__u32 actor = bpf_get_current_pid_tgid() >> 32;
	__u32 target = BPF_CORE_READ(task, tgid);
	struct gpo_act_event *e;
	struct pt_regs *regs;
	int code = 0;
	__u32 nr;

	if (!observe_acts || !is_tracked(target) || actor == target || actor == gpo_tgid)
		return;
	if ((unsigned long)info == SEND_SIG_PRIV_INFO)
		return;
	if (info)
		code = BPF_CORE_READ(info, si_code);
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	nr = BPF_CORE_READ(regs, orig_ax) & 0xffff;
	if (code > 0 || (code == SI_TIMER_CODE && !is_signal_syscall(nr)))
		return;
	/* nr: the sender's syscall (the route); ret: what that syscall returns for this process. */
	e = act_begin(GPO_KIND_SIGNAL, nr, result == TRACE_SIGNAL_OVERFLOW_FAIL ? -EAGAIN_ERRNO : 0);
	if (!e)
		return;
	e->target_tgid = target;
	e->target_tid = BPF_CORE_READ(task, pid);
	e->request = sig;
	/* TRACE_SIGNAL_*: 0 delivered, 1 ignored, 2 already pending, 3 queue full, 4 info lost */
	e->addr = result;
	event_submit(e);
}

#endif
