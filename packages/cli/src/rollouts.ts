/**
 * What the rollout commands send and print (docs/design.md §8.3): the `POST /v1/rollouts`
 * body from the command line, and a rollout as one summary line (ls) or a summary with its
 * events (get and every command). The API checks the spec; here only the shapes are parsed.
 */
import type { Json } from './api';
import { usageError } from './errors';
import { parseKey, parseSegment } from './layers';
import { compact, table } from './output';

export interface RolloutArgs {
  readonly key: string;
  readonly value: unknown;
  readonly layer: string;
  readonly waves?: string;
  readonly bake?: string;
  readonly alarm?: string;
}

/** `platform` or `segment:<attribute>=<value>`, as the API names layers. */
export function parseRolloutLayer(value: string): string {
  if (value === 'platform') return value;
  if (value.startsWith('segment:')) return `segment:${parseSegment(value.slice('segment:'.length))}`;
  throw usageError(`--layer must be platform or segment:<attribute>=<value> (e.g. segment:plan=gold), got '${value}'`);
}

/** `1,10,50,100` → [1, 10, 50, 100]; the API checks that they increase and end at 100. */
export function parseWaves(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,3}$/.test(p))) throw usageError(`--waves must be percentages separated by commas, e.g. 1,10,50,100; got '${value}'`);
  return parts.map(Number);
}

export function parseBakeSeconds(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw usageError(`--bake must be a whole number of seconds (0 or more), got '${value}'`);
  return Number(value);
}

/** The body of `POST /v1/rollouts`; waves and bake left to the API's defaults when not given. */
export function rolloutBody(a: RolloutArgs): Record<string, unknown> {
  return {
    key: parseKey(a.key),
    layer: parseRolloutLayer(a.layer),
    value: a.value,
    ...(a.waves !== undefined ? { waves: parseWaves(a.waves) } : {}),
    ...(a.bake !== undefined ? { bakeSeconds: parseBakeSeconds(a.bake) } : {}),
    ...(a.alarm !== undefined ? { alarm: a.alarm } : {}),
  };
}

/** Rollout ids are `r-<time>-<hex>`; anything else is encoded and left for the API to refuse (404). */
export const rolloutPath = (id: string): string => `/v1/rollouts/${encodeURIComponent(id)}`;

const waveOf = (r: Json): string => `wave ${Number(r.wave) + 1}/${(r.waves ?? []).length} (${r.percent}%)`;

/** `r-…  tenantconfig:limits  platform  in_progress  wave 2/4 (10%)`, for ls. */
export function rolloutRows(items: readonly Json[]): string {
  return table(items.map((r) => [String(r.id), String(r.key), String(r.layer), String(r.state), waveOf(r), r.alarm ? `alarm ${r.alarm}` : '']));
}

/** A rollout for people: what, where, where it stands, then who did what. */
export function describeRollout(r: Json): string {
  const head = [
    `${r.id}  ${r.key} in ${r.layer}: ${String(r.state).replace('_', ' ')}, ${waveOf(r)}`,
    `  waves ${(r.waves ?? []).map((w: number) => `${w}%`).join(', ')}, bake ${r.bakeSeconds}s${r.alarm ? `, rolled back when alarm ${r.alarm} is in ALARM` : ''}`,
    `  value ${compact(r.value)}${r.previous ? `, before ${compact(r.previous.value)}` : ', no value before'}`,
  ].join('\n');
  const events = table((r.events ?? []).map((e: Json) => [`  ${e.at}`, String(e.action), `by ${e.by}`, `wave ${Number(e.wave) + 1} (${e.percent}%)`]));
  return `${head}\n${events}`;
}
