/**
 * Registration bodies for the property tests: real clients' verbatim payloads
 * (test/fixtures/clients) mutated the ways hand fuzzing broke servers (fields dropped, repeated,
 * retyped or nulled; odd Unicode; huge values; nested junk; broken JSON text), and metadata
 * generated from scratch over the RFC 7591 §2 / OIDC DCR §2 fields. Every case is the JSON text
 * sent, so a counterexample is kept and replayed byte for byte.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  junkValue,
  METADATA_FIELDS,
  nastyString,
  ODD_NAMES,
  URI_STRINGS,
  valueFor,
} from './property-client-metadata-values.js';

const FIXTURES = new URL('../fixtures/clients/', import.meta.url);

/** The real clients' bodies, in file order. */
export const FIXTURE_BODIES: readonly Record<string, unknown>[] = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => (JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as { body: Record<string, unknown> }).body);

/** RFC 7591 §2 and OpenID Connect DCR §2 client metadata names. */

type Edit = (body: Record<string, unknown>) => void;

const fieldName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...METADATA_FIELDS) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_NAMES) },
);

/** One mutation of a body object (applied in place, on a copy). */
const harshEdit: fc.Arbitrary<Edit> = fc.oneof(
  // drop a field the client sent
  fc.nat().map((n) => (body: Record<string, unknown>) => {
    const keys = Object.keys(body);
    if (keys.length > 0) delete body[keys[n % keys.length]!];
  }),
  // set any field, known or odd, to a plausible value or junk
  fieldName.chain((field) =>
    valueFor(field).map((value) => (body: Record<string, unknown>) => setOwn(body, field, value)),
  ),
  // null in place of a value the client sent
  fc.nat().map((n) => (body: Record<string, unknown>) => {
    const keys = Object.keys(body);
    if (keys.length > 0) body[keys[n % keys.length]!] = null;
  }),
  // an array the client sent gets a member dropped, repeated, retyped or added
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom('drop', 'repeat', 'retype', 'add'),
      junkValue,
      fc.constantFrom(...URI_STRINGS),
    )
    .map(([k, i, how, junk, uri]) => (body: Record<string, unknown>) => {
      const arrays = Object.keys(body).filter((key) => Array.isArray(body[key]));
      if (arrays.length === 0) return;
      const list = [...(body[arrays[k % arrays.length]!] as unknown[])];
      const at = list.length === 0 ? 0 : i % list.length;
      if (how === 'drop') list.splice(at, 1);
      else if (how === 'repeat' && list.length > 0) list.push(list[at]);
      else if (how === 'retype') list[at] = junk;
      else list.push(arrays[k % arrays.length] === 'redirect_uris' ? uri : junk);
      body[arrays[k % arrays.length]!] = list;
    }),
  // huge values: a long string, a long list (past the 64 KiB body cap, sometimes)
  fc
    .tuple(fieldName, fc.constantFrom(1000, 20_000, 20_000, 70_000))
    .map(([field, size]) => (body: Record<string, unknown>) => {
      setOwn(
        body,
        field,
        field.endsWith('s')
          ? Array.from({ length: size / 100 }, (_, n) => `https://app.example/${n}`)
          : 'x'.repeat(size),
      );
    }),
  // nested junk
  fc.tuple(fieldName, fc.jsonValue({ maxDepth: 6 })).map(([field, value]) => (body: Record<string, unknown>) => {
    setOwn(body, field, { nested: value, list: [value, [value]] });
  }),
);

/**
 * The same redirect URI in other bytes: a URL parser would rewrite each of these, and RFC 7591 §2
 * / RFC 6749 §3.1.2 compare redirect URIs as strings, so each must come back exactly as sent.
 */
const SPELLINGS: readonly ((uri: string) => string)[] = [
  (uri) => uri.replace(/^(\w+:\/\/)([^/:]+)/, (_, scheme: string, host: string) => scheme + host.toUpperCase()),
  (uri) => uri.replace(/^https:\/\/([^/:]+)\//, 'https://$1:443/'),
  (uri) => uri.replace(/^http:\/\/([^/:]+)\//, 'http://$1:80/'),
  (uri) => `${uri}?`,
  (uri) => uri.replace(/\/([^/]*)$/, '/./$1'),
  (uri) => `${uri}%7e`,
  (uri) => uri.replace(/^(\w+):/, (scheme: string) => scheme.toUpperCase()),
];

/** Edits a validator should take in its stride: odd but legal names, unknown extensions. */
const mildEdit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...SPELLINGS)).map(([n, spell]) => (body: Record<string, unknown>) => {
    const uris = body.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || typeof uris[n % uris.length] !== 'string') return;
    const copy = [...uris];
    copy[n % copy.length] = spell(copy[n % copy.length] as string);
    body.redirect_uris = copy;
  }),
  fc
    .tuple(fc.constantFrom('client_name', 'client_name#ja-Jpan-JP', 'software_version', 'software_id'), nastyString)
    .map(
      ([field, value]) =>
        (body: Record<string, unknown>) =>
          setOwn(body, field, value),
    ),
  fc.tuple(fc.string({ maxLength: 12 }), junkValue).map(([field, value]) => (body: Record<string, unknown>) => {
    if (!(METADATA_FIELDS as readonly string[]).includes(field)) setOwn(body, field, value);
  }),
  fc
    .constantFrom('client_uri', 'logo_uri', 'scope', 'contacts', 'application_type', 'client_name')
    .map((field) => (body: Record<string, unknown>) => {
      delete body[field];
    }),
);

const edit: fc.Arbitrary<Edit> = fc.oneof({ weight: 1, arbitrary: mildEdit }, { weight: 2, arbitrary: harshEdit });

function setOwn(body: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Edits on the JSON text itself: a repeated key, truncation, a BOM, trailing bytes, deep nesting. */
type TextEdit = (text: string) => string;
const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.tuple(fieldName, junkValue).map(
    ([field, value]) =>
      (text: string) =>
        text.startsWith('{') && text.length > 2
          ? `{${JSON.stringify(field)}:${JSON.stringify(value) ?? 'null'},${text.slice(1)}`
          : text,
  ),
  fc.nat().map((n) => (text: string) => text.slice(0, n % (text.length + 1))),
  fc.constant((text: string) => `\ufeff${text}`),
  fc.constantFrom(' x', '}', ',', '\u0000', '\n{"a":1}').map((tail) => (text: string) => text + tail),
  fc
    .constantFrom(10, 2000)
    .map(
      (depth) => (text: string) =>
        text.startsWith('{') ? `{"client_name":${'['.repeat(depth)}${']'.repeat(depth)},${text.slice(1)}` : text,
    ),
);

/** A real client's body with 1-3 edits, and sometimes a text edit: the JSON text sent. */
export const mutatedFixtureBody: fc.Arbitrary<string> = fc
  .tuple(
    fc.nat({ max: FIXTURE_BODIES.length - 1 }),
    fc.array(edit, { minLength: 1, maxLength: 3 }),
    fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: textEdit }),
  )
  .map(([index, edits, textMutation]) => {
    const body = structuredClone(FIXTURE_BODIES[index]!);
    for (const apply of edits) apply(body);
    const text = JSON.stringify(body);
    return textMutation ? textMutation(text) : text;
  });

/** Metadata generated from the field names alone: any subset, plausible values and junk. */
export const generatedBody: fc.Arbitrary<string> = fc
  .uniqueArray(fieldName, { minLength: 0, maxLength: 10 })
  .chain((fields) => fc.tuple(...fields.map((field) => valueFor(field).map((value) => [field, value] as const))))
  .map((entries) => {
    const body: Record<string, unknown> = {};
    for (const [field, value] of entries) setOwn(body, field, value);
    return JSON.stringify(body);
  });

/** What the property tests send: mostly mutated real payloads, some generated ones. */
export const registrationBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: mutatedFixtureBody },
  { weight: 1, arbitrary: generatedBody },
);
