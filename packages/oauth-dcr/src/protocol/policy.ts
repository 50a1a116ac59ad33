import { resolveOptions, type RegistrationOptions, type ResolvedOptions } from '../core/options.js';
import { createFetchCache } from '../net/fetch-cache.js';
import { createClientDocuments, type ClientDocuments } from '../cimd/client-documents.js';
import { createStatementVerifier, type StatementVerifier } from './software-statement.js';
import { createClientAssertionVerifier, type ClientAssertionVerifier } from './client-assertion.js';
import { createLimits, type Limits } from '../limits/limits.js';
import { emitEvent } from './events.js';
import type { AuditEvent } from '../store/types.js';
import { createClientOperator, type ClientOperator } from './client-operator.js';
import { createClientAttestationVerifier, type ClientAttestationVerifier } from '../attestation/verifier.js';
import { withAttestedMetadataRule } from '../attestation/registration.js';

/**
 * The resolved options plus the services built from them, once, where the endpoint is created.
 * Internal: the endpoint's steps read it; hosts and adapters get the narrow view on
 * `Registration` (registrationPath, now, clientLimits) instead.
 */
export interface Policy extends ResolvedOptions {
  /** Always present: with no trusted issuer it still tells a malformed statement from an unapproved one. */
  statements: StatementVerifier;
  /** Fetches a JSON document on a client's behalf (sector_identifier_uri), through safe-fetch, cached. */
  fetchJson: (url: string) => Promise<unknown>;
  /** Resolves https client_ids by their Client ID Metadata Document; absent while the feature is off. */
  clientDocuments?: ClientDocuments;
  /** Verifies private_key_jwt client assertions (RFC 7523 §3); refuses all while the method is not enabled. */
  clientAssertions: ClientAssertionVerifier;
  /**
   * Verifies Client Attestations (draft-ietf-oauth-attestation-based-client-auth-10) at /register
   * (the `attested` tier); absent while the `clientAttestation` option is not set.
   */
  clientAttestation?: ClientAttestationVerifier;
  /** Rate limits, caps and the client address (src/limits/). */
  limits: Limits;
  /** Operator actions on clients. */
  operator: ClientOperator;
}

/** Most documents fetched on clients' behalf are shared by many clients (one sector per vendor). */
const DOCUMENT_CACHE_ENTRIES = 500;

export function createPolicy(options: RegistrationOptions): Policy {
  const resolved = resolveOptions(options);
  const documents = createFetchCache({ maxEntries: DOCUMENT_CACHE_ENTRIES });
  const { outboundFetch } = resolved;
  const fetchJson = (url: string) => documents.json(url, outboundFetch);
  // The services below read the policy itself (events, store, clock); it is complete before any
  // request arrives.
  const full = {} as Policy;
  const emit = (event: Omit<AuditEvent, 'at'>) => emitEvent(full, event);
  const limits = createLimits({ options: resolved, emit });
  const clientAttestation = options.clientAttestation
    ? createClientAttestationVerifier({
        ...options.clientAttestation,
        issuer: resolved.issuer ?? '',
        now: resolved.now,
        outboundFetch,
      })
    : undefined;
  const policy: Omit<Policy, 'operator'> = {
    ...resolved,
    statements: createStatementVerifier(resolved.softwareStatements, outboundFetch),
    fetchJson,
    clientDocuments: resolved.clientIdMetadataDocuments.enabled
      ? createClientDocuments({
          options: resolved.clientIdMetadataDocuments,
          rules: { ...resolved, fetchJson },
          tier: resolved.tiers.metadata_document,
          outboundFetch,
          now: resolved.now,
          onError: resolved.onError,
          validateMetadata: resolved.validateMetadata,
          limits,
          emit,
        })
      : undefined,
    clientAssertions: createClientAssertionVerifier({
      ...options.clientAssertions,
      enabled: resolved.tokenEndpointAuthMethods.has('private_key_jwt'),
      issuer: resolved.issuer,
      outboundFetch,
      now: resolved.now,
    }),
    limits,
    ...(clientAttestation
      ? {
          clientAttestation,
          // The attested tier's metadata rule runs before the host's own hook (attestation/registration.ts).
          validateMetadata: withAttestedMetadataRule(clientAttestation, resolved.validateMetadata),
        }
      : {}),
  };
  Object.assign(full, policy);
  full.operator = createClientOperator(full);
  return full;
}
