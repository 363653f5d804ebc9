/**
 * zkms init: first-run setup (docs/operations.md "First deployment"). Checks that the KMS is
 * ready; without a token, says where the bootstrap admin token is; with it, lists the providers
 * and, with --operator, creates the operator's own admin principal and token (written to a new
 * 0600 file with --out) and, with --revoke-bootstrap, revokes the bootstrap `admin` tokens.
 */
import { CliError, EXIT, api, type ClientOptions } from '../client.js';
import { UsageError, table, type Command, type CommandContext } from '../command.js';
import { createSecretFile, integer, optional, toggle } from '../flags.js';
import { issueToken } from './principals.js';
import { providerRows, type ProviderStatus } from './providers.js';

const BOOTSTRAP = 'admin';

interface Readiness {
  status: string;
  checks: { name: string; status: string; latencyMs: number; error?: string }[];
}

/** /readyz answers 503 with its checks when not ready: read it directly, not as an API error. */
async function readiness(client: ClientOptions): Promise<Readiness> {
  let res: Response;
  try {
    res = await fetch(`${client.url}/readyz`);
  } catch (e) {
    throw new CliError(`cannot reach ${client.url}: ${(e as Error).message}`, EXIT.unavailable);
  }
  const body = (await res.json().catch(() => ({}))) as Readiness;
  if (res.status !== 200 || body.status !== 'ready') {
    const failing = (body.checks ?? []).filter((c) => c.status !== 'pass');
    throw new CliError(
      `the KMS at ${client.url} is not ready: ${failing.map((c) => `${c.name} ${c.error ?? c.status}`).join('; ')}`,
      EXIT.unavailable,
    );
  }
  return body;
}

async function revokeBootstrap(ctx: CommandContext): Promise<number> {
  const { tokens } = await api<{ tokens: { tokenId: string; revoked: boolean }[] }>(
    ctx.client,
    'GET',
    `/v1/principals/${BOOTSTRAP}/tokens`,
  );
  const live = tokens.filter((t) => !t.revoked);
  for (const t of live) await api(ctx.client, 'DELETE', `/v1/tokens/${t.tokenId}`);
  return live.length;
}

async function createOperator(ctx: CommandContext, operator: string) {
  // Every flag is checked, and the token's file made, before anything is sent (exit 2 means so).
  const ttl = integer(ctx, 'ttl');
  const path = optional(ctx, 'out');
  const out = path === undefined ? undefined : createSecretFile(path);
  try {
    await api(ctx.client, 'POST', '/v1/principals', { name: operator, role: 'admin', scopes: [] });
  } catch (e) {
    out?.discard();
    throw e;
  }
  return issueToken(ctx.client, encodeURIComponent(operator), ttl, out);
}

const init: Command = {
  summary:
    'first-run setup: check readiness; [--operator NAME --out FILE [--ttl S] [--revoke-bootstrap]]',
  async run(ctx) {
    const ready = await readiness(ctx.client);
    if (!ctx.client.token) {
      throw new CliError(
        `${ctx.client.url} is ready. No token given: on first start the KMS wrote the bootstrap ` +
          'admin token to admin.token in its data directory (KMS_DATA_DIR, mode 0600; the path is ' +
          'in the start-up log). Run: zkms init --token-file <data dir>/admin.token --operator <you> --out <file>',
        EXIT.auth,
      );
    }
    const providers = await api<ProviderStatus[]>(ctx.client, 'GET', '/v1/providers');
    const operator = optional(ctx, 'operator');
    const revoke = toggle(ctx, 'revoke-bootstrap') === true;
    if (revoke && (operator === undefined || operator === BOOTSTRAP))
      throw new UsageError('--revoke-bootstrap needs --operator with a name other than admin');
    const token = operator === undefined ? undefined : await createOperator(ctx, operator);
    const revoked = revoke ? await revokeBootstrap(ctx) : 0;
    return { ready: ready.status, checks: ready.checks, providers, operator, token, revoked };
  },
  format(out) {
    const o = out as {
      checks: Readiness['checks'];
      providers: ProviderStatus[];
      operator?: string;
      token?: Record<string, unknown>;
      revoked: number;
    };
    return [
      table(o.checks.map((c) => ({ check: c.name, status: c.status, latencyMs: c.latencyMs }))),
      '',
      table(providerRows(o.providers)),
      ...(o.token ? ['', `operator ${o.operator} (admin):`, table([o.token])] : []),
      ...(o.revoked ? ['', `revoked ${o.revoked} bootstrap admin token(s)`] : []),
    ].join('\n');
  },
};

export const commands: Record<string, Command> = { init };
