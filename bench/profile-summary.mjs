// Where a server's CPU time went: summarises V8 .cpuprofile files written by
// `BENCH_CPU_PROF=1 npm run bench` (node --cpu-prof on the reference servers).
//
//   node bench/profile-summary.mjs bench/results/profiles/memory-1234.cpuprofile [--top 30]
//
// Prints self time by module (package or dist/ file), self time by function, and inclusive time
// by function (time spent in a function and everything it called), as shares of the busy time.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const top = Number(values.top);

function moduleOf(url) {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  if (url.startsWith('node:')) return url;
  return url;
}

function summarise(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const idle = new Set(['(idle)', '(program)']);
  let busy = 0;
  const selfByFn = new Map();
  const selfByModule = new Map();
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    if (idle.has(callFrame.functionName)) continue;
    busy += us;
    const fn = `${callFrame.functionName || '(anonymous)'} ${moduleOf(callFrame.url)}:${callFrame.lineNumber + 1}`;
    selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + us);
    const mod = callFrame.functionName === '(garbage collector)' ? '(garbage collector)' : moduleOf(callFrame.url);
    selfByModule.set(mod, (selfByModule.get(mod) ?? 0) + us);
  }
  // Inclusive time, counted once per sample per function even under recursion.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, us] of self) {
    if (idle.has(byId.get(id).callFrame.functionName)) continue;
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const { callFrame } = byId.get(cur);
      if (callFrame.functionName === '(root)') continue;
      const fn = `${callFrame.functionName || '(anonymous)'} ${moduleOf(callFrame.url)}:${callFrame.lineNumber + 1}`;
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
    }
  }
  const table = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) => `  ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      )
      .join('\n');
  console.log(
    `${file}\n  busy ${(busy / 1000).toFixed(0)} ms of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms profiled`,
  );
  console.log(`\nSelf time by module\n${table(selfByModule, top)}`);
  console.log(`\nSelf time by function\n${table(selfByFn, top)}`);
  console.log(`\nInclusive time by function\n${table(inclusive, top * 2)}\n`);
}

if (positionals.length === 0) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile>... [--top N]');
  process.exit(2);
}
for (const file of positionals) summarise(file);
