/* Loader variables at every exec of the followed tree: LD_PRELOAD, LD_AUDIT and LD_LIBRARY_PATH as the new
 * program's environment holds them, one loader_env row each (a wrapper such as `env` or a launcher script
 * sets them after gpo started, so gpo's own environment does not tell). An environment not read to its end
 * is one row too, and counted: a variable hidden behind a long environment is never silently missed. */
#ifndef GPO_RECORD_LOADER_ENV_H
#define GPO_RECORD_LOADER_ENV_H

/* One piece of the environment: a whole string, or GPO_ENV_PIECE_LEN - 1 bytes of a longer one. */
struct env_piece {
	char s[GPO_ENV_PIECE_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct env_piece);
} env_pieces SEC(".maps");

struct env_scan {
	unsigned long pos, end; /* user addresses: the next piece, the end of the environment */
	bool at_start;          /* pos starts a string (not the rest of a long one) */
};

/* The loader variable a string sets (enum gpo_loader_variable) and the length of its "NAME=", or -1. */
static __always_inline int loader_variable(const char *s, __u32 *prefix)
{
	if (s[0] != 'L' || s[1] != 'D' || s[2] != '_')
		return -1;
	if (starts_with(s + 3, "PRELOAD=", 8)) {
		*prefix = 11;
		return GPO_LOADER_PRELOAD;
	}
	if (starts_with(s + 3, "AUDIT=", 6)) {
		*prefix = 9;
		return GPO_LOADER_AUDIT;
	}
	if (starts_with(s + 3, "LIBRARY_PATH=", 13)) {
		*prefix = 16;
		return GPO_LOADER_LIBRARY_PATH;
	}
	return -1;
}

/* A loader_env row: the variable, and its value from the environment (user memory) when value is set. */
static __always_inline void loader_env_row(__u32 variable, const char *value, bool longer)
{
	struct gpo_act_event *e = act_begin(GPO_KIND_LOADER_ENV, 0, 0);

	if (!e)
		return;
	e->request = variable;
	if (value && bpf_probe_read_user_str(e->name, sizeof(e->name), value) < 0)
		e->name[0][0] = 0;
	if (longer) {
		e->flags |= GPO_ACT_PATH_TRUNCATED;
		count(variable == GPO_LOADER_UNSCANNED ? GPO_CNT_ENV_UNSCANNED : GPO_CNT_NAME_TRUNCATED, 1);
	}
	event_submit(e);
}

/* One piece (bpf_loop's callback: the verifier checks it once, whatever the number of pieces). */
static long scan_env_piece(__u64 index, void *ctx)
{
	struct env_scan *c = ctx;
	__u32 zero = 0, prefix = 0;
	struct env_piece *piece;
	long n;
	int variable;

	if (c->pos >= c->end)
		return 1;
	piece = bpf_map_lookup_elem(&env_pieces, &zero);
	if (!piece)
		return 1;
	n = bpf_probe_read_user_str(piece->s, sizeof(piece->s), (void *)c->pos);
	if (n <= 0)
		return 1; /* unreadable: not read to its end */
	if (c->at_start) {
		variable = loader_variable(piece->s, &prefix);
		/* The value is cut when it does not fit the row's string room. */
		if (variable >= 0)
			loader_env_row(variable, (void *)(c->pos + prefix),
				       n == sizeof(piece->s) ||
					       n - 1 - prefix >
						       sizeof(((struct gpo_act_event *)0)->name) - 1);
	}
	if (n < sizeof(piece->s)) {
		c->pos += n;
		c->at_start = true;
	} else {
		c->pos += sizeof(piece->s) - 1;
		c->at_start = false;
	}
	return 0;
}

/* The environment of the program just exec'd by the current task (mm->env_start..env_end, on the new stack
 * the kernel has just written, so every page of it is present). */
static __always_inline void scan_loader_env(struct task_struct *p)
{
	struct env_scan c = {
		.pos = BPF_CORE_READ(p, mm, env_start),
		.end = BPF_CORE_READ(p, mm, env_end),
		.at_start = true,
	};

	bpf_loop(GPO_ENV_PIECES, scan_env_piece, &c, 0);
	if (c.pos < c.end)
		loader_env_row(GPO_LOADER_UNSCANNED, NULL, true);
}

#endif
