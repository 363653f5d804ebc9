/** One CLI command: a handler that returns data (printed as a table or `--json`). */
import type { ClientOptions } from './client.js';

export interface CommandContext {
  readonly client: ClientOptions;
  readonly flags: Record<string, string | boolean>;
  readonly args: string[];
}

export interface Command {
  readonly summary: string;
  run(ctx: CommandContext): Promise<unknown>;
  /** Human-readable output; default pretty JSON. */
  format?(out: unknown): string;
}

/** A required string flag, or a usage error naming it. */
export function flag(ctx: CommandContext, name: string): string {
  const v = ctx.flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export class UsageError extends Error {}

/** Fixed-width table of rows (objects), for human output. */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}
