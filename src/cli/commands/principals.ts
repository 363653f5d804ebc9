/**
 * zkms principal create|list|delete and token create|list|revoke (API.md "Principals and
 * tokens", admin). A new token is shown once: with --out it goes to a new 0600 file instead, and
 * only its id and expiry are printed.
 */
import { api, type ClientOptions } from '../client.js';
import { flag, table, type Command, type CommandContext } from '../command.js';
import { createSecretFile, integer, list, positional, type SecretFile } from '../flags.js';

interface Principal {
  name: string;
  role: string;
  scopes: string[];
  certificateFingerprints: string[];
}

interface NewToken {
  tokenId: string;
  token: string;
  expiresAt: string;
}

const principalRow = (p: Principal) => ({
  name: p.name,
  role: p.role,
  scopes: p.scopes.join(','),
  certificates: p.certificateFingerprints.length,
});

const principalName = (ctx: CommandContext, usage: string) =>
  encodeURIComponent(positional(ctx, 0, 'the principal name', usage));

/**
 * Issues a token; with `out` (made before anything is sent, createSecretFile), writes it there and
 * leaves it out of the answer. A failed request leaves no file.
 */
export async function issueToken(
  client: ClientOptions,
  principal: string,
  ttlSeconds: number | undefined,
  out: SecretFile | undefined,
): Promise<NewToken | (Omit<NewToken, 'token'> & { file: string })> {
  let t: NewToken;
  try {
    t = await api<NewToken>(client, 'POST', `/v1/principals/${principal}/tokens`, {
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    });
  } catch (e) {
    out?.discard();
    throw e;
  }
  if (out === undefined) return t;
  out.write(t.token);
  return { tokenId: t.tokenId, expiresAt: t.expiresAt, file: out.path };
}

const create: Command = {
  summary: 'create a principal: <name> --role R [--scopes a,b*] [--fingerprints f1,f2]',
  run: (ctx) => {
    const usage = 'zkms principal create <name> --role R [--scopes ...]';
    return api<Principal>(ctx.client, 'POST', '/v1/principals', {
      name: positional(ctx, 0, 'the principal name', usage),
      role: flag(ctx, 'role'),
      scopes: list(ctx, 'scopes') ?? [],
      certificateFingerprints: list(ctx, 'fingerprints') ?? [],
    });
  },
  format: (out) => table([principalRow(out as Principal)]),
};

const listPrincipals: Command = {
  summary: 'list principals',
  run: (ctx) => api<{ principals: Principal[] }>(ctx.client, 'GET', '/v1/principals'),
  format: (out) => table((out as { principals: Principal[] }).principals.map(principalRow)),
};

const remove: Command = {
  summary: 'delete a principal and revoke its tokens: <name>',
  async run(ctx) {
    const name = principalName(ctx, 'zkms principal delete <name>');
    await api(ctx.client, 'DELETE', `/v1/principals/${name}`);
    return { deleted: decodeURIComponent(name) };
  },
  format: (out) => `deleted principal ${(out as { deleted: string }).deleted}`,
};

const tokenCreate: Command = {
  summary: 'issue a token (shown once): <principal> [--ttl SECONDS] [--out FILE]',
  run: (ctx) => {
    const principal = principalName(ctx, 'zkms token create <principal> [--ttl S] [--out FILE]');
    const ttl = integer(ctx, 'ttl');
    const out = ctx.flags.out === undefined ? undefined : createSecretFile(flag(ctx, 'out'));
    return issueToken(ctx.client, principal, ttl, out);
  },
  format: (out) => table([out as Record<string, unknown>]),
};

const tokenList: Command = {
  summary: "list a principal's tokens (ids and expiry): <principal>",
  run: (ctx) =>
    api(
      ctx.client,
      'GET',
      `/v1/principals/${principalName(ctx, 'zkms token list <principal>')}/tokens`,
    ),
  format: (out) => table((out as { tokens: Record<string, unknown>[] }).tokens),
};

const tokenRevoke: Command = {
  summary: 'revoke a token: <tokenId>',
  async run(ctx) {
    const id = positional(ctx, 0, 'the token id', 'zkms token revoke <tokenId>');
    await api(ctx.client, 'DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
    return { revoked: id };
  },
  format: (out) => `revoked ${(out as { revoked: string }).revoked}`,
};

export const commands: Record<string, Command> = {
  'principal create': create,
  'principal list': listPrincipals,
  'principal delete': remove,
  'token create': tokenCreate,
  'token list': tokenList,
  'token revoke': tokenRevoke,
};
