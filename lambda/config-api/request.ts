/**
 * Reading the parts of an HTTP API (payload v2) request: the body of a PUT, query
 * parameters and headers. Everything here turns bad input into a typed 4xx error
 * before any backend is called.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidRequestError, InvalidValueError } from '../../core/errors';
import { ATTRIBUTE_PATTERN } from '../../core/flags/flag-model';
import type { JsonValue } from '../../core/item';
import { EdgeProblem } from '../shared/problem';

/** Requests bigger than this are refused unread (413): every tag's values are far smaller. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;
/**
 * Deepest nesting a value may have. JSON.stringify and schema validation recurse, so a
 * 64 KiB body of brackets would overflow the stack (a 500 for bad input) without it.
 */
export const MAX_VALUE_DEPTH = 32;

const tooLarge = (limit: number) => new EdgeProblem('request-too-large', `request body exceeds the limit of ${limit} bytes`);

type HeaderMap = APIGatewayProxyEventV2['headers'];

/** HTTP API lower-cases header names; the local front does too. Lookup stays case-insensitive for safety. */
export function header(headers: HeaderMap | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function bodyBytes(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, limit: number): Buffer {
  const body = event.body ?? '';
  if (event.isBase64Encoded) {
    const compact = body.replace(/\s+/g, '');
    // Refuse by the encoded length first, so an oversized body is never decoded.
    if (Math.floor((compact.length * 3) / 4) - 2 > limit) throw tooLarge(limit);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
      throw new InvalidRequestError('request body is marked base64-encoded but is not valid base64');
    }
    const bytes = Buffer.from(compact, 'base64');
    if (bytes.length > limit) throw tooLarge(limit);
    return bytes;
  }
  const size = Buffer.byteLength(body, 'utf8');
  if (size > limit) throw tooLarge(limit);
  return Buffer.from(body, 'utf8');
}

/** Deepest `[`/`{` nesting of a JSON text, counted outside strings, without recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) max = Math.max(max, ++depth);
    else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return max;
}

/** Names from the caller, shortened and made printable before they go into an error detail. */
function printableName(s: string): string {
  const cut = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return cut.replace(/[^\x20-\x7e]/g, '?');
}

const BODY_SHAPE = 'expected a JSON object {"value": <any JSON>, "comment"?: <string>}';

/**
 * A request body that must be one JSON object with only the `allowed` members (`shape` says
 * what is expected, in every error). Nothing of the body's content is echoed in errors (it may
 * be a secret), except the names of unexpected members.
 */
export function readJsonObject(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>,
  options: { readonly limit?: number; readonly shape: string; readonly allowed: readonly string[] },
): Record<string, unknown> {
  const { shape } = options;
  const bytes = bodyBytes(event, options.limit ?? MAX_REQUEST_BODY_BYTES);
  if (bytes.length === 0) throw new InvalidRequestError(`request body is empty: ${shape}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidRequestError('request body is not valid UTF-8');
  }
  // The body object itself is one level; the value gets the rest.
  if (jsonDepth(text) > MAX_VALUE_DEPTH + 1) {
    throw new InvalidValueError(`value nests deeper than ${MAX_VALUE_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidRequestError(`request body is not valid JSON: ${shape}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidRequestError(`request body is not a JSON object: ${shape}`);
  }
  const extra = Object.keys(parsed).filter((m) => !options.allowed.includes(m));
  if (extra.length > 0) {
    throw new InvalidRequestError(
      `request body has unexpected member${extra.length > 1 ? 's' : ''} ${extra
        .slice(0, 5)
        .map((m) => `'${printableName(m)}'`)
        .join(', ')}: ${shape}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** A write's `comment`: absent, or a string (its length and characters are checked by the use case). */
function commentOf(body: Record<string, unknown>, shape: string): string | undefined {
  if (!Object.hasOwn(body, 'comment')) return undefined;
  const comment = body.comment;
  if (typeof comment !== 'string') throw new InvalidRequestError(`'comment' must be a string: ${shape}`);
  return comment;
}

/** A PUT body `{"value": <json>, "comment"?: <string>}`. */
export function readPutBody(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>,
  limit = MAX_REQUEST_BODY_BYTES,
): { value: JsonValue; comment?: string } {
  const body = readJsonObject(event, { limit, shape: BODY_SHAPE, allowed: ['value', 'comment'] });
  if (!Object.hasOwn(body, 'value')) throw new InvalidRequestError(`request body has no 'value' member: ${BODY_SHAPE}`);
  const comment = commentOf(body, BODY_SHAPE);
  return { value: body.value as JsonValue, ...(comment !== undefined ? { comment } : {}) };
}

/** The value of a PUT body (without its comment). */
export function readPutValue(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, limit = MAX_REQUEST_BODY_BYTES): JsonValue {
  return readPutBody(event, limit).value;
}

const RESTORE_SHAPE = 'expected a JSON object {"version": <positive integer>, "comment"?: <string>}';

/** A restore body `{"version": N, "comment"?: <string>}`. */
export function readRestoreBody(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>,
  limit = MAX_REQUEST_BODY_BYTES,
): { version: number; comment?: string } {
  const body = readJsonObject(event, { limit, shape: RESTORE_SHAPE, allowed: ['version', 'comment'] });
  const version = body.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new InvalidRequestError(`'version' must be a positive integer: ${RESTORE_SHAPE}`);
  }
  const comment = commentOf(body, RESTORE_SHAPE);
  return { version, ...(comment !== undefined ? { comment } : {}) };
}

/**
 * The body of `PUT /v1/tenants/{tenantId}`: `{"attributes": {...}}`, the attributes checked by
 * the registry's use case against the schema (an unknown attribute is a 400 there).
 */
export function readTenantBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, limit = MAX_REQUEST_BODY_BYTES): Record<string, unknown> {
  return readJsonObject(event, { limit, shape: 'expected a JSON object {"attributes": {...}}', allowed: ['attributes'] });
}

/** `POST /v1/rollouts`: the members are checked by the use case (core/rollout.ts parseRolloutSpec). */
export function readRolloutBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, limit = MAX_REQUEST_BODY_BYTES): Record<string, unknown> {
  return readJsonObject(event, {
    limit,
    shape: 'expected {"key", "layer", "value", "waves"?, "bakeSeconds"?, "alarm"?}',
    allowed: ['key', 'layer', 'value', 'waves', 'bakeSeconds', 'alarm'],
  });
}

/**
 * Query parameters of a route. Unknown names are refused, so a typo (`prefx=`) is a 400
 * rather than a silently different listing. HTTP API joins repeated names with commas,
 * which no valid prefix, limit or token contains, so a repeat fails validation too.
 */
export function readQuery<N extends string>(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>, allowed: readonly N[]): Partial<Record<N, string>> {
  const params = event.queryStringParameters ?? {};
  const result: Partial<Record<N, string>> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!(allowed as readonly string[]).includes(name)) {
      const accepted = allowed.length > 0 ? `this route accepts ${allowed.join(', ')}` : 'this route takes no query parameters';
      throw new InvalidRequestError(`unknown query parameter '${printableName(name)}': ${accepted}`);
    }
    if (value !== undefined) result[name as N] = value;
  }
  return result;
}

/** `limit` as given, or undefined; the use case checks the range and says it. */
export function parseLimit(raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(raw)) throw new InvalidRequestError(`limit must be an integer from 1 to ${max}`);
  return Number(raw);
}

/** At most this many query parameters on a flag evaluation; each name and value at most this long. */
export const MAX_FLAG_CONTEXT_PARAMETERS = 32;
export const MAX_FLAG_CONTEXT_VALUE_LENGTH = 256;

/**
 * The evaluation context of `GET /v1/flags/{name}/evaluate`: `targetingKey` and any other query
 * parameter, each a string attribute. `tenant.*` is refused: a tenant's attributes come from the
 * registry, and a caller must not be able to claim another plan by writing `?tenant.plan=gold`.
 */
export function readFlagContext(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>): Record<string, string> {
  const params = Object.entries(event.queryStringParameters ?? {});
  if (params.length > MAX_FLAG_CONTEXT_PARAMETERS) {
    throw new InvalidRequestError(`a flag evaluation takes at most ${MAX_FLAG_CONTEXT_PARAMETERS} context attributes, got ${params.length}`);
  }
  const context: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of params) {
    if (!ATTRIBUTE_PATTERN.test(name)) {
      throw new InvalidRequestError(
        `query parameter '${printableName(name)}' is not an attribute name: dot-separated words of A-Z a-z 0-9 _ -, at most 64 characters`,
      );
    }
    if (name === 'tenant' || name.startsWith('tenant.')) {
      throw new InvalidRequestError(`'${printableName(name)}' cannot be given: a tenant's attributes come from the tenant registry`);
    }
    if (value === undefined) continue;
    if (value.length > MAX_FLAG_CONTEXT_VALUE_LENGTH)
      throw new InvalidRequestError(`context attribute '${name}' is longer than ${MAX_FLAG_CONTEXT_VALUE_LENGTH} characters`);
    context[name] = value;
  }
  return { ...context };
}
