/**
 * Maps every failure to the API's error shape (API.md "Conventions"):
 * `{"error": {"code", "message", "requestId"}}`. Validation messages name the field; anything
 * unexpected is logged in full and answered as a vague 500 (never a stack or a secret).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, KmsError, invalid, isKmsError, type ErrorCode } from '../errors.js';

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export function validationMessage(context: string | undefined, errors: AjvError[]): string {
  const e = errors[0];
  if (!e) return 'invalid request';
  const base = e.instancePath.split('/').filter(Boolean).join('.');
  const join = (leaf: string) => (base ? `${base}.${leaf}` : leaf);
  const where =
    context === 'querystring' ? 'query parameter ' : context === 'params' ? 'path parameter ' : '';
  switch (e.keyword) {
    case 'required':
      return `${where}${join(String(e.params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${where}${join(String(e.params.additionalProperty))} is not a known field`;
    default:
      return `${where}${base || (context === 'body' ? 'body' : (context ?? 'request'))} ${e.message ?? 'is invalid'}`;
  }
}

function fromFastify(err: FastifyError): KmsError | undefined {
  if (err.validation) {
    return new KmsError(
      'INVALID_REQUEST',
      validationMessage(err.validationContext, err.validation as unknown as AjvError[]),
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KmsError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KmsError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KmsError('INVALID_REQUEST', 'body must be a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new KmsError('INVALID_REQUEST', 'body is not valid JSON');
  }
  if (err instanceof SyntaxError || err.statusCode === 400)
    return new KmsError('INVALID_REQUEST', 'body is not valid JSON');
  if (err.statusCode === 413) return new KmsError('PAYLOAD_TOO_LARGE');
  if (err.statusCode === 415) return new KmsError('UNSUPPORTED_MEDIA_TYPE');
  return undefined;
}

export function errorHandler(
  err: FastifyError | KmsError,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  const mapped = isKmsError(err) ? err : fromFastify(err as FastifyError);
  if (!mapped || mapped.status >= 500) {
    req.log.error({ err, code: mapped?.code }, 'request failed');
  } else {
    req.log.info({ code: mapped.code, message: mapped.message }, 'request refused');
  }
  const e = mapped ?? new KmsError('INTERNAL');
  if (e.retryAfter !== undefined)
    void reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfter))));
  void reply.status(e.status).send(errorBody(e.code, e.message, req.id));
}

export function errorBody(code: ErrorCode, message: string, requestId: string) {
  return { error: { code, message, requestId } };
}

/**
 * Errors the router raises before any hook runs (a malformed percent-encoding, a path parameter
 * over `maxParamLength`): the API's error shape and `x-request-id` too, not Fastify's own body.
 */
export function frameworkErrorHandler(
  err: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  void reply.header('x-request-id', req.id);
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return errorHandler(invalid('path parameter', 'is longer than 512 characters'), req, reply);
  if (err.code === 'FST_ERR_BAD_URL')
    return errorHandler(invalid('URL', 'is not valid percent-encoding'), req, reply);
  errorHandler(err, req, reply);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  void reply
    .status(404)
    .send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, req.id));
}

export { ERRORS };
