// The test attesters and JWT builders live with the library's attestation tests.
export * from '../../../oauth-dcr/test/support/attestation-jwts.js';
