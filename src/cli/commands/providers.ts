/** zkms providers: the key providers, in priority order, with their last canary (admin). */
import { api } from '../client.js';
import { table, type Command } from '../command.js';

export interface ProviderStatus {
  name: string;
  kind: string;
  priority: number;
  healthy: boolean;
  lastCheckAt: string | null;
  latencyMs: number | null;
  error?: string;
}

export function providerRows(list: ProviderStatus[]): Record<string, unknown>[] {
  return list.map((p) => ({
    priority: p.priority,
    name: p.name,
    kind: p.kind,
    healthy: p.healthy ? 'yes' : 'NO',
    latencyMs: p.latencyMs,
    lastCheckAt: p.lastCheckAt,
    error: p.error ?? '',
  }));
}

const providers: Command = {
  summary: 'list key providers and their health',
  run: (ctx) => api<ProviderStatus[]>(ctx.client, 'GET', '/v1/providers'),
  format: (out) => table(providerRows(out as ProviderStatus[])),
};

export const commands: Record<string, Command> = { providers };
