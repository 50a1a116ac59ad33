// Tables and target checks. Figures are printed, never asserted: the machine is shared and noisy,
// so a missed target is a finding to look into, not a failed build.

/** The performance targets from the issue, each a predicate over this run's rows. */
export const TARGETS = [
  {
    scenario: 'register-public',
    store: 'memory',
    connections: 16,
    metric: 'ratio',
    min: 0.6,
    label: 'Registration (public) at 16 conns, memory store',
  },
  {
    scenario: 'register-public',
    store: 'sqlite',
    connections: 16,
    metric: 'ratio',
    min: 0.4,
    label: 'Registration (public) at 16 conns, SQLite store',
  },
  {
    scenario: 'register-secret-post',
    store: 'memory',
    connections: 16,
    metric: 'ratio',
    min: 0.6,
    label: 'Registration (client_secret_post) at 16 conns, memory store',
  },
  {
    scenario: 'register-secret-post',
    store: 'sqlite',
    connections: 16,
    metric: 'ratio',
    min: 0.4,
    label: 'Registration (client_secret_post) at 16 conns, SQLite store',
  },
  ...['register-public', 'register-secret-post', 'token-client-credentials', 'rfc7592-read'].flatMap((scenario) =>
    ['memory', 'sqlite'].map((store) => ({
      scenario,
      store,
      connections: 64,
      metric: 'p99Ms',
      max: 25,
      label: `p99 of ${scenario} at 64 conns, ${store} store`,
    })),
  ),
  {
    scenario: 'rfc7592-read',
    store: 'memory',
    connections: 16,
    metric: 'ratio',
    min: 0.7,
    label: 'RFC 7592 read at 16 conns, memory store',
  },
  {
    scenario: 'rfc7592-read',
    store: 'sqlite',
    connections: 16,
    metric: 'ratio',
    min: 0.7,
    label: 'RFC 7592 read at 16 conns, SQLite store',
  },
];

export function evaluateTargets(rows) {
  return TARGETS.map((target) => {
    const row = rows.find(
      (r) => r.scenario === target.scenario && r.store === target.store && r.connections === target.connections,
    );
    const value = row?.[target.metric];
    let met = null; // null: not measured
    if (typeof value === 'number' && Number.isFinite(value)) {
      met = target.min !== undefined ? value >= target.min : value <= target.max;
      // A run that mostly answered errors proves nothing either way.
      if (row.failedShare > 0.01) met = null;
    }
    // For latency, the baseline's own p99 in the same run says how much of a tail is the machine.
    const base = rows.find(
      (r) => r.scenario === target.scenario && r.store === 'baseline' && r.connections === target.connections,
    );
    return { ...target, value: value ?? null, baselineValue: base?.[target.metric] ?? null, met };
  });
}

const fmt = {
  int: (v) => (v == null ? '-' : Math.round(v).toLocaleString('en-US')),
  ms: (v) => (v == null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1)),
  ratio: (v) => (v == null ? '-' : `${v.toFixed(2)}x`),
  cpu: (v) => (v == null ? '-' : v.toFixed(3)),
};

const COLUMNS = [
  ['store', (r) => r.store],
  ['conns', (r) => String(r.connections)],
  ['req/s', (r) => fmt.int(r.rps)],
  ['p50 ms', (r) => fmt.ms(r.p50Ms)],
  ['p99 ms', (r) => fmt.ms(r.p99Ms)],
  ['CPU ms/req', (r) => fmt.cpu(r.cpuMsPerRequest)],
  ['x baseline', (r) => (r.store === 'baseline' ? '1.00x' : fmt.ratio(r.ratio))],
  ['failed', (r) => (r.failed ? String(r.failed) : '0')],
];

function scenarioRows(rows, scenarioId) {
  const order = (store) => (store === 'baseline' ? 0 : store === 'memory' ? 1 : store === 'sqlite' ? 2 : 3);
  return rows
    .filter((r) => r.scenario === scenarioId)
    .sort((a, b) => a.connections - b.connections || order(a.store) - order(b.store));
}

export function textTable(rows, scenarioId) {
  const body = scenarioRows(rows, scenarioId).map((r) => COLUMNS.map(([, cell]) => cell(r)));
  const head = COLUMNS.map(([name]) => name);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((line) => line[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(rows, scenarioId) {
  const head = COLUMNS.map(([name]) => name);
  const body = scenarioRows(rows, scenarioId).map((r) => COLUMNS.map(([, cell]) => cell(r)));
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...body.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}

export function targetLines(targets) {
  return targets.map((t) => {
    const bound = t.min !== undefined ? `>= ${t.min}x` : `<= ${t.max} ms`;
    const value =
      t.value == null ? 'not measured' : t.metric === 'ratio' ? fmt.ratio(t.value) : `${fmt.ms(t.value)} ms`;
    const verdict = t.met === null ? 'NOT MEASURED' : t.met ? 'met' : 'MISSED';
    const context =
      t.metric === 'p99Ms' && t.baselineValue != null ? `; baseline p99 ${fmt.ms(t.baselineValue)} ms` : '';
    return { text: `${t.label}: ${value} (target ${bound}${context}) -> ${verdict}`, verdict };
  });
}

export function hashingLines(h, tokenCpuMs) {
  const lines = [
    `SHA-256 + timingSafeEqual (43-char secret): ${h.sha256UsPerVerify.toFixed(2)} us per verification ` +
      `(${h.shaIterations.toLocaleString('en-US')} iterations) -> at most ${fmt.int(h.sha256MaxVerifiesPerCoreSecond)} verifications/s per core`,
    `PBKDF2-SHA256, 600 000 iterations (Django default): ${(h.pbkdf2UsPerVerify / 1000).toFixed(1)} ms per verification ` +
      `(${h.pbkdf2Iterations} iterations) -> at most ${h.pbkdf2MaxVerifiesPerCoreSecond.toFixed(1)} token requests/s per core`,
    `PBKDF2-600k costs ${fmt.int(h.pbkdf2OverSha256)}x SHA-256 per verification.`,
  ];
  if (tokenCpuMs) {
    const withPbkdf2 = tokenCpuMs + h.pbkdf2UsPerVerify / 1000 - h.sha256UsPerVerify / 1000;
    lines.push(
      `Measured token endpoint: ${tokenCpuMs.toFixed(3)} ms server CPU per request (memory store, 16 conns); ` +
        `SHA-256 is ${((h.sha256UsPerVerify / 1000 / tokenCpuMs) * 100).toFixed(2)}% of it. ` +
        `With PBKDF2-600k it would be ~${withPbkdf2.toFixed(1)} ms -> ~${(1000 / withPbkdf2).toFixed(1)} token requests/s per core ` +
        `instead of ~${fmt.int(1000 / tokenCpuMs)}.`,
    );
  }
  return lines;
}
