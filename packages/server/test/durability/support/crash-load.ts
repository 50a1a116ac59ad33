/**
 * Registrations, RFC 7592 updates and secret renewals kept in flight against a server that is
 * about to be killed, and what every acknowledged answer promised, to be checked once it is back.
 *
 * The clients use client_credentials (RFC 6749 §4.4) with client_secret_basic: one /token call
 * proves that a secret authenticates, with no user in the loop. One operation at a time per
 * client, so each client's state after a crash is its last acknowledged one, or that plus the
 * one operation whose answer the crash swallowed.
 */

export interface TrackedClient {
  clientId: string;
  /** RFC 7592 §3: the client configuration endpoint. */
  uri: string;
  /**
   * The current registration access token. Undefined once an update whose answer was lost did
   * commit: the server rotated the token (RFC 7592 §2.2 allows it) and only that answer held the new one.
   */
  registrationAccessToken: string | undefined;
  secret: string;
  /** Secrets a renewal replaced: none may authenticate any more (no renewal overlap is configured). */
  retiredSecrets: string[];
  /** How many of retiredSecrets a check after a restart has already seen refused. */
  retiredChecked: number;
  /** client_name as last acknowledged (or, for a lost update, as found committed). */
  name: string;
  busy: boolean;
}

/** An operation sent before the kill whose answer never came. */
export interface LostAnswer {
  kind: 'update' | 'renewal';
  client: TrackedClient;
  /** The client_name the update asked for. */
  name?: string;
}

export interface LoadTally {
  registrations: number;
  updates: number;
  renewals: number;
  /** Registrations whose answer never came (the client may or may not exist; nobody knows its id). */
  lostRegistrations: number;
  lost: LostAnswer[];
  /** Answers that were neither a success nor a lost connection: each is a defect. */
  unexpected: string[];
}

const JSON_HEADERS = { 'content-type': 'application/json' };

let sequence = 0;

/** A fresh client_name, unique across the run. */
const nextName = (prefix: string) => `${prefix}-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;

/** Reads a whole answer; undefined when the connection died before it was complete. */
async function answer(request: Promise<Response>): Promise<{ status: number; body: any } | undefined> {
  try {
    const response = await request;
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the report.
    }
    return { status: response.status, body };
  } catch {
    return undefined;
  }
}

async function register(url: string, clients: TrackedClient[], tally: LoadTally): Promise<void> {
  const name = nextName('crash');
  const result = await answer(
    fetch(`${url}/register`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        client_name: name,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    }),
  );
  if (!result) {
    tally.lostRegistrations++;
    return;
  }
  if (result.status !== 201) {
    tally.unexpected.push(`register: ${result.status} ${JSON.stringify(result.body)}`);
    return;
  }
  tally.registrations++;
  clients.push({
    clientId: result.body.client_id,
    uri: result.body.registration_client_uri,
    registrationAccessToken: result.body.registration_access_token,
    secret: result.body.client_secret,
    retiredSecrets: [],
    retiredChecked: 0,
    name,
    busy: false,
  });
}

/** RFC 7592 §2.2: the whole metadata again, with a new client_name. */
async function update(client: TrackedClient, tally: LoadTally): Promise<void> {
  const name = nextName('updated');
  const result = await answer(
    fetch(client.uri, {
      method: 'PUT',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${client.registrationAccessToken}` },
      body: JSON.stringify({
        client_id: client.clientId,
        client_name: name,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    }),
  );
  if (!result) {
    tally.lost.push({ kind: 'update', client, name });
    return;
  }
  if (result.status !== 200) {
    tally.unexpected.push(`update ${client.clientId}: ${result.status} ${JSON.stringify(result.body)}`);
    client.busy = false;
    return;
  }
  tally.updates++;
  client.name = name;
  if (typeof result.body.registration_access_token === 'string')
    client.registrationAccessToken = result.body.registration_access_token;
  client.busy = false;
}

/** The server's renewal extension: POST {registration_client_uri}/secret. */
async function renew(client: TrackedClient, tally: LoadTally): Promise<void> {
  const result = await answer(
    fetch(`${client.uri}/secret`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.registrationAccessToken}` },
    }),
  );
  if (!result) {
    tally.lost.push({ kind: 'renewal', client });
    return;
  }
  if (result.status !== 200 || typeof result.body.client_secret !== 'string') {
    tally.unexpected.push(`renewal ${client.clientId}: ${result.status} ${JSON.stringify(result.body)}`);
    client.busy = false;
    return;
  }
  tally.renewals++;
  client.retiredSecrets.push(client.secret);
  client.secret = result.body.client_secret;
  client.busy = false;
}

/** The kinds of request the load sends. */
type RequestKind = 'registration' | 'update' | 'renewal';

/**
 * `concurrency` workers, each sending one request after another until `stop()` is called:
 * half of them registrations (up to `maxClients`), the rest updates and renewals of idle
 * acknowledged clients.
 * A client whose answer was lost stays busy: it is checked after the restart, not touched again.
 */
export function startLoad(
  url: string,
  clients: TrackedClient[],
  concurrency: number,
  maxClients: number,
): {
  stop(): void;
  done: Promise<LoadTally>;
  /** Resolves once at least one request of each kind is on the wire (or after `timeoutMs`). */
  whenInFlight(kinds: RequestKind[], timeoutMs: number): Promise<void>;
} {
  const tally: LoadTally = {
    registrations: 0,
    updates: 0,
    renewals: 0,
    lostRegistrations: 0,
    lost: [],
    unexpected: [],
  };
  const inFlight: Record<RequestKind, number> = { registration: 0, update: 0, renewal: 0 };
  const sent = async (kind: RequestKind, request: Promise<void>) => {
    inFlight[kind]++;
    try {
      await request;
    } finally {
      inFlight[kind]--;
    }
  };
  let stopped = false;
  const idleClient = () => {
    const idle = clients.filter((client) => !client.busy && client.registrationAccessToken !== undefined);
    return idle[Math.floor(Math.random() * idle.length)];
  };
  const worker = async () => {
    while (!stopped) {
      const roll = Math.random();
      // Past maxClients (answered or not), only updates and renewals: the checks after each restart stay short.
      const full = clients.length + tally.lostRegistrations + inFlight.registration >= maxClients;
      const client = roll < 0.5 || full ? idleClient() : undefined;
      if (!client && full) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      if (!client) {
        await sent('registration', register(url, clients, tally));
        continue;
      }
      client.busy = true;
      await (roll < 0.25 ? sent('update', update(client, tally)) : sent('renewal', renew(client, tally)));
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => tally);
  return {
    stop: () => {
      stopped = true;
    },
    done,
    async whenInFlight(kinds, timeoutMs) {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
        if (kinds.every((kind) => inFlight[kind] > 0)) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
