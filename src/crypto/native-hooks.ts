/**
 * The module-resolution hook of the age worker threads (age-identity.ts): inside
 * @noble/post-quantum, and nowhere else, `@noble/curves/ed25519.js` resolves to the native X25519
 * shim (native-x25519.ts), `@noble/hashes/sha3.js` to the native SHA-3 shim (native-sha3.ts) and
 * `./ml-kem.js` to the native ML-KEM-768 shim (native-mlkem.ts), each given the URL of the module
 * it replaces (`?real=`) for what it does not replace and for its load-time self-check. A shim
 * imports its original by that absolute URL from a `data:` parent, so the hook never hands a shim
 * to a shim. The ML-KEM shim is also given the addon's path (`&addon=`), which `module.register`
 * passes to the hook as `data.mlkemAddon` (without it, that shim keeps noble's arithmetic).
 * Inside age-encryption's own code, and nowhere else, `@noble/hashes/hmac.js` and
 * `@noble/hashes/hkdf.js` resolve to the native HMAC-SHA-256 shims (native-hmac.ts), and
 * `@scure/base` to one whose base64 encoders are Buffer's (native-base64.ts). The KEM combiner and
 * the age format are not touched.
 */
import { BASE64_SHIM_SOURCE } from './native-base64.js';
import { HKDF_SHIM_SOURCE, HMAC_SHIM_SOURCE } from './native-hmac.js';
import { MLKEM_SHIM_SOURCE } from './native-mlkem.js';
import { SHA3_SHIM_SOURCE } from './native-sha3.js';
import { X25519_SHIM_SOURCE } from './native-x25519.js';

const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

/** Where an import is made (a part of its parent's URL) -> what it imports -> the shim it gets. */
const SHIMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '/@noble/post-quantum/': {
    '@noble/curves/ed25519.js': dataUrl(X25519_SHIM_SOURCE),
    '@noble/hashes/sha3.js': dataUrl(SHA3_SHIM_SOURCE),
    './ml-kem.js': dataUrl(MLKEM_SHIM_SOURCE),
  },
  '/age-encryption/dist/': {
    '@noble/hashes/hmac.js': dataUrl(HMAC_SHIM_SOURCE),
    '@noble/hashes/hkdf.js': dataUrl(HKDF_SHIM_SOURCE),
    '@scure/base': dataUrl(BASE64_SHIM_SOURCE),
  },
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
  const parent = context.parentURL;
  const within = parent ? Object.keys(shims).find((part) => parent.includes(part)) : undefined;
  const shim = within && Object.hasOwn(shims[within], specifier) ? shims[within][specifier] : undefined;
  if (!shim) return resolved;
  let url = shim + '?real=' + encodeURIComponent(resolved.url);
  if (specifier === './ml-kem.js' && mlkemAddon) url += '&addon=' + encodeURIComponent(mlkemAddon);
  return { url, shortCircuit: true };
}
`;

/** The `data:` URL to pass to `module.register`. */
export const NATIVE_HOOKS_URL = dataUrl(NATIVE_HOOKS_SOURCE);
