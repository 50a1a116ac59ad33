/**
 * Loaded with --import into a reference server the SSRF matrix spawns: the test DNS of the
 * matrix (SSRF_TEST_DNS, JSON: name -> successive answers) under node:dns for names ending in
 * `.test`, and a line on stderr for every socket the server opens to the lab's port
 * (SSRF_LAB_PORT), so the test counts connections to addresses no canary can listen on.
 * Plain JavaScript: it runs before tsx is registered.
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const table = JSON.parse(process.env.SSRF_TEST_DNS ?? '{}');
const labPort = Number(process.env.SSRF_LAB_PORT);
const lookups = new Map();
const original = dns.lookup;

dns.lookup = function testLookup(hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'object' && options !== null ? options : {};
  const name = String(hostname).toLowerCase().replace(/\.$/, '');
  if (!name.endsWith('.test')) return original.call(dns, hostname, options, callback);
  const count = lookups.get(name) ?? 0;
  lookups.set(name, count + 1);
  // A name without an entry of its own takes its parent's (r1.rebind.test: rebind.test).
  let answers;
  for (let rest = name; answers === undefined && rest.includes('.'); rest = rest.slice(rest.indexOf('.') + 1)) {
    answers = table[rest];
  }
  const answer = answers?.[Math.min(count, answers.length - 1)] ?? [];
  process.nextTick(() => {
    const wanted = answer.filter((a) => !opts.family || net.isIP(a) === opts.family);
    if (wanted.length === 0) {
      return done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    }
    const all = wanted.map((address) => ({ address, family: net.isIP(address) }));
    if (opts.all) done(null, all);
    else done(null, all[0].address, all[0].family);
  });
};
syncBuiltinESMExports();

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function recorded(...args) {
  const first = args[0];
  const options = Array.isArray(first) ? first[0] : first;
  if (options && typeof options === 'object' && Number(options.port) === labPort) {
    const report = (address) => process.stderr.write(`ssrf-lab connect ${address}:${labPort}\n`);
    if (net.isIP(options.host ?? '')) report(options.host);
    else this.once('lookup', (error, address) => !error && report(address));
  }
  return connect.apply(this, args);
};
