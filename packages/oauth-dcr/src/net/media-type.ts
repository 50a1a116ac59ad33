/**
 * Media types as safe-fetch uses them: the list a caller accepts, the Accept header sent from it,
 * and whether a response's Content-Type is one of them.
 */

/** RFC 9110 §8.3.1 `type "/" subtype`, both tokens. */
const MEDIA_TYPE = /^[!#$%&'+.^_`|~\w-]+\/[!#$%&'+.^_`|~\w-]+$/;
/** A structured-syntax suffix pattern (RFC 6838 §4.2.8): `application/*+json`. */
const SUFFIX_PATTERN = /^([!#$%&'.^_`|~\w-]+)\/\*(\+[!#$%&'.^_`|~\w-]+)$/;

/**
 * The accepted media types, lower-cased. Each is a media type or a suffix pattern, and at least
 * one is a plain media type, so that the Accept header is never empty. A bad list is a TypeError.
 */
export function parseAcceptList(list: readonly string[]): string[] {
  const accept = list.map((type) => type.trim().toLowerCase());
  if (
    !accept.some((type) => MEDIA_TYPE.test(type)) ||
    accept.some((type) => !MEDIA_TYPE.test(type) && !SUFFIX_PATTERN.test(type))
  ) {
    throw new TypeError(
      'safeFetch: accept must list media types such as "application/json" (and optionally patterns such as "application/*+json")',
    );
  }
  return accept;
}

/** The Accept header: the listed types without the suffix patterns, which are no valid media range. */
export function acceptHeader(accept: readonly string[]): string {
  return accept.filter((type) => MEDIA_TYPE.test(type)).join(', ');
}

/** Whether a media type (from {@link mediaType}) is listed or matches a listed suffix pattern. */
export function isAccepted(contentType: string, accept: readonly string[]): boolean {
  return accept.some((type) => {
    if (type === contentType) return true;
    const pattern = SUFFIX_PATTERN.exec(type);
    if (!pattern) return false;
    const [, topLevel = '', suffix = ''] = pattern;
    const slash = contentType.indexOf('/');
    const subtype = contentType.slice(slash + 1);
    // `application/+json` has no subtype name before the suffix: it does not match.
    return contentType.slice(0, slash) === topLevel && subtype.endsWith(suffix) && subtype.length > suffix.length;
  });
}

/** The media type of a Content-Type header: `Application/JSON; charset=utf-8` -> `application/json`. */
export function mediaType(header: string | undefined): string | undefined {
  const essence = header?.split(';', 1)[0]?.trim().toLowerCase();
  return essence === '' ? undefined : essence;
}
