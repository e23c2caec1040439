/* Process lifecycle: the launcher, and exit rows (whichever hook the kernel offers serves them). */
#ifndef GPO_RECORD_LIFECYCLE_H
#define GPO_RECORD_LIFECYCLE_H

/* `gpo record -- CMD` starts CMD through a launcher; what the launcher does before its exec is not CMD's. */
__u32 launcher_tgid = 0;

/* A thread's exit; group_dead: the last thread of its process. */
static __always_inline void record_exit(struct task_struct *task, bool group_dead)
{
	__u32 tgid = task->tgid;
	struct gpo_exit_event *e;

	if (!is_tracked(tgid))
		return;
	put_task_ids(task, false);
	if (group_dead)
		set_tracked(tgid, false);
	e = event_begin(sizeof(*e), GPO_REC_EXIT, tgid, task->pid);
	if (!e)
		return;
	e->exit_code = task->exit_code;
	e->group_dead = group_dead;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	event_submit(e);
}

#endif
