/** Parsers for the human units of the config file: durations, sizes and rates (CONFIG.md). */
import { ConfigError } from './config.js';

export const DAY_MS = 86_400_000;

const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const SIZE_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const RATE_PER_SECOND: Record<string, number> = { '/s': 1, '/m': 1 / 60, '/h': 1 / 3600 };

/** `30s`, `5m`, `90d` (a bare number is seconds) -> milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  return Number(m[1]) * (DURATION_MS[m[2]!] ?? NaN);
}

/** `64KiB`, `2MiB` (a bare number is bytes) -> bytes. */
export function sizeBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+)(B|KiB|MiB|GiB)?$/.exec(value);
  if (!m) throw new Error(`not a size: ${value}`);
  return Number(m[1]) * (SIZE_BYTES[m[2] ?? 'B'] ?? NaN);
}

/** `1000/s`, `600/m` (a bare number is per second; 0 is no limit) -> events per second. */
export function ratePerSecond(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+)(\/s|\/m|\/h)?$/.exec(value);
  if (!m) throw new Error(`not a rate: ${value}`);
  return Number(m[1]) * (RATE_PER_SECOND[m[2] ?? '/s'] ?? NaN);
}

/**
 * A duration from `min` to `max` milliseconds (whole seconds when `seconds`), or a ConfigError
 * naming it: 0 would make a timer fire every millisecond, or a token that expires at once.
 */
export function within(
  at: string,
  value: string | number,
  min: number,
  max: number,
  seconds = false,
): number {
  const ms = durationMs(value);
  const unit = (n: number) => (n % DAY_MS === 0 ? `${n / DAY_MS}d` : `${n / 1000}s`);
  if (!(ms >= min && ms <= max))
    throw new ConfigError(`config: ${at} must be from ${unit(min)} to ${unit(max)} (got ${value})`);
  if (seconds && ms % 1000 !== 0)
    throw new ConfigError(`config: ${at} must be whole seconds (got ${value})`);
  return ms;
}
