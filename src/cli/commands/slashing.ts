/**
 * zkms slashing export|import (API.md "Validators": slashing-protection interchange, admin).
 * `export` writes the file to --out (or stdout); `import` posts one. The KMS never lowers a
 * watermark on import, so importing a file taken before a database restore is always safe, and is
 * the step docs/operations.md requires after every restore.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { api } from '../client.js';
import { UsageError, flag, table, type Command } from '../command.js';
import { optional } from '../flags.js';

const CHAIN_ID = /^[0-9]{1,20}$/;

interface Interchange {
  metadata: { interchange_format_version: string; chainId: string };
  data: { pubkey: string; signed_blocks: { height: string; round: string }[] }[];
}

const exportFile: Command = {
  summary: 'export watermarks: --chain-id C [--out FILE]',
  async run(ctx) {
    const chainId = flag(ctx, 'chain-id');
    if (!CHAIN_ID.test(chainId)) throw new UsageError('--chain-id must be a decimal chain id');
    const file = await api<Interchange>(
      ctx.client,
      'GET',
      `/v1/validators/slashing-protection?chainId=${chainId}`,
    );
    const out = optional(ctx, 'out');
    if (out === undefined) return file;
    writeFileSync(out, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    return { file: out, chainId: file.metadata.chainId, keys: file.data.length };
  },
  // Without --out the interchange file itself is the output, in JSON either way.
  format: (out) =>
    'metadata' in (out as object)
      ? JSON.stringify(out, null, 2)
      : table([out as Record<string, unknown>]),
};

const importFile: Command = {
  summary: 'import watermarks (never lowers one): --file FILE',
  async run(ctx) {
    const path = flag(ctx, 'file');
    let body: unknown;
    try {
      body = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UsageError(`--file: ${(e as Error).message}`);
    }
    return api(ctx.client, 'POST', '/v1/validators/slashing-protection', body);
  },
  format: (out) => table([out as Record<string, unknown>]),
};

export const commands: Record<string, Command> = {
  'slashing export': exportFile,
  'slashing import': importFile,
};
