/**
 * Where a V8 CPU profile (`node --cpu-prof`, or bench/profile.ts) spent its time: self time by
 * package or file and by function, and the inclusive time of our own functions (src/). CLI:
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package>/..., src/... (also from a compiled copy), or the node: module. */
function shortUrl(url: string): string {
  const pkg = /.*\/(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return url.slice(url.indexOf(pkg[1]!));
  const own = /\/(?:(src|bench)|bench-dist)\/(.*)$/.exec(url);
  if (own) return `${own[1] ?? 'src'}/${own[2]}`;
  return url.replace(/^node:/, '') || '(native)';
}

function frameName(n: ProfileNode): string {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function add(map: Map<string, number>, k: string, v: number): void {
  map.set(k, (map.get(k) ?? 0) + v);
}

/** Microseconds sampled in each node itself. */
function selfTimes(prof: Profile): Map<number, number> {
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  return self;
}

function byPlace(nodes: Map<number, ProfileNode>, self: Map<number, number>) {
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = nodes.get(id)!;
    const where = shortUrl(n.callFrame.url);
    add(fns, frameName(n), us);
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1];
    add(files, pkg ?? (n.callFrame.url ? where : n.callFrame.functionName), us);
  }
  return { fns, files };
}

/** Each sample counts once for every distinct src/ function on its stack. */
function inclusiveOfOurs(
  prof: Profile,
  nodes: Map<number, ProfileNode>,
  self: Map<number, number>,
): Map<string, number> {
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = nodes.get(at)!;
      if (!shortUrl(n.callFrame.url).startsWith('src/')) continue;
      const k = frameName(n);
      if (!seen.has(k)) add(inclusive, k, us);
      seen.add(k);
    }
  }
  return inclusive;
}

export function summarize(prof: Profile, top = 30): string {
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = selfTimes(prof);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const { fns, files } = byPlace(nodes, self);
  const lines: string[] = [];
  const section = (title: string, m: Map<string, number>) => {
    lines.push('', `${title} (of ${(total / 1e6).toFixed(2)} s sampled)`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      lines.push(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  section('self time by package or file', files);
  section('self time by function', fns);
  section('inclusive time of src/ functions', inclusiveOfOurs(prof, nodes, self));
  return lines.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  process.stdout.write(summarize(prof, Number(top ?? 30)));
}
