// empty-tp: attaches bpf/bench-empty.bpf.c (an empty tp_btf/sys_exit program), prints "attached", and keeps
// it attached until its stdin closes. bench/record.ts runs the storm meanwhile: the floor of a tp_btf tracer.
#include <stdio.h>
#include <unistd.h>

#include "bench-empty.skel.h"

int main(void)
{
	struct bench_empty_bpf *skel = bench_empty_bpf__open_and_load();
	char c;

	if (!skel || bench_empty_bpf__attach(skel)) {
		fprintf(stderr, "empty-tp: cannot load or attach the empty program\n");
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	bench_empty_bpf__destroy(skel);
	return 0;
}
