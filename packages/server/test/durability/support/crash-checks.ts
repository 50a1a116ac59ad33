import { hashSecret } from 'oauth-dcr';
import type { LostAnswer, TrackedClient } from './crash-load.js';

/**
 * What a restarted server must still honour: every acknowledged registration, update and
 * renewal, and, for each operation whose answer the crash swallowed, one whole state (the old
 * one or the new one), never a mix.
 */

/** The stored client as the store on disk has it, for the one case HTTP cannot show (see below). */
export type StoredClientLookup = (
  clientId: string,
) => Promise<{ metadata: Record<string, unknown>; registrationAccessTokenHash?: string } | undefined>;

export interface LostAnswerOutcome {
  /** Lost answers whose operation had committed before the kill. */
  committed: number;
  /** Lost answers whose operation had not. */
  notCommitted: number;
  failures: string[];
}

async function json(response: Response): Promise<any> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** RFC 6749 §4.4 with client_secret_basic (§2.3.1): the status says whether `secret` authenticates. */
export async function clientCredentials(
  url: string,
  clientId: string,
  secret: string,
): Promise<{ status: number; body: any }> {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return { status: response.status, body: await json(response) };
}

/** RFC 7592 §2.1: the client's configuration, read with its registration access token. */
export async function readConfiguration(uri: string, token: string): Promise<{ status: number; body: any }> {
  const response = await fetch(uri, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await json(response) };
}

/**
 * Settles each lost answer, updating the tracked client to the state found.
 * - Renewal (never rotates the registration access token): the token must still read the
 *   acknowledged metadata. The old secret works (not committed), or it is refused (committed):
 *   then the client must still be able to renew with its token, and the secret it gets must work.
 *   A renewed secret stored with the registration token lost would fail here.
 * - Update (rotates the token): the old token reads the acknowledged metadata unchanged (not
 *   committed), or is refused (committed): then the stored record must hold the asked-for name
 *   and a token other than the old one, and the unchanged secret must still authenticate. The
 *   new token was only in the lost answer, so the store on disk is the one witness of the name.
 */
export async function settleLostAnswers(
  url: string,
  lost: LostAnswer[],
  findStored: StoredClientLookup,
): Promise<LostAnswerOutcome> {
  const outcome: LostAnswerOutcome = { committed: 0, notCommitted: 0, failures: [] };
  for (const { kind, client, name } of lost) {
    const where = `lost ${kind} of ${client.clientId}`;
    const token = client.registrationAccessToken!;
    const read = await readConfiguration(client.uri, token);
    if (kind === 'renewal') {
      if (read.status !== 200 || read.body.client_name !== client.name) {
        outcome.failures.push(`${where}: its registration token reads ${read.status} ${JSON.stringify(read.body)}`);
        continue;
      }
      const old = await clientCredentials(url, client.clientId, client.secret);
      if (old.status === 200) {
        outcome.notCommitted++;
      } else if (old.status === 401 && old.body.error === 'invalid_client') {
        outcome.committed++;
        const renewed = await fetch(`${client.uri}/secret`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await json(renewed);
        if (renewed.status !== 200 || typeof body.client_secret !== 'string') {
          outcome.failures.push(
            `${where}: committed, but renewing again answers ${renewed.status} ${JSON.stringify(body)}`,
          );
          continue;
        }
        client.retiredSecrets.push(client.secret);
        client.secret = body.client_secret;
      } else {
        outcome.failures.push(`${where}: the old secret answers ${old.status} ${JSON.stringify(old.body)}`);
        continue;
      }
    } else if (read.status === 200) {
      if (read.body.client_name !== client.name)
        outcome.failures.push(
          `${where}: the old token reads client_name ${JSON.stringify(read.body.client_name)}, acknowledged ${JSON.stringify(client.name)}`,
        );
      else outcome.notCommitted++;
    } else if (read.status === 401) {
      const stored = await findStored(client.clientId);
      if (!stored) {
        outcome.failures.push(`${where}: the client is gone`);
        continue;
      }
      if (stored.metadata.client_name !== name || stored.registrationAccessTokenHash === hashSecret(token)) {
        outcome.failures.push(
          `${where}: the old token is refused but the store holds client_name ${JSON.stringify(stored.metadata.client_name)} ` +
            `(asked ${JSON.stringify(name)}), token ${stored.registrationAccessTokenHash === undefined ? 'none' : 'kept or rotated'}`,
        );
        continue;
      }
      outcome.committed++;
      client.name = name!;
      client.registrationAccessToken = undefined;
    } else {
      outcome.failures.push(`${where}: the old token reads ${read.status} ${JSON.stringify(read.body)}`);
      continue;
    }
    client.busy = false;
  }
  return outcome;
}

/**
 * Every tracked client: its token reads its last acknowledged metadata (RFC 7592 §2.1), its
 * current secret gets a token, and no retired secret does (each checked after the restart that
 * followed its renewal, and the last one after every restart). Returns one line per failure.
 */
export async function checkEveryClient(url: string, clients: TrackedClient[], parallel = 12): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const checkOne = async (client: TrackedClient) => {
    if (client.registrationAccessToken !== undefined) {
      const read = await readConfiguration(client.uri, client.registrationAccessToken);
      if (read.status !== 200 || read.body.client_id !== client.clientId || read.body.client_name !== client.name)
        failures.push(
          `${client.clientId}: reads ${read.status} ${JSON.stringify(read.body)}, acknowledged name ${client.name}`,
        );
    }
    const current = await clientCredentials(url, client.clientId, client.secret);
    if (current.status !== 200 || typeof current.body.access_token !== 'string')
      failures.push(`${client.clientId}: its secret gets ${current.status} ${JSON.stringify(current.body)}`);
    // The last replaced secret every time; the earlier ones were refused after an earlier restart.
    const unchecked = client.retiredSecrets.slice(Math.min(client.retiredChecked, client.retiredSecrets.length - 1));
    for (const retired of unchecked) {
      const old = await clientCredentials(url, client.clientId, retired);
      if (old.status !== 401) failures.push(`${client.clientId}: a replaced secret still answers ${old.status}`);
    }
    client.retiredChecked = client.retiredSecrets.length;
  };
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < clients.length) await checkOne(clients[next++]!);
    }),
  );
  return failures;
}
