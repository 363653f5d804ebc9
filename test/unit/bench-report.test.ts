/**
 * What the bench reports about the server's main thread: its run-queue wait read from
 * /proc/<pid>/task/<tid>/schedstat, the table's column for it, and the half-rate lines that put
 * each experience route's main-thread load beside the bare echo's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runQueueSeconds } from '../../bench/site.js';
import { halfRateLines, table, type ScenarioResult } from '../../bench/results.js';

describe('runQueueSeconds', () => {
  it('is the second field of schedstat, in seconds', () => {
    expect(runQueueSeconds('579075824 369306872 606\n')).toBeCloseTo(0.369306872, 9);
    expect(runQueueSeconds('0 1500000000 3')).toBe(1.5);
  });

  it('is NaN for a file it cannot read as three counts', () => {
    expect(runQueueSeconds('')).toBeNaN();
    expect(runQueueSeconds('12')).toBeNaN();
    expect(runQueueSeconds('12 x 3')).toBeNaN();
  });

  it("reads this very thread's schedstat (Linux)", () => {
    const s = runQueueSeconds(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8'));
    expect(s).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(s)).toBe(true);
  });
});

const base: ScenarioResult = {
  name: 'experience-encrypt',
  store: 'sqlite',
  rate: 6000,
  baselineRate: 12000,
  ratio: 0.5,
  p50Ms: 1.2,
  p99Ms: 20,
  seconds: null,
};

describe('the report', () => {
  it('prints the main thread run-queue wait beside its baseline', () => {
    const out = table([{ ...base, mainWaitUsPerRequest: 41.4, baselineMainWaitUsPerRequest: 7 }]);
    const [head, , row] = out.split('\n');
    // Numeric cells are right-aligned under their heading.
    const end = head!.indexOf('main wait us/req') + 'main wait us/req'.length;
    expect(end).toBeGreaterThan('main wait us/req'.length);
    expect(row!.slice(end - 5, end)).toBe(' 41/7');
  });

  it('has one half-rate line per experience scenario that measured both routes', () => {
    const lines = halfRateLines([
      {
        ...base,
        halfRate: 2999.6,
        halfRateMain: { busy: 0.683, cpuUsPerRequest: 227.4, waitUsPerRequest: 40.6 },
        baselineHalfRateMain: { busy: 0.25, cpuUsPerRequest: 83, waitUsPerRequest: 12.2 },
      },
      { ...base, name: 'validator-sign' },
    ]);
    expect(lines).toEqual([
      'sqlite experience-encrypt at 3000/s: main thread on a core 68% of the time, 227 us per ' +
        'request, 41 us waiting for a core; the bare echo: main thread on a core 25% of the time, ' +
        '83 us per request, 12 us waiting for a core',
    ]);
  });
});
