/**
 * Optional flags of the operator commands, parsed strictly: a malformed value is a usage error
 * (exit 2) naming the flag, before anything is sent to the KMS.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { UsageError, type CommandContext } from './command.js';

/** An optional string flag; `--flag` without a value is a usage error. */
export function optional(ctx: CommandContext, name: string): string | undefined {
  return flagValue(ctx.flags, name);
}

/** `optional` over the parsed flags themselves (the client options are read before a command). */
export function flagValue(
  flags: Readonly<Record<string, string | boolean | undefined>>,
  name: string,
): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} needs a value`);
  return v;
}

/** An optional positive integer flag. */
export function integer(ctx: CommandContext, name: string): number | undefined {
  const v = optional(ctx, name);
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new UsageError(`--${name} must be a positive integer`);
  return Number(v);
}

/** A comma-separated list flag (`--scopes a,b*`); absent is undefined. */
export function list(ctx: CommandContext, name: string): string[] | undefined {
  const v = optional(ctx, name);
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** A boolean switch (`--jwks`); `--jwks=false` is accepted too. */
export function toggle(ctx: CommandContext, name: string): boolean | undefined {
  const v = ctx.flags[name];
  if (v === undefined) return undefined;
  if (v === true || v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${name} takes no value (or =true / =false)`);
}

/** The positional argument at `index`, or a usage error showing how to call the command. */
export function positional(
  ctx: CommandContext,
  index: number,
  what: string,
  usage: string,
): string {
  const v = ctx.args[index];
  if (!v) throw new UsageError(`${what} is required: ${usage}`);
  return v;
}

/**
 * A file for a secret (a token) the KMS is about to issue, created before the request is sent:
 * new and readable only by its owner, never overwriting, so a mistyped path cannot replace another
 * secret; and a file that cannot be made is a usage error while nothing has been sent yet, instead
 * of a secret issued and then lost. `discard` removes it when the request fails.
 */
export interface SecretFile {
  readonly path: string;
  write(secret: string): void;
  discard(): void;
}

export function createSecretFile(file: string): SecretFile {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    throw new UsageError(`cannot create ${file}: ${(e as Error).message}`);
  }
  const close = () => {
    if (fd < 0) return;
    closeSync(fd);
    fd = -1;
  };
  return {
    path: file,
    write(secret) {
      try {
        writeSync(fd, `${secret}\n`);
        fsyncSync(fd);
      } finally {
        close();
      }
    },
    discard() {
      close();
      rmSync(file, { force: true });
    },
  };
}
