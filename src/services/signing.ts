/**
 * Generic signing keys (API.md "Keys": sign and verify with role `signing`), the stateless
 * `POST /v1/verify`, and JWKS. ECDSA and Ed25519 sign inside the device when its capability table
 * says so; ML-DSA-65 (no HSM here supports it) signs with the key unwrapped briefly in memory.
 */
import { KmsError, invalid } from '../errors.js';
import { audited } from '../audit/log.js';
import type { KeyRecord, KeyVersionRecord } from '../keyring/record.js';
import { isSignatureAlgorithm } from '../keyring/material.js';
import { appendRecoveryId, ecdsaDigest, normalizeLowS } from '../crypto/ecdsa.js';
import { timingSafeEqual } from 'node:crypto';
import { signWith, verifyWith, type SignInput } from '../crypto/signatures.js';
import { resolveDst } from '../crypto/bls/tags.js';
import type { DeviceSignAlgorithm } from '../providers/provider.js';
import { usableActive, usableVersion, type KeysService } from './keys.js';
import type { Caller, ServiceDeps } from './context.js';

export interface SignRequest {
  readonly input: SignInput;
  readonly recoverable: boolean;
  readonly context?: Uint8Array | undefined;
}

export class SigningService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly keys: KeysService,
  ) {}

  private async signingKey(caller: Caller, name: string, action: string): Promise<KeyRecord> {
    const key = await this.keys.require(name);
    if (key.purpose !== 'signing') {
      await this.keys.refuse(
        caller,
        action,
        key,
        new KmsError('WRONG_PURPOSE', `key ${name} has purpose ${key.purpose}, not signing`),
      );
    }
    return key;
  }

  async sign(
    caller: Caller,
    name: string,
    req: SignRequest,
  ): Promise<{ signature?: Uint8Array; mac?: Uint8Array; keyVersion: number }> {
    const key = await this.signingKey(caller, name, 'key.sign');
    const fields = (v: number | null) =>
      this.keys.event(caller, 'key.sign', name, v, inputBytes(req.input));
    let version: KeyVersionRecord;
    try {
      version = usableActive(key);
    } catch (e) {
      return this.keys.refuse(caller, 'key.sign', key, e as KmsError);
    }
    const out = await this.compute(key, version, req).catch((e) =>
      audited(this.deps.audit, this.deps.writer, fields(version.version), async () => {
        throw e;
      }),
    );
    await audited(this.deps.audit, this.deps.writer, fields(version.version));
    return { ...out, keyVersion: version.version };
  }

  private async compute(
    key: KeyRecord,
    version: KeyVersionRecord,
    req: SignRequest,
  ): Promise<{ signature?: Uint8Array; mac?: Uint8Array }> {
    if (key.algorithm === 'hmac-sha256') {
      if (req.recoverable) throw invalid('format', 'recoverable is only for secp256k1');
      const message = hmacMessage(req.input, req.context);
      return { mac: await this.deps.keyring.hmac(key, version, message) };
    }
    if (!isSignatureAlgorithm(key.algorithm))
      throw new KmsError('WRONG_PURPOSE', `${key.algorithm} keys do not sign`);
    const alg = key.algorithm;
    if (
      alg !== 'ml-dsa-65' &&
      req.context === undefined &&
      this.deps.keyring.canInDevice(version, alg as DeviceSignAlgorithm)
    ) {
      return { signature: await this.signInDevice(key, version, req) };
    }
    return {
      signature: await this.deps.keyring.withSecret(key, version, (sk) =>
        signWith(alg, sk, req.input, {
          recoverable: req.recoverable,
          ...(req.context ? { context: req.context } : {}),
        }),
      ),
    };
  }

  private async signInDevice(
    key: KeyRecord,
    version: KeyVersionRecord,
    req: SignRequest,
  ): Promise<Uint8Array> {
    const alg = key.algorithm as DeviceSignAlgorithm;
    if (alg === 'ed25519') {
      if (req.recoverable) throw invalid('format', 'recoverable is only for secp256k1');
      if (!('message' in req.input)) throw invalid('digest', 'is only for secp256k1 and p-256');
      const message = req.input.message;
      return this.deps.keyring.inDevice(key, version, alg, (p, ref) => p.sign(ref, message));
    }
    if (req.recoverable && alg !== 'secp256k1')
      throw invalid('format', 'recoverable is only for secp256k1');
    const digest = ecdsaDigest(req.input);
    const raw = await this.deps.keyring.inDevice(key, version, alg, (p, ref) =>
      p.sign(ref, digest),
    );
    const rs = normalizeLowS(alg, raw);
    return req.recoverable ? appendRecoveryId(digest, rs, version.publicKey!) : rs;
  }

  async verify(
    caller: Caller,
    name: string,
    req: {
      input: SignInput;
      signature?: Uint8Array;
      mac?: Uint8Array;
      keyVersion?: number;
      context?: Uint8Array;
    },
  ): Promise<boolean> {
    const key = await this.signingKey(caller, name, 'key.verify');
    const fields = (v: number) =>
      this.keys.event(caller, 'key.verify', name, v, inputBytes(req.input));
    let version: KeyVersionRecord;
    try {
      version =
        req.keyVersion === undefined ? usableActive(key) : usableVersion(key, req.keyVersion);
    } catch (e) {
      return this.keys.refuse(caller, 'key.verify', key, e as KmsError);
    }
    const valid = await this.checkSignature(key, version, req).catch((e) =>
      audited(this.deps.audit, this.deps.writer, fields(version.version), async () => {
        throw e;
      }),
    );
    await audited(this.deps.audit, this.deps.writer, {
      ...fields(version.version),
      details: { valid },
    });
    return valid;
  }

  private async checkSignature(
    key: KeyRecord,
    version: KeyVersionRecord,
    req: { input: SignInput; signature?: Uint8Array; mac?: Uint8Array; context?: Uint8Array },
  ): Promise<boolean> {
    if (key.algorithm === 'hmac-sha256') {
      if (!req.mac) throw invalid('mac', 'is required for hmac-sha256 keys');
      const message = hmacMessage(req.input, req.context);
      const mac = req.mac;
      const expected = await this.deps.keyring.hmac(key, version, message);
      return mac.length === expected.length && timingSafeEqual(expected, mac);
    }
    if (!req.signature) throw invalid('signature', 'is required');
    if (!isSignatureAlgorithm(key.algorithm))
      throw new KmsError('WRONG_PURPOSE', `${key.algorithm} keys do not verify`);
    return verifyWith(key.algorithm, version.publicKey!, req.input, req.signature, {
      lowS: true,
      ...(req.context ? { context: req.context } : {}),
    });
  }

  /** POST /v1/verify: any public key, no state; malformed keys or signatures are simply invalid. */
  async verifyStateless(req: StatelessVerify): Promise<boolean> {
    if (req.algorithm === 'bls12-381') {
      if (req.dst === undefined) throw invalid('dst', 'is required for bls12-381');
      const dst = resolveDst(req.dst);
      if (!('message' in req.input)) throw invalid('digest', 'is not for bls12-381 (send message)');
      if (req.publicKeys.length === 0) return false;
      return this.deps.bls.verify(req.publicKeys, req.input.message, req.signature, dst);
    }
    if (req.dst !== undefined) throw invalid('dst', 'is only for bls12-381');
    // API.md: an empty list is a well-formed request that verifies nothing.
    if (req.publicKeys.length === 0) return false;
    if (req.publicKeys.length > 1)
      throw invalid('publicKeys', 'several keys are only for bls12-381 (use publicKey)');
    return verifyWith(req.algorithm, req.publicKeys[0]!, req.input, req.signature, {
      lowS: req.lowS,
      ...(req.context ? { context: req.context } : {}),
    });
  }
}

export interface StatelessVerify {
  readonly algorithm: 'bls12-381' | 'secp256k1' | 'p-256' | 'ed25519' | 'ml-dsa-65';
  readonly publicKeys: Uint8Array[];
  readonly input: SignInput;
  readonly signature: Uint8Array;
  readonly dst?: string | undefined;
  readonly context?: Uint8Array | undefined;
  readonly lowS: boolean;
}

/** What an hmac-sha256 key MACs: `message` only, with no signature options. */
function hmacMessage(input: SignInput, context: Uint8Array | undefined): Uint8Array {
  if (context !== undefined) throw invalid('context', 'is only for ml-dsa-65');
  if (!('message' in input)) throw invalid('digest', 'is not for hmac-sha256 keys (send message)');
  return input.message;
}

function inputBytes(input: SignInput): Uint8Array {
  return 'message' in input ? input.message : input.digest;
}
