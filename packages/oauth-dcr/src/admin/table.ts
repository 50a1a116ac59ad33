import type { Output } from './command-input.js';

/** Epoch seconds as an ISO 8601 UTC time without milliseconds; `never` for null. */
export function formatTime(epochSeconds: number | null | undefined, absent = 'never'): string {
  return epochSeconds === null || epochSeconds === undefined
    ? absent
    : new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Text that came from clients (names, URIs), with control characters that could drive a terminal replaced. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Columns padded to their widest cell; the last column is not padded. */
export function printTable(output: Output, headers: string[], rows: string[][]): void {
  const all = [headers, ...rows.map((row) => row.map(printable))];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  for (const row of all)
    output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
