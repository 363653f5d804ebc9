/**
 * pino JSON logs with secrets redacted (ARCHITECTURE.md "Operations"). Request bodies are never
 * logged; the paths below cover headers and any object a log call might carry by mistake.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.token',
  '*.privateKey',
  '*.plaintext',
  '*.secret',
  '*.pin',
  'token',
  'privateKey',
  'plaintext',
  'secret',
  'pin',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'zoo-kms' } },
    destination,
  );
}
