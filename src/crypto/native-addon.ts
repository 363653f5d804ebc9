/**
 * Where our Node-API addons are: `native/<name>/build/Release/<file>`, built by `postinstall`. The
 * path is found by walking up from the caller's directory, so the same code works from `src/`
 * (vitest, tsx) and from `dist/` after `tsc`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The first `native/<name>/build/Release/<file>` found from `start` upwards, if any. */
export function findNativeAddon(name: string, file: string, start: string): string | undefined {
  const addon = join('native', name, 'build', 'Release', file);
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, addon);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
