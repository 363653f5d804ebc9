/** Setup through the public API as an admin: principals with a token, and keys, many at a time. */
import type { Site } from './site.js';

export async function principalToken(
  site: Site,
  name: string,
  role: string,
  scopes: string[],
): Promise<string> {
  await site.call('POST', '/v1/principals', { name, role, scopes });
  const t = await site.call<{ token: string }>('POST', `/v1/principals/${name}/tokens`, {});
  return t.token;
}

/** Runs `fn(i)` for i in 0..n-1 with at most `width` in flight. */
export async function inParallel(
  n: number,
  width: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
}

export interface KeySpec {
  readonly algorithm: string;
  readonly purpose: string;
  readonly chains?: string[];
}

export async function createKeys(
  site: Site,
  names: readonly string[],
  spec: KeySpec,
  width = 32,
): Promise<void> {
  await inParallel(names.length, width, (i) =>
    site.call('POST', '/v1/keys', { name: names[i], ...spec }),
  );
}
