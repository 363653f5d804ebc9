/**
 * zkms audit verify|tail (API.md "Audit and providers", admin). `verify` exits 5 when a chain is
 * broken, so a cron job or CI step fails on tampering. `tail` prints the last events (one line
 * each, or `--json`), and with `--follow` keeps printing new ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, EXIT, api, type ClientOptions } from '../client.js';
import { table, type Command, type CommandContext } from '../command.js';
import { integer, optional } from '../flags.js';

interface AuditEvent {
  instance: string;
  seq: number;
  time: string;
  principal: string | null;
  action: string;
  key: string | null;
  keyVersion: number | null;
  outcome: string;
  code: string | null;
  requestId: string | null;
}

type Verify =
  | { ok: true; chains: { instance: string; events: number; head: string }[]; checkpoint: unknown }
  | { ok: false; brokenAt: { instance: string; seq: number }; reason: string };

function formatVerify(out: unknown): string {
  const v = out as Verify;
  if (!v.ok) return `BROKEN at ${v.brokenAt.instance}/${v.brokenAt.seq}: ${v.reason}`;
  const cp = v.checkpoint as { instance: string; seq: number } | null;
  return [
    table(v.chains.map((c) => ({ instance: c.instance, events: c.events, head: c.head }))),
    '',
    `ok: every chain recomputed${cp ? `; last signed checkpoint ${cp.instance}/${cp.seq}` : ''}`,
  ].join('\n');
}

const verify: Command = {
  summary: 'verify every audit chain and checkpoint (exit 5 when broken)',
  async run(ctx) {
    const v = await api<Verify>(ctx.client, 'GET', '/v1/audit/verify');
    if (v.ok) return v;
    console.log(ctx.flags.json ? JSON.stringify(v, null, 2) : formatVerify(v));
    throw new CliError('the audit log does not verify', EXIT.integrity);
  },
  format: formatVerify,
};

function line(e: AuditEvent): string {
  const key = e.key ? ` ${e.key}${e.keyVersion ? `@${e.keyVersion}` : ''}` : '';
  const code = e.code ? ` ${e.code}` : '';
  return `${e.time} ${e.instance}/${e.seq} ${e.principal ?? '-'} ${e.action}${key} ${e.outcome}${code}`;
}

interface Page {
  events: AuditEvent[];
  next: string | null;
}

function query(ctx: CommandContext, after: string | undefined): string {
  const q = new URLSearchParams({ limit: '1000' });
  for (const f of ['key', 'principal', 'action']) {
    const v = optional(ctx, f);
    if (v !== undefined) q.set(f, v);
  }
  if (after !== undefined) q.set('after', after);
  return `/v1/audit/events?${q}`;
}

/**
 * Reads every page from `after`; returns the cursor of the last (partial) page and its events,
 * so a follower can re-read that page and print only what is new.
 */
async function readFrom(client: ClientOptions, ctx: CommandContext, after: string | undefined) {
  const events: AuditEvent[] = [];
  let cursor = after;
  let lastPage: AuditEvent[] = [];
  for (;;) {
    const p = await api<Page>(client, 'GET', query(ctx, cursor));
    events.push(...p.events);
    lastPage = p.events;
    if (p.next === null) return { events, cursor, lastPage };
    cursor = p.next;
  }
}

const idOf = (e: AuditEvent) => `${e.instance}/${e.seq}`;

async function follow(ctx: CommandContext, start: Awaited<ReturnType<typeof readFrom>>) {
  const interval = (integer(ctx, 'interval') ?? 2) * 1000;
  let { cursor } = start;
  let seen = new Set(start.lastPage.map(idOf));
  for (;;) {
    await sleep(interval);
    const now = await readFrom(ctx.client, ctx, cursor);
    for (const e of now.events)
      if (!seen.has(idOf(e))) console.log(ctx.flags.json ? JSON.stringify(e) : line(e));
    if (now.cursor !== cursor) seen = new Set();
    cursor = now.cursor;
    for (const e of now.lastPage) seen.add(idOf(e));
  }
}

const tail: Command = {
  summary: 'last events: [--lines N] [--key K] [--principal P] [--action A] [--follow]',
  async run(ctx) {
    const lines = integer(ctx, 'lines') ?? 20;
    const start = await readFrom(ctx.client, ctx, undefined);
    const last = start.events.slice(-lines);
    if (ctx.flags.follow !== true) return { events: last };
    for (const e of last) console.log(ctx.flags.json ? JSON.stringify(e) : line(e));
    return follow(ctx, start);
  },
  format: (out) => (out as { events: AuditEvent[] }).events.map(line).join('\n') || '(no events)',
};

export const commands: Record<string, Command> = { 'audit verify': verify, 'audit tail': tail };
