/**
 * zkms replicate identity|recipients: the client of API.md "Replicate" for HIP-0302 init containers
 * and sidecars. `identity` makes an ephemeral age identity in memory, asks the KMS for the service's
 * identity encrypted to it, decrypts, and writes the identity to --out with mode 0600; only
 * non-secret facts (file, kind, version, recipient) are printed.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Decrypter, armor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { decodeIdentity, recipientOf } from '../../crypto/age-identity.js';
import { api, type ClientOptions } from '../client.js';
import { UsageError, flag, table, type Command, type CommandContext } from '../command.js';

interface Recipients {
  keyVersion: number;
  recipients: Record<string, string>;
  s3Prefix: string;
}

/** API.md "Replicate" forms, checked here too so that `..` can never reshape the URL. */
const FORMS: Record<string, RegExp> = {
  ecosystem: /^(hanzo|lux|zoo)$/,
  env: /^[a-z0-9-]{1,63}$/,
  service: /^[a-z0-9-]{1,63}$/,
};

function targetPath(ctx: CommandContext): string {
  const parts = Object.entries(FORMS).map(([name, form]) => {
    const value = flag(ctx, name);
    if (!form.test(value)) throw new UsageError(`--${name} must match ${form.source}`);
    return value;
  });
  return `/v1/replicate/${parts.join('/')}`;
}

function keyVersion(ctx: CommandContext): number | undefined {
  const v = ctx.flags['key-version'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,8}$/.test(v))
    throw new UsageError('--key-version must be a positive integer');
  return Number(v);
}

/** The service's identity string, fetched encrypted to a throwaway hybrid (post-quantum) identity. */
async function fetchIdentity(
  client: ClientOptions,
  route: string,
  body: { kind?: string; keyVersion?: number },
) {
  const ephemeral = await generateHybridIdentity();
  const wrapTo = await identityToRecipient(ephemeral);
  const res = await api<{ keyVersion: number; kind: string; identity: string }>(
    client,
    'POST',
    `${route}/identity`,
    { wrapTo, ...body },
  );
  const d = new Decrypter();
  d.addIdentity(ephemeral);
  const plaintext = await d.decrypt(armor.decode(res.identity));
  return { keyVersion: res.keyVersion, kind: res.kind, plaintext };
}

/**
 * Writes `bytes` to `file` atomically: a new sibling created exclusively with mode 0600 (never
 * readable by others, even briefly), synced, then renamed over the target.
 */
async function writePrivate(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, file).catch(async (e: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw e;
  });
}

/** The decrypted answer must be one native identity, of the kind asked for. */
function parseAnswer(
  plaintext: Uint8Array,
  kind: string | undefined,
): ReturnType<typeof decodeIdentity> {
  let parsed: ReturnType<typeof decodeIdentity>;
  try {
    parsed = decodeIdentity(new TextDecoder().decode(plaintext));
  } catch {
    throw new Error('the KMS answer is not an age identity');
  }
  if (kind !== undefined && parsed.kind !== kind)
    throw new Error(`the KMS answered a ${parsed.kind} identity, not ${kind}`);
  return parsed;
}

const identity: Command = {
  summary: 'write a service age identity to --out (0600)',
  async run(ctx) {
    const out = flag(ctx, 'out');
    const kind = ctx.flags.kind === undefined ? undefined : flag(ctx, 'kind');
    const version = keyVersion(ctx);
    const res = await fetchIdentity(ctx.client, targetPath(ctx), {
      ...(kind ? { kind } : {}),
      ...(version ? { keyVersion: version } : {}),
    });
    try {
      const parsed = parseAnswer(res.plaintext, kind);
      const recipient = await recipientOf(parsed.kind, parsed.seed);
      parsed.seed.fill(0);
      const line = new Uint8Array(res.plaintext.length + 1);
      line.set(res.plaintext);
      line[res.plaintext.length] = 0x0a;
      await writePrivate(out, line).finally(() => line.fill(0));
      return { file: out, kind: parsed.kind, keyVersion: res.keyVersion, recipient };
    } finally {
      res.plaintext.fill(0);
    }
  },
  format: (o) => table([o as Record<string, unknown>]),
};

const recipients: Command = {
  summary: "print a service's age recipients",
  async run(ctx) {
    return api<Recipients>(ctx.client, 'GET', `${targetPath(ctx)}/recipients`);
  },
  format(o) {
    const r = o as Recipients;
    const rows = Object.entries(r.recipients).map(([kind, recipient]) => ({
      kind,
      keyVersion: r.keyVersion,
      recipient,
    }));
    return `${table(rows)}\ns3Prefix: ${r.s3Prefix}`;
  },
};

export const commands: Record<string, Command> = {
  'replicate identity': identity,
  'replicate recipients': recipients,
};
