import type { ClientView } from './client-view.js';

/**
 * Who the pages say a client is. Everything a client tells us about itself is self-asserted; the
 * only thing a Client ID Metadata Document proves is the website that serves it, the host of its
 * client_id URL (CIMD §6.4). So that host is shown next to the name, and a name that poses as a
 * web address other than the client's own is never shown as if it were one.
 */
export interface ClientIdentity {
  /** What the page calls the application. */
  name: string;
  /**
   * The host of a metadata-document client's client_id URL, in its ASCII (punycode) form so that
   * look-alike Unicode letters cannot pass as another site. Undefined for other clients.
   */
  website?: string;
  /**
   * The client_name, when it looks like a web address that is not the client's own (or, for a
   * client nobody vouched for, like any web address): the page quotes it with a warning instead
   * of using it as the name.
   */
  lookAlikeName?: string;
}

/** Longer names are cut: a name is a label, not a place for a message to the user. */
const MAX_NAME_LENGTH = 80;

/**
 * Characters that change how the rest of the name is displayed without being visible themselves:
 * C0/C1 controls, bidirectional overrides and isolates (a name could otherwise render as
 * "moc.elgoog" reversed into "google.com"), zero-width characters and the BOM.
 */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Dots that IDNA (UTS #46) maps to "." when a name is used as a host: ideographic full stop,
 * fullwidth full stop, halfwidth ideographic full stop.
 */
const DOT_VARIANTS = /[\u3002\uff0e\uff61]/g;

/** A host name (labels of letters, digits and hyphens in any script, ending in a letter label) or an IPv4 address. */
const ADDRESS_LIKE = /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}[\p{L}-]*|\b\d{1,3}(?:\.\d{1,3}){3}\b/gu;

export function identifyClient(client: ClientView): ClientIdentity {
  const website = client.registeredVia === 'metadata_document' ? websiteOf(client.id) : undefined;
  const name = cleanName(client.name);
  if (name === undefined) {
    // CIMD: a missing client_name is accepted, and the website stands in for it (project default).
    return { name: website ?? 'an unnamed application', ...(website ? { website } : {}) };
  }
  // Only names nobody vouched for are judged: an administrator or a trusted statement issuer
  // already stands behind a registered name.
  const selfAsserted = client.registeredVia === 'anonymous' || client.registeredVia === 'metadata_document';
  if (selfAsserted && namesOtherAddress(name, website)) {
    return { name: website ?? 'an unnamed application', lookAlikeName: name, ...(website ? { website } : {}) };
  }
  return { name, ...(website ? { website } : {}) };
}

/** The host of a client_id URL (with its port, if any), or undefined when it is no https URL. */
export function websiteOf(clientId: string): string | undefined {
  try {
    const url = new URL(clientId);
    return url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
}

function cleanName(name: string | undefined): string | undefined {
  const cleaned = name?.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  if (!cleaned) return undefined;
  const characters = [...cleaned];
  return characters.length > MAX_NAME_LENGTH ? `${characters.slice(0, MAX_NAME_LENGTH).join('')}…` : cleaned;
}

/**
 * Whether `name` contains a web address (a URL, a host name, an IP address) other than `website`.
 * Compared the way a browser would read the address: compatibility forms folded (NFKC turns
 * fullwidth "ｇｏｏｇｌｅ" into "google"), IDNA dots as dots, the host in punycode and lower case, a
 * leading "www." ignored. Without a website (a self-registered client) any address is another's.
 */
function namesOtherAddress(name: string, website: string | undefined): boolean {
  const text = name.normalize('NFKC').replace(DOT_VARIANTS, '.');
  if (/[a-z][a-z0-9+.-]*:\/\//i.test(text) && website === undefined) return true;
  const own = website === undefined ? undefined : comparableHost(hostnameOf(website));
  for (const match of text.matchAll(ADDRESS_LIKE)) {
    if (comparableHost(match[0]) !== own) return true;
  }
  return false;
}

function hostnameOf(host: string): string {
  return host.replace(/:\d+$/, '');
}

/** The host as a browser would use it (IDNA to ASCII, lower case), without a leading "www.". */
function comparableHost(host: string): string {
  let ascii: string;
  try {
    ascii = new URL(`https://${host}/`).hostname;
  } catch {
    // Not even a valid host: keep the raw text, which then matches no real website.
    ascii = host.toLowerCase();
  }
  return ascii.replace(/\.$/, '').replace(/^www\./, '');
}
