/**
 * The module-resolution hook of the age worker threads (age-identity.ts): inside
 * @noble/post-quantum, and nowhere else, `@noble/curves/ed25519.js` resolves to the native X25519
 * shim (native-x25519.ts), `@noble/hashes/sha3.js` to the native SHA-3 shim (native-sha3.ts) and
 * `./ml-kem.js` to the native ML-KEM-768 shim (native-mlkem.ts), each given the URL of the module
 * it replaces (`?real=`) for what it does not replace and for its load-time self-check. A shim
 * imports its original by that absolute URL from a `data:` parent, so the hook never hands a shim
 * to a shim. The ML-KEM shim is also given the addon's path (`&addon=`), which `module.register`
 * passes to the hook as `data.mlkemAddon` (without it, that shim keeps noble's arithmetic).
 * age-encryption's own code, the KEM combiner and the age format are not touched.
 */
import { MLKEM_SHIM_SOURCE } from './native-mlkem.js';
import { SHA3_SHIM_SOURCE } from './native-sha3.js';
import { X25519_SHIM_SOURCE } from './native-x25519.js';

const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

/** What @noble/post-quantum imports, and the shim it gets instead. */
const SHIMS: Readonly<Record<string, string>> = {
  '@noble/curves/ed25519.js': dataUrl(X25519_SHIM_SOURCE),
  '@noble/hashes/sha3.js': dataUrl(SHA3_SHIM_SOURCE),
  './ml-kem.js': dataUrl(MLKEM_SHIM_SOURCE),
};

/** What the hook is given at registration (`module.register(url, {data})`). */
export interface NativeHooksData {
  /** Absolute path of `zoo_mlkem.node` (native-mlkem.ts `findMlkemAddon`). */
  mlkemAddon?: string;
}

/** ESM source of the resolve hook (for `module.register`). */
export const NATIVE_HOOKS_SOURCE = `
const shims = ${JSON.stringify(SHIMS)};
let mlkemAddon;
export function initialize(data) {
  mlkemAddon = data && typeof data.mlkemAddon === 'string' ? data.mlkemAddon : undefined;
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const shim = Object.hasOwn(shims, specifier) ? shims[specifier] : undefined;
  if (!shim || !context.parentURL || !context.parentURL.includes('/@noble/post-quantum/'))
    return resolved;
  let url = shim + '?real=' + encodeURIComponent(resolved.url);
  if (specifier === './ml-kem.js' && mlkemAddon) url += '&addon=' + encodeURIComponent(mlkemAddon);
  return { url, shortCircuit: true };
}
`;

/** The `data:` URL to pass to `module.register`. */
export const NATIVE_HOOKS_URL = dataUrl(NATIVE_HOOKS_SOURCE);
