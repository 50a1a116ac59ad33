import { isIP, type BlockList } from 'node:net';
import type { RegistrationAddressLists } from '../core/limit-options.js';
import { parseAllowList } from '../net/address-policy.js';

/**
 * Which addresses may register without a token (open registration, the anonymous tier), as the
 * seed's "Network Security" advice asks: the deny list first, then, when there is one, the allow
 * list. Tokens, signed-in principals and statements are not held to the lists: they already say
 * who is asking. Undefined when neither list is set.
 */
export function createOpenRegistrationGate(
  lists: RegistrationAddressLists,
): ((address: string | undefined) => boolean) | undefined {
  const deny = lists.deny?.length ? parseList('deny', lists.deny) : undefined;
  const allow = lists.allow?.length ? parseList('allow', lists.allow) : undefined;
  if (deny === undefined && allow === undefined) return undefined;
  return (address) => {
    // With lists set, an address we cannot tell (a Web Request without one) may not register openly.
    const family = address === undefined ? 0 : isIP(address);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (deny?.check(address as string, type)) return false;
    return allow === undefined || allow.check(address as string, type);
  };
}

function parseList(name: string, entries: string[]): BlockList {
  try {
    return parseAllowList(entries);
  } catch (error) {
    throw new TypeError(
      `oauth-dcr: registrationAddresses.${name}: ${(error as Error).message.replace(/^allowAddresses: /, '')}`,
    );
  }
}
