/**
 * Validator signing (API.md "Validators"): block signatures under double-sign protection, proofs
 * of possession, and watermark reads, for `bls12-381` keys of purpose `validator`.
 *
 * Write order of a block signature (ARCHITECTURE.md "Signing rules", STYLE.md rule 6):
 * 1. checks that need no lock (key, purpose, state, chain, rate limit), each refusal audited;
 * 2. the BLS signature is computed speculatively on a worker, outside any transaction, so the
 *    transaction holds only a few indexed statements (the signing is ~0.5 ms, the lock is shared);
 * 3. in one transaction (`audited`): lock the (public key, chain) watermark row, check the pure
 *    rule, persist watermark + signed block + counter, append the audit event, COMMIT;
 * 4. only then is the signature released. On a refusal the computed signature is dropped unseen.
 */
import { KmsError, isKmsError } from '../../errors.js';
import { audited, auditRefusal } from '../../audit/log.js';
import type { AuditFields } from '../../audit/event.js';
import type { KeyRecord, KeyVersionRecord } from '../../keyring/record.js';
import type { Trx } from '../../store/writer.js';
import {
  lockWatermark,
  readCounter,
  readWatermark,
  recordBlock,
  type SignedBlock,
  type StoredWatermark,
} from '../../store/validator-watermarks.js';
import { RateLimiter } from '../rate-limit.js';
import { usableActive, type KeysService } from '../keys.js';
import type { Caller, ServiceDeps } from '../context.js';
import { blockSigningRoot, type BlockRequest } from './signing-root.js';
import { checkBlock } from './rule.js';
import { signingProfiles, type SigningProfile } from './profiles.js';

export const VALIDATOR_ACTIONS = {
  block: 'validator.block_signature',
  pop: 'validator.proof_of_possession',
  watermark: 'validator.watermark',
} as const;

export interface BlockSignature extends BlockRequest {
  readonly signature: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly signingRoot: Uint8Array;
  readonly counter: number;
}

export interface WatermarkView {
  readonly chainId: bigint;
  readonly watermark: StoredWatermark | null;
  readonly counter: number;
}

interface Signer {
  readonly key: KeyRecord;
  readonly version: KeyVersionRecord;
  readonly publicKey: Uint8Array;
  readonly profile: SigningProfile;
}

/** PostgreSQL deadlock_detected / serialization_failure: the client may simply retry. */
const RETRYABLE = new Set(['40P01', '40001']);

export class ValidatorService {
  private readonly profiles: ReadonlyMap<bigint, SigningProfile>;
  private readonly limiter: RateLimiter;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly keys: KeysService,
  ) {
    this.profiles = signingProfiles(deps.config.chains);
    this.limiter = new RateLimiter({ rate: deps.config.validator.rateLimitPerKey, now: deps.now });
  }

  async signBlock(caller: Caller, name: string, req: BlockRequest): Promise<BlockSignature> {
    const signingRoot = blockSigningRoot(req);
    const details = {
      chainId: req.chainId.toString(),
      height: req.height.toString(),
      round: req.round,
    };
    const base = this.fields(caller, VALIDATOR_ACTIONS.block, name, details, signingRoot);
    const s = await this.signer(base, name, req.chainId, true);
    const fields = { ...base, keyVersion: s.version.version };
    const computed = await this.blsSign(fields, s, signingRoot, s.profile.signatureDst);
    const block: SignedBlock = {
      ...req,
      publicKey: s.publicKey,
      signingRoot,
      signature: computed,
      keyName: name,
      at: this.deps.now(),
    };
    const out = await audited(this.deps.audit, this.deps.writer, fields, (trx) =>
      this.commitBlock(trx, block),
    );
    return { ...req, ...out, publicKey: s.publicKey, signingRoot };
  }

  /** Step 3 above; throws the typed refusal, which rolls back everything but the audit event. */
  private async commitBlock(
    trx: Trx,
    b: SignedBlock,
  ): Promise<{ signature: Uint8Array; counter: number }> {
    try {
      const current = await lockWatermark(trx, this.deps.engine, b.publicKey, b.chainId, b.at);
      const verdict = checkBlock(current, b);
      if (verdict.kind === 'refuse') throw refusal(verdict.code, b, current!);
      // The identical repeat gets the signature released the first time (also if a tag changed since).
      if (verdict.kind === 'same' && current?.signature)
        return { signature: current.signature, counter: current.counter ?? 0 };
      return { signature: b.signature, counter: await recordBlock(trx, this.deps.engine, b) };
    } catch (e) {
      throw RETRYABLE.has((e as { code?: string }).code ?? '')
        ? new KmsError(
            'STORE_UNAVAILABLE',
            'the store aborted the operation on a lock conflict; retry',
            { cause: e },
          )
        : e;
    }
  }

  /** The proof of possession: the compressed public key signed under the chain's PoP tag. */
  async proofOfPossession(
    caller: Caller,
    name: string,
    chainId: bigint,
  ): Promise<{ publicKey: Uint8Array; proofOfPossession: Uint8Array }> {
    const base = this.fields(caller, VALIDATOR_ACTIONS.pop, name, { chainId: chainId.toString() });
    const s = await this.signer(base, name, chainId, true);
    const fields = { ...base, keyVersion: s.version.version };
    const proof = await this.blsSign(fields, s, s.publicKey, s.profile.popDst);
    await audited(this.deps.audit, this.deps.writer, fields);
    return { publicKey: s.publicKey, proofOfPossession: proof };
  }

  async watermark(caller: Caller, name: string, chainId: bigint): Promise<WatermarkView> {
    const base = this.fields(caller, VALIDATOR_ACTIONS.watermark, name, {
      chainId: chainId.toString(),
    });
    const s = await this.signer(base, name, chainId, false);
    const fields = { ...base, keyVersion: s.version.version };
    const [watermark, counter] = await Promise.all([
      readWatermark(this.deps.db, s.publicKey, chainId),
      readCounter(this.deps.db, s.publicKey),
    ]).catch((e: unknown) => this.refuse(fields, e));
    await audited(this.deps.audit, this.deps.writer, fields);
    return { chainId, watermark, counter };
  }

  /** Step 1: the key, its purpose and state, the chain, and the per-key rate limit. */
  private async signer(
    fields: AuditFields,
    name: string,
    chainId: bigint,
    limited: boolean,
  ): Promise<Signer> {
    try {
      const key = await this.keys.require(name);
      if (key.purpose !== 'validator')
        throw new KmsError(
          'WRONG_PURPOSE',
          `key ${name} has purpose ${key.purpose}, not validator`,
        );
      const version = usableActive(key);
      const profile = this.profiles.get(chainId);
      if (!profile || !key.chains?.includes(chainId))
        throw new KmsError('CHAIN_NOT_ALLOWED', `key ${name} may not sign for chain ${chainId}`);
      if (limited) this.limiter.consume(key.name, `key ${name}`);
      return { key, version, publicKey: version.publicKey!, profile };
    } catch (e) {
      return this.refuse(fields, e);
    }
  }

  /** BLS.Sign on a worker; `bls.sign` copies the borrowed secret before its first await. */
  private async blsSign(
    fields: AuditFields,
    s: Signer,
    msg: Uint8Array,
    dst: Uint8Array,
  ): Promise<Uint8Array> {
    try {
      return await this.deps.keyring.withSecret(s.key, s.version, (sk) =>
        this.deps.bls.sign(sk, msg, dst),
      );
    } catch (e) {
      return this.refuse(fields, e);
    }
  }

  /** Every refusal and failure is one audit event; then it is rethrown. */
  private async refuse(fields: AuditFields, e: unknown): Promise<never> {
    if (isKmsError(e)) return auditRefusal(this.deps.audit, this.deps.writer, fields, e);
    return audited(this.deps.audit, this.deps.writer, fields, async () => {
      throw e;
    });
  }

  private fields(
    caller: Caller,
    action: string,
    keyName: string,
    details: Record<string, string | number>,
    signingRoot?: Uint8Array,
  ): AuditFields {
    return {
      action,
      principal: caller.principal.name,
      keyName,
      keyVersion: null,
      requestId: caller.requestId,
      // The signing root is itself a domain-separated SHA-256 of the request, so it is the digest.
      digest: signingRoot ? Buffer.from(signingRoot).toString('hex') : null,
      details,
    };
  }
}

function refusal(
  code: 'DOUBLE_SIGN' | 'HEIGHT_REGRESSION',
  b: SignedBlock,
  w: StoredWatermark,
): KmsError {
  const at = `height ${b.height} round ${b.round} on chain ${b.chainId}`;
  return code === 'DOUBLE_SIGN'
    ? new KmsError(code, `another block was already signed at ${at}`)
    : new KmsError(code, `${at} is below the watermark (height ${w.height} round ${w.round})`);
}
