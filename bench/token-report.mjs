// Tables and target checks for bench/token-flows.mjs. Figures are printed, never asserted: the
// machine is shared and noisy, so a missed target is a finding to look into, not a failed build.

export const median = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const find = (rows, flow, label, connections) =>
  rows.find((r) => r.flow === flow && r.label === label && r.connections === connections);

/**
 * Issue 9's targets. `value` and `bound` are computed from this run's rows; `met` is null when a
 * side was not measured or more than 1% of its requests failed (such a run proves nothing).
 */
const TARGETS = [
  {
    label: 'Refresh with rotation at 16 conns, SQLite, vs bare-sqlite',
    rows: (rows) => [find(rows, 'refresh', 'sqlite', 16)],
    value: ([row]) => row?.xBareSqlite,
    bound: () => 0.5,
    kind: 'min-ratio',
  },
  {
    label: 'client_credentials p99 at 64 conns, SQLite, vs registration p99 on SQLite',
    rows: (rows) => [find(rows, 'client-credentials', 'sqlite', 64), find(rows, 'register', 'sqlite', 64)],
    value: ([token, register]) => (token && register ? token.p99Ms / register.p99Ms : undefined),
    bound: () => 1.5,
    kind: 'max-ratio',
    detail: ([token, register]) =>
      token && register ? `${token.p99Ms.toFixed(1)} ms vs ${register.p99Ms.toFixed(1)} ms` : '',
  },
  {
    label: 'client_credentials p99 at 64 conns, memory, vs registration p99 on memory (reference)',
    rows: (rows) => [find(rows, 'client-credentials', 'memory', 64), find(rows, 'register', 'memory', 64)],
    value: ([token, register]) => (token && register ? token.p99Ms / register.p99Ms : undefined),
    bound: () => 1.5,
    kind: 'max-ratio',
    detail: ([token, register]) =>
      token && register ? `${token.p99Ms.toFixed(1)} ms vs ${register.p99Ms.toFixed(1)} ms` : '',
  },
  {
    // The issue measured the memory store at 1.4-1.5x node-oidc-provider's in-memory token rate,
    // so 1/1.45 of this run's memory-store rate stands in for it (node-oidc-provider is not run here).
    label: 'client_credentials req/s at 64 conns, SQLite, vs memory store / 1.45 (est. node-oidc-provider in memory)',
    rows: (rows) => [find(rows, 'client-credentials', 'sqlite', 64), find(rows, 'client-credentials', 'memory', 64)],
    value: ([sqlite, memory]) => (sqlite && memory ? (sqlite.rps / memory.rps) * 1.45 : undefined),
    bound: () => 1,
    kind: 'min-ratio',
    detail: ([sqlite, memory]) =>
      sqlite && memory ? `${Math.round(sqlite.rps)} vs ${Math.round(memory.rps)} req/s on memory` : '',
  },
  ...[16, 64].flatMap((connections) =>
    ['mcp-reused', 'mcp-first-seen'].map((label) => ({
      label: `MCP tool call with ${label === 'mcp-reused' ? 'a reused' : 'first-seen'} token at ${connections} conns vs the same call without auth`,
      rows: (rows) => [find(rows, 'verify', label, connections)],
      value: ([row]) => row?.xReference,
      bound: () => 0.8,
      kind: 'min-ratio',
      detail: ([row]) => (row?.cpuXReference != null ? `by CPU per request ${row.cpuXReference.toFixed(2)}x` : ''),
    })),
  ),
  {
    label: 'Introspection at 16 conns, SQLite, vs bare.mjs',
    rows: (rows) => [find(rows, 'introspect', 'sqlite', 16)],
    value: ([row]) => row?.xBare,
    bound: () => 0.5,
    kind: 'min-ratio',
    detail: ([row]) => (row?.xBareSqlite != null ? `${row.xBareSqlite.toFixed(2)}x bare-sqlite` : ''),
  },
  ...['sqlite', 'memory'].map((store) => ({
    // "Within 1.2x": the DCR client's rate is at most 1.2x the CIMD client's, i.e. CIMD >= 1/1.2 of it.
    label: `/authorize for a CIMD client with a cached document at 16 conns, ${store}, vs a DCR client`,
    rows: (rows) => [find(rows, 'authorize', `${store}/cimd`, 16)],
    value: ([row]) => row?.xReference,
    bound: () => Number((1 / 1.2).toFixed(3)),
    kind: 'min-ratio',
    detail: ([row]) => (row?.cpuXReference != null ? `by CPU per request ${row.cpuXReference.toFixed(2)}x` : ''),
  })),
];

/** This run's verdicts: the load targets from `rows`, then the checks as they came. */
export function evaluateTokenTargets(rows, checks = []) {
  const evaluated = TARGETS.map((target) => {
    const used = target.rows(rows);
    const value = target.value(used);
    const bound = target.bound(used);
    let met = null;
    if (typeof value === 'number' && Number.isFinite(value) && used.every((r) => r && r.failedShare <= 0.01))
      met = target.kind === 'min-ratio' ? value >= bound : value <= bound;
    return {
      label: target.label,
      kind: target.kind,
      value: value ?? null,
      bound,
      met,
      detail: target.detail?.(used) ?? '',
    };
  });
  return [...evaluated, ...checks];
}

export function targetText(t) {
  const bound = t.kind === 'min-ratio' ? `>= ${t.bound}x` : t.kind === 'max-ratio' ? `<= ${t.bound}x` : `= ${t.bound}`;
  const value = t.value == null ? 'not measured' : t.kind === 'exact' ? String(t.value) : `${t.value.toFixed(2)}x`;
  const verdict = t.met === null ? 'NOT MEASURED' : t.met ? 'met' : 'MISSED';
  return `${t.label}: ${value}${t.detail ? ` (${t.detail})` : ''} (target ${bound}) -> ${verdict}`;
}

const fmt = {
  int: (v) => (v == null ? '-' : Math.round(v).toLocaleString('en-US')),
  ms: (v) => (v == null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1)),
  ratio: (v) => (v == null ? '-' : `${v.toFixed(2)}x`),
  cpu: (v) => (v == null ? '-' : v.toFixed(3)),
};

const COLUMNS = [
  ['server', (r) => r.label],
  ['conns', (r) => String(r.connections)],
  ['req/s', (r) => fmt.int(r.rps)],
  ['p50 ms', (r) => fmt.ms(r.p50Ms)],
  ['p99 ms', (r) => fmt.ms(r.p99Ms)],
  ['CPU ms/req', (r) => fmt.cpu(r.cpuMsPerRequest)],
  ['x bare-sqlite', (r) => (r.server === 'bare-sqlite' ? '1.00x' : fmt.ratio(r.xBareSqlite)), (r) => r.xBareSqlite],
  ['x bare', (r) => (r.server === 'bare' ? '1.00x' : fmt.ratio(r.xBare)), (r) => r.xBare],
  [
    'x same server',
    (r) => (r.xReference == null ? '-' : `${fmt.ratio(r.xReference)} of ${r.referenceSide}`),
    (r) => r.xReference,
  ],
  ['CPU x same server', (r) => fmt.ratio(r.cpuXReference), (r) => r.cpuXReference],
  ['failed', (r) => String(r.failed ?? 0)],
];

/** A flow's rows as a text or Markdown table; ratio columns no row of the flow has are left out. */
export function flowTable(rows, flowId, style) {
  const flowRows = rows.filter((r) => r.flow === flowId);
  const columns = COLUMNS.filter(([, , present]) => !present || flowRows.some((r) => present(r) != null));
  const body = flowRows.map((r) => columns.map(([, cell]) => cell(r)));
  const head = columns.map(([name]) => name);
  if (style === 'markdown') {
    return [
      `| ${head.join(' | ')} |`,
      `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
      ...body.map((cells) => `| ${cells.join(' | ')} |`),
    ].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((line) => line[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
