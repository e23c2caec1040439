// `gpo doctor [--json]`: which hooks load and attach on this machine, and what gpo can observe here.
import type { Command } from 'commander';
import { escapeJson } from '../cli/escape.js';
import { formatReport, runDoctor } from '../doctor/index.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('probe this kernel: BTF, privileges, tracefs, which BPF hook types load and attach, what gpo can observe')
    .option('--json', 'print the report as JSON')
    .option('--verbose', "print libbpf's log to stderr")
    .action((options: { json?: boolean; verbose?: boolean }) => {
      const report = runDoctor({ verbose: options.verbose });
      process.stdout.write(options.json ? escapeJson(report) : formatReport(report));
    });
}
