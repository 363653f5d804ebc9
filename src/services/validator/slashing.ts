/**
 * Slashing-protection interchange (API.md "Validators", admin): export and import of watermarks
 * per chain, in the shape
 *
 *   {metadata: {interchange_format_version: "zoo-kms/1", chainId},
 *    data: [{pubkey, signed_blocks: [{height, round, signing_root}]}]}
 *
 * modelled on EIP-3076's minimal form: the export lists each public key's watermark block, which
 * is all the pair rule needs (anything lower is refused anyway). Import is keyed by public key, so
 * watermarks exist before their key is imported; it never lowers a watermark (rule.ts
 * `mergeWatermark`), and a block without `signing_root` is an unknown block that blocks re-signing
 * at its height and round. All rows change in one audited transaction, each under its row lock.
 */
import { invalid, isKmsError } from '../../errors.js';
import { audited, auditRefusal } from '../../audit/log.js';
import type { AuditFields } from '../../audit/event.js';
import { parseHex, parseU32, parseU64, toHex, u64ToString } from '../../crypto/encoding.js';
import {
  listWatermarks,
  lockWatermark,
  setImported,
  type Watermark,
} from '../../store/validator-watermarks.js';
import type { Trx } from '../../store/writer.js';
import type { Caller, ServiceDeps } from '../context.js';
import { highestOf, mergeWatermark } from './rule.js';

export const INTERCHANGE_VERSION = 'zoo-kms/1';

export interface InterchangeBlock {
  height: string | number;
  round: string | number;
  signing_root?: string | null | undefined;
}

export interface Interchange {
  metadata: { interchange_format_version: string; chainId: string | number };
  data: { pubkey: string; signed_blocks: InterchangeBlock[] }[];
}

interface ParsedFile {
  readonly chainId: bigint;
  /** Public key hex -> the key and its highest block in the file. */
  readonly watermarks: Map<string, { publicKey: Uint8Array; watermark: Watermark }>;
}

export class SlashingProtection {
  constructor(private readonly deps: ServiceDeps) {}

  async export(caller: Caller, chainId: bigint): Promise<Interchange> {
    const rows = await listWatermarks(this.deps.db, chainId);
    const data = rows.map(({ publicKey, watermark: w }) => ({
      pubkey: toHex(publicKey),
      signed_blocks: [
        {
          height: u64ToString(w.height),
          round: String(w.round),
          ...(w.signingRoot ? { signing_root: toHex(w.signingRoot) } : {}),
        },
      ],
    }));
    await audited(
      this.deps.audit,
      this.deps.writer,
      this.fields(caller, 'validator.slashing_export', chainId, data.length),
    );
    return {
      metadata: { interchange_format_version: INTERCHANGE_VERSION, chainId: u64ToString(chainId) },
      data,
    };
  }

  async import(
    caller: Caller,
    file: Interchange,
  ): Promise<{ chainId: bigint; keys: number; raised: number }> {
    const action = 'validator.slashing_import';
    let parsed: ParsedFile;
    try {
      parsed = this.parse(file);
    } catch (e) {
      const fields = this.fields(caller, action, String(file.metadata.chainId), file.data.length);
      if (isKmsError(e)) return auditRefusal(this.deps.audit, this.deps.writer, fields, e);
      throw e;
    }
    const fields = this.fields(caller, action, parsed.chainId, parsed.watermarks.size);
    const raised = await audited(this.deps.audit, this.deps.writer, fields, (trx) =>
      this.merge(trx, parsed),
    );
    return { chainId: parsed.chainId, keys: parsed.watermarks.size, raised };
  }

  /** Rows in public-key order, so two imports lock them in the same order. */
  private async merge(trx: Trx, file: ParsedFile): Promise<number> {
    let raised = 0;
    const now = this.deps.now();
    const keys = [...file.watermarks.keys()].sort();
    for (const hex of keys) {
      const { publicKey, watermark } = file.watermarks.get(hex)!;
      const current = await lockWatermark(trx, this.deps.engine, publicKey, file.chainId, now);
      const m = mergeWatermark(current, watermark);
      if (m.kind === 'keep') continue;
      await setImported(trx, publicKey, file.chainId, m.watermark, now);
      raised += 1;
    }
    return raised;
  }

  private parse(file: Interchange): ParsedFile {
    if (file.metadata.interchange_format_version !== INTERCHANGE_VERSION) {
      throw invalid('metadata.interchange_format_version', `must be ${INTERCHANGE_VERSION}`);
    }
    const chainId = parseU64('metadata.chainId', file.metadata.chainId);
    const blocks = new Map<string, { publicKey: Uint8Array; list: Watermark[] }>();
    file.data.forEach((entry, i) => {
      const field = `data[${i}].pubkey`;
      const publicKey = this.deps.bls.decodePublicKey(parseHex(field, entry.pubkey, 48), field);
      const item = blocks.get(entry.pubkey) ?? { publicKey, list: [] };
      entry.signed_blocks.forEach((b, j) =>
        item.list.push(parseBlock(b, `data[${i}].signed_blocks[${j}]`)),
      );
      blocks.set(entry.pubkey, item);
    });
    const watermarks = new Map<string, { publicKey: Uint8Array; watermark: Watermark }>();
    for (const [hex, { publicKey, list }] of blocks) {
      const watermark = highestOf(list);
      if (watermark) watermarks.set(hex, { publicKey, watermark });
    }
    return { chainId, watermarks };
  }

  private fields(
    caller: Caller,
    action: string,
    chainId: bigint | string,
    keys: number,
  ): AuditFields {
    return {
      action,
      principal: caller.principal.name,
      requestId: caller.requestId,
      details: { chainId: String(chainId), keys },
    };
  }
}

function parseBlock(b: InterchangeBlock, field: string): Watermark {
  return {
    height: parseU64(`${field}.height`, b.height),
    round: parseU32(`${field}.round`, b.round),
    signingRoot:
      b.signing_root === undefined || b.signing_root === null
        ? null
        : parseHex(`${field}.signing_root`, b.signing_root, 32),
  };
}
