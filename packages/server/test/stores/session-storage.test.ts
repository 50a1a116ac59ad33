/**
 * Sign-in sessions and pending consent in the server's storage (src/storage/session-records.ts,
 * src/sessions.ts): one contract on memory, SQLite and PostgreSQL. What must hold alike: a
 * session is stored only as the hash of its id, sign-in never reuses a presented id (fixation),
 * the caps push out the oldest (per user, in total, per session's pending requests), lifetimes end
 * sessions and requests, and of two instances taking one pending request exactly one gets it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { AuthorizationRequest } from '../../src/authorization-request.js';
import type { StorageConfig } from '../../src/config.js';
import { SessionStore } from '../../src/sessions.js';
import { pruneStorage } from '../../src/storage/maintenance.js';
import { openStorage, type ServerStorage } from '../../src/storage/open-storage.js';
import type { PendingAuthorizationRecord, SessionRecord } from '../../src/storage/session-records.js';
import { requireService } from '../../../oauth-dcr/test/support/services.js';

const NOW = Math.floor(Date.now() / 1000);
const CAPS = { perUser: 20, total: 10_000 };

interface Backend {
  name: string;
  config: StorageConfig;
  /** Every row of the session tables, as the database holds them (what a dump would show). */
  dump(): Promise<unknown[]>;
  cleanup(): Promise<void>;
}

/** `countMissing`: say once (requireService) that PostgreSQL is missing; later calls stay quiet. */
async function backends(countMissing = true): Promise<Backend[]> {
  const list: Backend[] = [
    { name: 'memory', config: { kind: 'memory' }, dump: async () => [], cleanup: async () => {} },
  ];
  const dir = await mkdtemp(join(tmpdir(), 'oauth-dcr-sessions-'));
  const path = join(dir, 'sessions.db');
  list.push({
    name: 'sqlite',
    config: { kind: 'sqlite', path },
    async dump() {
      const db = new BetterSqlite3(path, { readonly: true });
      try {
        return [
          ...db.prepare('select * from ref_sessions').all(),
          ...db.prepare('select * from ref_pending_authorizations').all(),
        ];
      } finally {
        db.close();
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
  const url = countMissing
    ? requireService('DCR_TEST_POSTGRES_URL', process.env.DCR_TEST_POSTGRES_URL)
    : process.env.DCR_TEST_POSTGRES_URL;
  if (url) {
    const schema = `ref_sessions_${randomBytes(5).toString('hex')}`;
    const query = async (text: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(text)).rows;
      } finally {
        await client.end();
      }
    };
    list.push({
      name: 'postgres',
      config: { kind: 'postgres', url, schema },
      dump: async () => [
        ...(await query(`select * from "${schema}".ref_sessions`)),
        ...(await query(`select * from "${schema}".ref_pending_authorizations`)),
      ],
      cleanup: async () => {
        await query(`drop schema if exists "${schema}" cascade`);
      },
    });
  }
  return list;
}

function hash(): string {
  return randomBytes(32).toString('base64url');
}

function sessionRecord(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return { idHash: hash(), userId, createdAtMs: Date.now(), expiresAt: NOW + 3600, ...overrides };
}

function pendingRecord(sessionIdHash: string, overrides: Partial<PendingAuthorizationRecord> = {}) {
  return {
    id: randomBytes(16).toString('base64url'),
    sessionIdHash,
    request: JSON.stringify({ n: Math.random() }),
    createdAtMs: Date.now(),
    expiresAt: NOW + 600,
    ...overrides,
  };
}

const REQUEST: AuthorizationRequest = {
  parameters: { response_type: 'code', client_id: 'c1', state: 'é "quoted" <tag>' },
  clientId: 'c1',
  redirectUri: 'http://127.0.0.1:4000/cb',
  redirectUriSent: true,
  state: 'é "quoted" <tag>',
  scope: ['read', 'write'],
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  codeChallengeMethod: 'S256',
  resources: ['https://rs.example/mcp'],
};

/** A real request/response pair as node:http gives a route, with the cookies a browser sends. */
function exchange(cookie?: string): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  if (cookie) req.headers.cookie = cookie;
  return { req, res: new ServerResponse(req) };
}

function sessionCookie(res: ServerResponse): string {
  const cookies = res.getHeader('Set-Cookie') as string[];
  const cookie = cookies.find((value) => value.startsWith('dcr_session='));
  assert.ok(cookie, 'a session cookie was set');
  return cookie.split(';')[0]!;
}

for (const backend of await backends()) {
  describe(`sessions and pending consent: ${backend.name}`, () => {
    let storage: ServerStorage;
    let users: { alice: string; bob: string };
    before(async () => {
      storage = await openStorage(backend.config);
      users = {
        alice: (await storage.users.upsertUser('alice', 'scrypt$x', NOW)).id,
        bob: (await storage.users.upsertUser('bob', 'scrypt$x', NOW)).id,
      };
    });
    after(async () => {
      await storage.close();
      await backend.cleanup();
    });

    it('finds a live session by its hash with its user, and nothing for an unknown, expired or NUL hash', async () => {
      const live = sessionRecord(users.alice);
      const expired = sessionRecord(users.alice, { expiresAt: NOW - 1 });
      await storage.sessions.createSession(live, CAPS, NOW);
      await storage.sessions.createSession(expired, CAPS, NOW - 3600);
      assert.deepEqual(await storage.sessions.findSession(live.idHash, NOW), {
        userId: users.alice,
        username: 'alice',
        expiresAt: live.expiresAt,
      });
      assert.equal(await storage.sessions.findSession(expired.idHash, NOW), null);
      assert.equal(await storage.sessions.findSession(hash(), NOW), null);
      assert.equal(await storage.sessions.findSession(`${live.idHash}\u0000`, NOW), null);
      assert.equal(await storage.sessions.findSession(live.idHash, live.expiresAt), null, 'gone at its expiry');
    });

    it('finds no session whose user no longer exists (the user is read with the session)', async () => {
      const orphan = sessionRecord('no-such-user');
      await storage.sessions.createSession(orphan, CAPS, NOW);
      assert.equal(await storage.sessions.findSession(orphan.idHash, NOW), null);
    });

    it("keeps at most perUser sessions of one user, pushing out that user's oldest and no one else's", async () => {
      const caps = { perUser: 3, total: 10_000 };
      const carol = (await storage.users.upsertUser('carol', 'scrypt$x', NOW)).id;
      const dave = (await storage.users.upsertUser('dave', 'scrypt$x', NOW)).id;
      const other = sessionRecord(dave, { createdAtMs: 1 });
      await storage.sessions.createSession(other, caps, NOW);
      const own = [10, 20, 30, 40, 50].map((createdAtMs) => sessionRecord(carol, { createdAtMs }));
      const pending = pendingRecord(own[0]!.idHash);
      for (const [index, record] of own.entries()) {
        await storage.sessions.createSession(record, caps, NOW);
        if (index === 0) await storage.sessions.addPending(pending, 20, NOW);
      }
      const found = await Promise.all(own.map((record) => storage.sessions.findSession(record.idHash, NOW)));
      assert.deepEqual(
        found.map((session) => session !== null),
        [false, false, true, true, true],
      );
      assert.ok(await storage.sessions.findSession(other.idHash, NOW), "another user's session stays");
      assert.equal(
        await storage.sessions.findPending(own[0]!.idHash, pending.id, NOW),
        null,
        "an evicted session's pending requests go with it",
      );
    });

    it('keeps at most `total` live sessions: expired ones go first, then the oldest of anyone', async () => {
      // Its own storage: the count is over the whole table.
      const own = await openStorage(
        backend.config.kind === 'postgres'
          ? { ...backend.config, schema: `${backend.config.schema}_total` }
          : backend.config.kind === 'sqlite'
            ? { kind: 'sqlite', path: `${backend.config.path}.total` }
            : backend.config,
      );
      try {
        const ids = await Promise.all(
          ['u1', 'u2', 'u3', 'u4', 'u5'].map(async (name) => (await own.users.upsertUser(name, 'h', NOW)).id),
        );
        const caps = { perUser: 10, total: 3 };
        const expired = sessionRecord(ids[0]!, { createdAtMs: 1, expiresAt: NOW - 10 });
        const s2 = sessionRecord(ids[1]!, { createdAtMs: 2 });
        const s3 = sessionRecord(ids[2]!, { createdAtMs: 3 });
        const s4 = sessionRecord(ids[3]!, { createdAtMs: 4 });
        const s5 = sessionRecord(ids[4]!, { createdAtMs: 5 });
        await own.sessions.createSession(expired, caps, NOW - 100);
        for (const record of [s2, s3, s4]) await own.sessions.createSession(record, caps, NOW);
        assert.equal(await own.sessions.countSessions(NOW), 3);
        for (const record of [s2, s3, s4]) assert.ok(await own.sessions.findSession(record.idHash, NOW));
        await own.sessions.createSession(s5, caps, NOW);
        assert.equal(await own.sessions.countSessions(NOW), 3);
        assert.equal(await own.sessions.findSession(s2.idHash, NOW), null, 'the oldest live session made room');
        for (const record of [s3, s4, s5]) assert.ok(await own.sessions.findSession(record.idHash, NOW));
      } finally {
        await own.close();
        if (backend.config.kind === 'sqlite') await rm(`${backend.config.path}.total`, { force: true });
        if (backend.config.kind === 'postgres') {
          const client = new pg.Client({ connectionString: backend.config.url });
          await client.connect();
          await client.query(`drop schema if exists "${backend.config.schema}_total" cascade`);
          await client.end();
        }
      }
    });

    it('keeps at most 20 pending requests per session, the oldest going first; each only for its own session', async () => {
      const session = sessionRecord(users.alice);
      const neighbour = sessionRecord(users.bob);
      await storage.sessions.createSession(session, CAPS, NOW);
      await storage.sessions.createSession(neighbour, CAPS, NOW);
      const theirs = pendingRecord(neighbour.idHash);
      await storage.sessions.addPending(theirs, 20, NOW);
      const mine = Array.from({ length: 21 }, (_, index) => pendingRecord(session.idHash, { createdAtMs: index + 1 }));
      for (const record of mine) await storage.sessions.addPending(record, 20, NOW);
      const kept = await Promise.all(
        mine.map((record) => storage.sessions.findPending(session.idHash, record.id, NOW)),
      );
      assert.equal(kept[0], null, 'the oldest went');
      assert.deepEqual(
        kept.slice(1),
        mine.slice(1).map((record) => record.request),
      );
      assert.equal(await storage.sessions.findPending(neighbour.idHash, theirs.id, NOW), theirs.request);
      // Another session cannot read or take it.
      assert.equal(await storage.sessions.findPending(neighbour.idHash, mine[5]!.id, NOW), null);
      assert.equal(await storage.sessions.takePending(neighbour.idHash, mine[5]!.id, NOW), null);
      assert.equal(await storage.sessions.findPending(session.idHash, mine[5]!.id, NOW), mine[5]!.request);
    });

    it('ends pending requests at their lifetime and with their session', async () => {
      const session = sessionRecord(users.alice);
      await storage.sessions.createSession(session, CAPS, NOW);
      const short = pendingRecord(session.idHash, { expiresAt: NOW + 5 });
      const other = pendingRecord(session.idHash);
      await storage.sessions.addPending(short, 20, NOW);
      await storage.sessions.addPending(other, 20, NOW);
      assert.equal(await storage.sessions.findPending(session.idHash, short.id, NOW + 5), null);
      assert.equal(await storage.sessions.takePending(session.idHash, short.id, NOW + 5), null);
      assert.equal(await storage.sessions.findPending(session.idHash, short.id, NOW + 4), short.request);
      await storage.sessions.deleteSession(session.idHash);
      assert.equal(await storage.sessions.findSession(session.idHash, NOW), null);
      assert.equal(await storage.sessions.findPending(session.idHash, other.id, NOW), null);
    });

    it('takes a pending request once: of many concurrent takes exactly one gets it', async () => {
      const session = sessionRecord(users.alice);
      await storage.sessions.createSession(session, CAPS, NOW);
      const entries = Array.from({ length: 10 }, () => pendingRecord(session.idHash));
      for (const entry of entries) await storage.sessions.addPending(entry, 20, NOW);
      const results = await Promise.all(
        entries.flatMap((entry) => [1, 2, 3].map(() => storage.sessions.takePending(session.idHash, entry.id, NOW))),
      );
      for (const [index, entry] of entries.entries()) {
        const mine = results.slice(index * 3, index * 3 + 3);
        assert.deepEqual(
          mine.filter((result) => result !== null),
          [entry.request],
        );
      }
    });

    it('prunes expired sessions and pending requests, and keeps live ones', async () => {
      const gone = sessionRecord(users.bob, { expiresAt: NOW - 100 });
      const live = sessionRecord(users.bob);
      // In this order, so that no cap's own clean-up removes them before pruning does.
      await storage.sessions.createSession(live, CAPS, NOW);
      await storage.sessions.createSession(gone, CAPS, NOW - 200);
      const stale = pendingRecord(live.idHash, { expiresAt: NOW - 1 });
      const fresh = pendingRecord(live.idHash);
      await storage.sessions.addPending(fresh, 20, NOW);
      await storage.sessions.addPending(stale, 20, NOW - 10);
      const pruned = await pruneStorage(storage, 3600);
      assert.ok(pruned >= 2, `pruned ${pruned}`);
      assert.ok(await storage.sessions.findSession(live.idHash, NOW));
      assert.equal(await storage.sessions.findPending(live.idHash, fresh.id, NOW), fresh.request);
      assert.equal(await storage.sessions.pruneExpired(NOW), 0, 'nothing expired is left');
    });

    describe('through SessionStore', () => {
      let sessions: SessionStore;
      before(() => {
        sessions = new SessionStore({ secure: false, storage: storage.sessions });
      });

      it('signs in with a new id whatever the browser presented, and ends the presented session (fixation)', async () => {
        const first = exchange();
        const signedIn = await sessions.signIn(first.req, first.res, users.alice);
        const cookie = sessionCookie(first.res);
        const found = await sessions.find(exchange(cookie).req);
        assert.equal(found?.userId, users.alice);
        assert.equal(found?.username, 'alice');
        assert.equal(found?.csrfToken, signedIn.csrfToken, 'the CSRF token is the same wherever the session is read');
        assert.ok(sessions.verifyCsrf(found!, signedIn.csrfToken));
        assert.ok(!sessions.verifyCsrf(found!, hash()));

        const again = exchange(cookie);
        const next = await sessions.signIn(again.req, again.res, users.alice);
        const nextCookie = sessionCookie(again.res);
        assert.notEqual(nextCookie, cookie);
        assert.notEqual(next.csrfToken, signedIn.csrfToken);
        assert.equal(await sessions.find(exchange(cookie).req), undefined, 'the presented session ended');
        assert.equal((await sessions.find(exchange(nextCookie).req))?.userId, users.alice);

        const planted = `dcr_session=${hash()}`;
        const fixation = exchange(planted);
        await sessions.signIn(fixation.req, fixation.res, users.bob);
        assert.notEqual(sessionCookie(fixation.res), planted);
        assert.equal(await sessions.find(exchange(planted).req), undefined, 'a planted id is worth nothing');
      });

      it('keeps a pending request whole, and gives it to one decision only', async () => {
        const { req, res } = exchange();
        const session = await sessions.signIn(req, res, users.bob);
        const id = await sessions.addPending(session, REQUEST);
        assert.deepEqual(await sessions.findPending(session, id), REQUEST);
        const [a, b] = await Promise.all([sessions.takePending(session, id), sessions.takePending(session, id)]);
        assert.deepEqual([a, b].filter(Boolean), [REQUEST]);
        assert.equal(await sessions.findPending(session, id), undefined);
        for (const junk of [undefined, 42, '', 'x'.repeat(22), `${id}\u0000`])
          assert.equal(await sessions.takePending(session, junk), undefined);
      });

      it('stores neither the session id nor its CSRF token: a dump lets no one ride the session', async () => {
        const { req, res } = exchange();
        const session = await sessions.signIn(req, res, users.alice);
        await sessions.addPending(session, REQUEST);
        const rows = JSON.stringify(await backend.dump());
        if (backend.name !== 'memory') assert.ok(rows.includes(session.idHash), 'the dump holds the session (hashed)');
        assert.ok(!rows.includes(session.id), 'the raw session id is not stored');
        assert.ok(!rows.includes(session.csrfToken), 'the CSRF token is not stored');
      });
    });
  });
}

// Two instances: two storages on one database, taking the same requests at once.
for (const backend of (await backends(false)).filter((candidate) => candidate.name !== 'memory')) {
  describe(`two instances on one ${backend.name} database`, () => {
    let a: ServerStorage;
    let b: ServerStorage;
    before(async () => {
      a = await openStorage(backend.config);
      b = await openStorage(backend.config);
    });
    after(async () => {
      await a.close();
      await b.close();
      await backend.cleanup();
    });

    it('share sessions, and a pending request created on one is taken once across both', async () => {
      const sessionsA = new SessionStore({ secure: false, storage: a.sessions });
      const sessionsB = new SessionStore({ secure: false, storage: b.sessions });
      const userId = (await a.users.upsertUser('erin', 'scrypt$x', NOW)).id;
      const { req, res } = exchange();
      await sessionsA.signIn(req, res, userId);
      const cookie = sessionCookie(res);
      const onB = await sessionsB.find(exchange(cookie).req);
      assert.equal(onB?.username, 'erin');
      const onA = (await sessionsA.find(exchange(cookie).req))!;
      const ids = await Promise.all(Array.from({ length: 10 }, () => sessionsA.addPending(onA, REQUEST)));
      const taken = await Promise.all(
        ids.flatMap((id) => [sessionsA.takePending(onA, id), sessionsB.takePending(onB!, id)]),
      );
      for (let index = 0; index < ids.length; index++) {
        const pair = taken.slice(index * 2, index * 2 + 2).filter(Boolean);
        assert.deepEqual(pair, [REQUEST], `request ${index} decided once`);
      }
      await sessionsB.end(onB!);
      assert.equal(await sessionsA.find(exchange(cookie).req), undefined, 'ended on B is ended on A');
    });
  });
}
