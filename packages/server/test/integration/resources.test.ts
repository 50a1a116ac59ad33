/**
 * The RFC 8707 rules of src/resources.ts as tables: which values name a resource, in strict and
 * open mode, and which audience a token request gets from a grant.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseAudience, InvalidTarget, normalizeResource, ResourcePolicy } from '../../src/resources.js';

const OWN = 'http://127.0.0.1:3000';
const A = 'https://mcp.example/mcp';
const B = 'https://Tools.example';

describe('normalizeResource (RFC 8707 §2: absolute URI, no fragment)', () => {
  const cases: Array<[string, string | undefined]> = [
    ['HTTPS://MCP.EXAMPLE/mcp', 'https://mcp.example/mcp'],
    ['https://mcp.example:443/mcp', 'https://mcp.example/mcp'],
    ['https://mcp.example', 'https://mcp.example/'],
    ['https://mcp.example/MCP?x=1', 'https://mcp.example/MCP?x=1'],
    ['https://mcp.example/mcp#frag', undefined],
    ['https://mcp.example/mcp#', undefined],
    ['/relative/path', undefined],
    ['https://mcp.example/a b', undefined],
    ['', undefined],
  ];
  for (const [value, expected] of cases)
    it(`${JSON.stringify(value)} -> ${expected}`, () => assert.equal(normalizeResource(value), expected));
});

describe('ResourcePolicy', () => {
  const strict = new ResourcePolicy({ own: OWN, list: [A, B], default: A });
  const open = new ResourcePolicy({ own: OWN });

  const strictCases: Array<[string, string | typeof InvalidTarget]> = [
    ['https://MCP.example:443/mcp', A],
    ['https://tools.example/', B], // the configured spelling is kept
    [`${OWN}/`, OWN], // this server's own resource is always served
    ['https://other.example/mcp', InvalidTarget],
    ['http://127.0.0.1:8080/', InvalidTarget],
  ];
  for (const [value, expected] of strictCases) {
    it(`strict: ${value}`, () => {
      if (typeof expected === 'string') assert.equal(strict.canonical(value), expected);
      else assert.throws(() => strict.canonical(value), expected);
    });
  }

  const openCases: Array<[string, string | typeof InvalidTarget]> = [
    ['https://ANY.example/mcp', 'https://any.example/mcp'],
    ['http://localhost:8080', 'http://localhost:8080/'],
    ['http://[::1]:8080/mcp', 'http://[::1]:8080/mcp'],
    ['http://mcp.example/mcp', InvalidTarget],
    ['urn:example:resource', InvalidTarget],
    ['ftp://files.example/', InvalidTarget],
  ];
  for (const [value, expected] of openCases) {
    it(`open: ${value}`, () => {
      if (typeof expected === 'string') assert.equal(open.canonical(value), expected);
      else assert.throws(() => open.canonical(value), expected);
    });
  }

  it('an authorization without resource gets the default, or none', () => {
    assert.deepEqual(strict.forAuthorization([]), [A]);
    assert.deepEqual(open.forAuthorization([]), []);
    assert.deepEqual(strict.forAuthorization([A, 'https://mcp.example/mcp', B]), [A, B], 'duplicates merged');
  });
});

describe('chooseAudience (RFC 8707 §2.2: one audience per token, within the grant)', () => {
  const cases: Array<[string, string[], string[], string | undefined | typeof InvalidTarget]> = [
    ['no resource granted, none asked', [], [], undefined],
    ['one granted, none asked', [A], [], A],
    ['several granted, none asked', [A, B], [], InvalidTarget],
    ['narrowed to one granted', [A, B], ['https://tools.example/'], B],
    ['widened to one not granted', [A], ['https://other.example/'], InvalidTarget],
    ['asked for one when none was granted', [], [A], InvalidTarget],
    ['two asked at once', [A, B], [A, B], InvalidTarget],
  ];
  for (const [name, granted, requested, expected] of cases) {
    it(name, () => {
      if (expected === InvalidTarget) assert.throws(() => chooseAudience(granted, requested), InvalidTarget);
      else assert.equal(chooseAudience(granted, requested), expected);
    });
  }
});
