/**
 * The module-resolution hook of the age worker threads (age-identity.ts): inside
 * @noble/post-quantum, and nowhere else, `@noble/curves/ed25519.js` resolves to the native X25519
 * shim (native-x25519.ts) and `@noble/hashes/sha3.js` to the native SHA-3 shim (native-sha3.ts),
 * each given the URL of the module it replaces (`?real=`) for what it does not replace and for its
 * load-time self-check. age-encryption's own code, the KEM combiner and the age format are not
 * touched.
 */
import { SHA3_SHIM_SOURCE } from './native-sha3.js';
import { X25519_SHIM_SOURCE } from './native-x25519.js';

const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

/** What @noble/post-quantum imports, and the shim it gets instead. */
const SHIMS: Readonly<Record<string, string>> = {
  '@noble/curves/ed25519.js': dataUrl(X25519_SHIM_SOURCE),
  '@noble/hashes/sha3.js': dataUrl(SHA3_SHIM_SOURCE),
};

/** ESM source of the resolve hook (for `module.register`). */
export const NATIVE_HOOKS_SOURCE = `
const shims = ${JSON.stringify(SHIMS)};
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const shim = Object.hasOwn(shims, specifier) ? shims[specifier] : undefined;
  if (shim && context.parentURL && context.parentURL.includes('/@noble/post-quantum/'))
    return { url: shim + '?real=' + encodeURIComponent(resolved.url), shortCircuit: true };
  return resolved;
}
`;

/** The `data:` URL to pass to `module.register`. */
export const NATIVE_HOOKS_URL = dataUrl(NATIVE_HOOKS_SOURCE);
