/**
 * The Lua scripts behind the cache. Each touches only keys of one log shard (one hash slot),
 * runs atomically, and is sent by SHA (EVALSHA, falling back to EVAL once per connection).
 *
 * Entry hash fields: k = kind ('v' value, 't' tombstone, 'n' negative), v = version,
 * m = store time in ms (optional), j = value JSON, a = updatedAt, b = updatedBy;
 * lk/lv/lm = kind, version and time of the newest change appended to the log for the key.
 * The log keeps its own guard because read-through fills change the entry without logging:
 * a fill must never swallow the change event that follows it.
 */
import type { RedisClient } from './redis-connection';

/**
 * Creates the log and its epoch together; a log found missing (evicted, restarted cache) gets a
 * new epoch. The epoch key holds `<epoch> <id of the marker entry that began it>`.
 */
const ENSURE_LOG = `
local function ensureLog(log, epochKey, candidate, maxlen)
  local held = redis.call('GET', epochKey)
  if held and redis.call('EXISTS', log) == 1 then
    local space = string.find(held, ' ', 1, true)
    if space then return string.sub(held, 1, space - 1), string.sub(held, space + 1) end
  end
  local start = redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', 'g', '1', 'e', candidate)
  redis.call('SET', epochKey, candidate .. ' ' .. start)
  return candidate, start
end
`;

/**
 * KEYS: entry, log, epoch.
 * ARGV: mode ('apply' | 'fill' | 'negative'), kind ('v' | 't'), version, modifiedAtMs or '',
 *       valueJson, updatedAt, updatedBy, tombstoneTtlMs, negativeTtlMs, logMaxLen, tenant, key, epochCandidate.
 * Returns { cacheChanged (0/1), log entry id or '', epoch or '' }.
 */
export const APPLY_SCRIPT = `${ENSURE_LOG}
local entry, log, epochKey = KEYS[1], KEYS[2], KEYS[3]
local mode = ARGV[1]
if mode == 'negative' then
  if redis.call('EXISTS', entry) == 1 then return {0, '', ''} end
  redis.call('HSET', entry, 'k', 'n')
  redis.call('PEXPIRE', entry, ARGV[9])
  return {1, '', ''}
end
local kind, version, m = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

-- Mirrors judgeChange() in core/versioned-cache.ts: returns 'wins', 'touch' or 'loses'.
local function judge(hk, hv, hm)
  if not hk or hk == 'n' then return 'wins' end
  hv = tonumber(hv)
  hm = tonumber(hm)
  if not hv then return 'wins' end
  if m and hm then
    if hk == 't' and kind == 't' then
      if m > hm then return 'touch' end
      return 'loses'
    end
    if hk == 'v' and kind == 't' then
      if m >= hm then return 'wins' end
      return 'loses'
    end
    if m ~= hm then
      if m > hm then return 'wins' end
      return 'loses'
    end
  end
  if version > hv then return 'wins' end
  if version == hv and kind == 't' and hk == 'v' then return 'wins' end
  return 'loses'
end

local held = redis.call('HMGET', entry, 'k', 'v', 'm', 'lk', 'lv', 'lm')
local forCache = judge(held[1], held[2], held[3])
local forLog = 'loses'
if mode == 'apply' then forLog = judge(held[4], held[5], held[6]) end

if forCache ~= 'loses' then
  redis.call('HDEL', entry, 'j', 'm')
  redis.call('HSET', entry, 'k', kind, 'v', ARGV[3], 'a', ARGV[6], 'b', ARGV[7])
  if kind == 'v' then redis.call('HSET', entry, 'j', ARGV[5]) end
  if m then redis.call('HSET', entry, 'm', ARGV[4]) end
  if kind == 't' then redis.call('PEXPIRE', entry, ARGV[8]) else redis.call('PERSIST', entry) end
end
if forLog ~= 'loses' then
  redis.call('HSET', entry, 'lk', kind, 'lv', ARGV[3])
  if m then redis.call('HSET', entry, 'lm', ARGV[4]) else redis.call('HDEL', entry, 'lm') end
end

local id, epoch = '', ''
if forLog == 'wins' then
  epoch = ensureLog(log, epochKey, ARGV[13], ARGV[10])
  local d = '0'
  if kind == 't' then d = '1' end
  if kind == 'v' then
    id = redis.call('XADD', log, 'MAXLEN', '~', ARGV[10], '*', 't', ARGV[11], 'k', ARGV[12], 'v', ARGV[3], 'd', d, 'a', ARGV[6], 'b', ARGV[7], 'e', epoch, 'j', ARGV[5])
  else
    id = redis.call('XADD', log, 'MAXLEN', '~', ARGV[10], '*', 't', ARGV[11], 'k', ARGV[12], 'v', ARGV[3], 'd', d, 'a', ARGV[6], 'b', ARGV[7], 'e', epoch)
  end
end
if forCache ~= 'loses' then return {1, id, epoch} end
return {0, id, epoch}
`;

/**
 * KEYS: log, epoch. ARGV: epochCandidate, logMaxLen, afterId ('' = read nothing), count.
 * Reads entries after `afterId` and then the log's state, in one atomic step, so the trim
 * check is about exactly the entries returned.
 * Returns { epoch, lastGeneratedId, firstId or '', removedByTrimming, entries, id of the epoch's first (marker) entry }.
 */
export const LOG_READ_SCRIPT = `${ENSURE_LOG}
local log, epochKey = KEYS[1], KEYS[2]
local epoch, start = ensureLog(log, epochKey, ARGV[1], ARGV[2])
local entries = {}
if ARGV[3] ~= '' then
  -- A forged id past the end makes XRANGE fail; the caller reports such a cursor as trimmed.
  local r = redis.pcall('XRANGE', log, '(' .. ARGV[3], '+', 'COUNT', ARGV[4])
  if type(r) == 'table' and not r.err then entries = r end
end
local info = redis.call('XINFO', 'STREAM', log)
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
local first = ''
if type(f['first-entry']) == 'table' then first = f['first-entry'][1] end
return {epoch, f['last-generated-id'], first, f['entries-added'] - f['length'], entries, start}
`;

/** Raw stream entry as ioredis returns it: [id, [field, value, ...]]. */
export type RawStreamEntry = [string, string[]];

export interface CacheScripts {
  tcApply(entryKey: string, logKey: string, epochKey: string, ...args: string[]): Promise<[number, string, string]>;
  tcLogRead(logKey: string, epochKey: string, ...args: string[]): Promise<[string, string, string, number, RawStreamEntry[], string]>;
}

const defined = new WeakSet<RedisClient>();

/** Registers the scripts on a client once; returns the client typed with them. */
export function cacheScripts(client: RedisClient): CacheScripts {
  if (!defined.has(client)) {
    client.defineCommand('tcApply', { numberOfKeys: 3, lua: APPLY_SCRIPT });
    client.defineCommand('tcLogRead', { numberOfKeys: 2, lua: LOG_READ_SCRIPT });
    defined.add(client);
  }
  return client as unknown as CacheScripts;
}

/** Stream entry fields as an object. */
export function fieldsOf(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[raw[i]] = raw[i + 1];
  return out;
}
