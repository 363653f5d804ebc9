/**
 * Audit events of the experience routes: one per call, and one per item of a batch (each with its
 * `item` index, all committed before the batch answers). They carry the SHA-256 of the user id
 * (`details.userHash`) and a digest of the ciphertext, never the user id or the plaintext.
 */
import { isKmsError } from '../../errors.js';
import type { AuditFields, Outcome } from '../../audit/event.js';
import type { Caller, ServiceDeps } from '../context.js';
import { MASTER } from './master.js';
import type { Settled } from './outcome.js';

export interface EventInput {
  readonly action: string;
  /** userHashHex of the user id (input.ts). */
  readonly userHash: string;
  /** Hex SHA-256 of the input ciphertext, when there is one. */
  readonly digest: string | null;
  readonly item?: number;
}

export function experienceEvent(
  caller: Caller,
  e: EventInput,
  out?: Settled<unknown>,
): AuditFields {
  const done = out?.ok ? out.done : undefined;
  return {
    action: e.action,
    principal: caller.principal.name,
    keyName: MASTER,
    keyVersion: done?.keyVersion ?? null,
    requestId: caller.requestId,
    digest: done?.digest ?? e.digest,
    details: {
      userHash: e.userHash,
      ...(e.item === undefined ? {} : { item: e.item }),
      ...(done ? { generation: done.generation, ...done.details } : {}),
    },
  };
}

/** Appends one event in its own (group-committed) write; resolves after the commit. */
export function appendEvent(
  deps: ServiceDeps,
  fields: AuditFields,
  out: Settled<unknown>,
): Promise<void> {
  const failure = out.ok ? undefined : out.error;
  const code = failure === undefined ? undefined : isKmsError(failure) ? failure.code : 'INTERNAL';
  const outcome: Outcome =
    failure === undefined
      ? 'success'
      : isKmsError(failure) && failure.status < 500
        ? 'refused'
        : 'error';
  return deps.writer.run((trx) => deps.audit.append(trx, fields, outcome, code));
}
