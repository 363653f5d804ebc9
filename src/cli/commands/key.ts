/**
 * zkms key derive|datakey (API.md "Encryption, data keys, derived keys"; docs/envelope.md shows a
 * service opening its sqlcipher database with `zkms key derive ... --format sqlcipher`).
 */
import { api } from '../client.js';
import { UsageError, flag, type Command, type CommandContext } from '../command.js';

/** Text for people; `--json` prints the API's answer instead (JSON.stringify calls toJSON). */
class Printed {
  constructor(
    private readonly response: unknown,
    readonly text: string,
  ) {}
  toJSON(): unknown {
    return this.response;
  }
}

const FORMATS = ['base64', 'hex', 'sqlcipher'] as const;

function keyName(ctx: CommandContext): string {
  const name = ctx.args[0];
  if (!name) throw new UsageError('the key name is required: zkms key derive <name> --info <info>');
  return encodeURIComponent(name);
}

function intFlag(ctx: CommandContext, name: string): number | undefined {
  const v = ctx.flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9]{1,9}$/.test(v))
    throw new UsageError(`--${name} must be a positive integer`);
  return Number(v);
}

function stringFlag(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`);
  return v;
}

/** The derived key as text: base64 (the API's), hex, or sqlcipher's raw-key literal x'...'. */
function render(key: string, format: string): string {
  const hex = Buffer.from(key, 'base64').toString('hex');
  if (format === 'hex') return hex;
  if (format === 'sqlcipher') return `x'${hex}'`;
  return key;
}

const derive: Command = {
  summary:
    'derive a key: <name> --info I [--length N] [--format base64|hex|sqlcipher] [--wrap-to age1...] [--principal P] [--key-version V]',
  async run(ctx) {
    const format = stringFlag(ctx, 'format') ?? 'base64';
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const body = {
      info: flag(ctx, 'info'),
      length: intFlag(ctx, 'length'),
      wrapTo: stringFlag(ctx, 'wrap-to'),
      principal: stringFlag(ctx, 'principal'),
      keyVersion: intFlag(ctx, 'key-version'),
    };
    const res = await api<{ key?: string; wrapped?: string; keyVersion: number }>(
      ctx.client,
      'POST',
      `/v1/keys/${keyName(ctx)}/derive`,
      body,
    );
    return new Printed(
      res,
      res.wrapped !== undefined ? res.wrapped.trimEnd() : render(res.key ?? '', format),
    );
  },
  format: (out) => (out as Printed).text,
};

const datakey: Command = {
  summary: 'a fresh data key: <name> [--bytes N] [--context \'{"k":"v"}\'] [--no-plaintext]',
  async run(ctx) {
    const context = stringFlag(ctx, 'context');
    let parsed: unknown;
    try {
      parsed = context === undefined ? undefined : JSON.parse(context);
    } catch {
      throw new UsageError('--context must be a JSON object of strings');
    }
    const body = {
      bytes: intFlag(ctx, 'bytes'),
      context: parsed,
      plaintext: ctx.flags['no-plaintext'] === true ? false : undefined,
    };
    return api(ctx.client, 'POST', `/v1/keys/${keyName(ctx)}/datakey`, body);
  },
};

export const commands: Record<string, Command> = { 'key derive': derive, 'key datakey': datakey };
