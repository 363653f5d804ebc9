/**
 * Chain profiles as the validator signs with them (CONFIG.md `chains`; API.md "Validators": by
 * default 122 zoo, 120 lux, 121 hanzo, signing under SIG_NUL with proofs under POP_PROVE). Tags are
 * names or full DSTs, resolved once at start so a bad tag stops start-up instead of failing a sign.
 */
import type { ChainProfile } from '../../config/config.js';
import { resolveTag, tagBytes } from '../../crypto/bls/tags.js';

export interface SigningProfile {
  readonly chainId: bigint;
  readonly signatureDst: Uint8Array;
  readonly popDst: Uint8Array;
}

export function signingProfiles(
  chains: readonly ChainProfile[],
): ReadonlyMap<bigint, SigningProfile> {
  return new Map(
    chains.map((c, i) => {
      try {
        const signatureDst = tagBytes(resolveTag(c.signatureTag, `chains[${i}].signature_tag`));
        const popDst = tagBytes(resolveTag(c.popTag, `chains[${i}].pop_tag`));
        return [c.id, { chainId: c.id, signatureDst, popDst }];
      } catch (e) {
        throw new Error(`config: ${(e as Error).message}`, { cause: e });
      }
    }),
  );
}
