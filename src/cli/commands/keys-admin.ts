/**
 * zkms key create|import|list|show|rotate|delete (API.md "Keys", admin). A private key to import
 * is read from a file (hex), never from the command line, where it would reach the shell history
 * and the process list.
 */
import { readFileSync } from 'node:fs';
import { api } from '../client.js';
import { UsageError, flag, table, type Command, type CommandContext } from '../command.js';
import { integer, list, optional, positional, toggle } from '../flags.js';

interface KeyView {
  name: string;
  algorithm: string;
  purpose: string;
  publicKey?: string;
  residency: string;
  protection?: string;
  enabled: boolean;
  minDecryptionVersion: number;
  versions: { version: number; state: string; createdAt: string; publicKey?: string }[];
}

const short = (hex: string | undefined) =>
  hex === undefined ? '' : hex.length > 24 ? `${hex.slice(0, 14)}…${hex.slice(-8)}` : hex;

function keyRow(k: KeyView): Record<string, unknown> {
  const active = k.versions.find((v) => v.state === 'active');
  return {
    name: k.name,
    algorithm: k.algorithm,
    purpose: k.purpose,
    version: active?.version ?? '',
    enabled: k.enabled ? 'yes' : 'no',
    residency: k.residency,
    protection: k.protection ?? '',
    publicKey: short(k.publicKey),
  };
}

function formatKey(out: unknown): string {
  const k = out as KeyView;
  const versions = k.versions.map((v) => ({ ...v, publicKey: short(v.publicKey) }));
  return `${table([keyRow(k)])}\n\n${table(versions)}`;
}

const nameOf = (ctx: CommandContext, verb: string) =>
  positional(ctx, 0, 'the key name', `zkms key ${verb} <name> ...`);

/** The fields `create` and `import` share. */
function spec(ctx: CommandContext, verb: string) {
  const chains = list(ctx, 'chains');
  const jwks = toggle(ctx, 'jwks');
  const residency = optional(ctx, 'residency');
  const provider = optional(ctx, 'provider');
  return {
    name: nameOf(ctx, verb),
    algorithm: flag(ctx, 'algorithm'),
    purpose: flag(ctx, 'purpose'),
    ...(chains ? { chains } : {}),
    ...(jwks !== undefined ? { jwks } : {}),
    ...(residency ? { residency } : {}),
    ...(provider ? { provider } : {}),
  };
}

const create: Command = {
  summary:
    'create a key: <name> --algorithm A --purpose P [--chains 122,120] [--jwks] [--residency R --provider P]',
  run: (ctx) => api<KeyView>(ctx.client, 'POST', '/v1/keys', spec(ctx, 'create')),
  format: formatKey,
};

function privateKeyHex(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`cannot read --private-key-file: ${(e as Error).message}`);
  }
  return text.startsWith('0x') ? text : `0x${text}`;
}

const importKey: Command = {
  summary: 'import a key: <name> --algorithm A --purpose P --private-key-file FILE (hex)',
  run: (ctx) => {
    const body = spec(ctx, 'import');
    return api<KeyView>(ctx.client, 'POST', '/v1/keys/import', {
      ...body,
      privateKey: privateKeyHex(flag(ctx, 'private-key-file')),
    });
  },
  format: formatKey,
};

const listKeys: Command = {
  summary: 'list the keys the token may see',
  run: (ctx) => api<{ keys: KeyView[] }>(ctx.client, 'GET', '/v1/keys'),
  format: (out) => table((out as { keys: KeyView[] }).keys.map(keyRow)),
};

const show: Command = {
  summary: 'show a key and its versions: <name>',
  run: (ctx) =>
    api<KeyView>(ctx.client, 'GET', `/v1/keys/${encodeURIComponent(nameOf(ctx, 'show'))}`),
  format: formatKey,
};

const rotate: Command = {
  summary: 'rotate: <name> (the previous version becomes decrypt-only)',
  run: (ctx) =>
    api<KeyView>(
      ctx.client,
      'POST',
      `/v1/keys/${encodeURIComponent(nameOf(ctx, 'rotate'))}/rotate`,
    ),
  format: formatKey,
};

const remove: Command = {
  summary: 'destroy a key (every version) or one --version V; needs --yes',
  run: (ctx) => {
    const name = encodeURIComponent(nameOf(ctx, 'delete'));
    const version = integer(ctx, 'version');
    // Crypto-shredding cannot be undone: ask for it explicitly.
    if (toggle(ctx, 'yes') !== true)
      throw new UsageError('destroying key material cannot be undone: add --yes');
    const path =
      version === undefined ? `/v1/keys/${name}` : `/v1/keys/${name}/versions/${version}`;
    return api<KeyView>(ctx.client, 'DELETE', path);
  },
  format: formatKey,
};

export const commands: Record<string, Command> = {
  'key create': create,
  'key import': importKey,
  'key list': listKeys,
  'key show': show,
  'key rotate': rotate,
  'key delete': remove,
};
