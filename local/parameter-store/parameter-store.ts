import { DEFAULT_SECURE_STRING_KEY_ID, localCiphertext } from './local-kms';
import { checkParameterName, checkPath, parseReference, storageKey } from './parameter-name';
import { constraintError, parameterNotFound, SsmError, validationError } from './ssm-error';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export const PARAMETER_TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
type StoredTier = 'Standard' | 'Advanced';

/** Parameter Store keeps the newest 100 versions of a parameter. */
export const VERSION_LIMIT = 100;
export const BY_PATH_MAX_RESULTS = 10;
export const HISTORY_MAX_RESULTS = 50;
export const DESCRIBE_MAX_RESULTS = 50;
const DESCRIBE_DEFAULT_RESULTS = 10;
const VALUE_LIMIT: Record<StoredTier, number> = { Standard: 4096, Advanced: 8192 };
const DATA_TYPES = ['text', 'aws:ec2:image', 'aws:ssm:integration'];

export interface StoredVersion {
  readonly version: number;
  readonly value: string;
  readonly type: ParameterType;
  readonly description?: string;
  readonly keyId?: string;
  readonly allowedPattern?: string;
  readonly dataType: string;
  readonly tier: StoredTier;
  readonly lastModifiedMs: number;
  readonly lastModifiedUser: string;
}

export interface StoredParameter {
  /** The name as it was created (see {@link storageKey} for its identity). */
  readonly name: string;
  /** Creation order: listings run in it, as Parameter Store's (and moto's) do; re-creation moves to the end. */
  readonly seq: number;
  readonly tags: ReadonlyArray<{ Key: string; Value: string }>;
  /** Oldest first, at most {@link VERSION_LIMIT}. */
  readonly versions: StoredVersion[];
}

export interface StoreSnapshot {
  readonly format: 'local-parameter-store/1';
  readonly nextSeq: number;
  readonly parameters: readonly StoredParameter[];
  /** The last journal record this snapshot includes (absent in files written before the journal: 0). */
  readonly lsn?: number;
}

/**
 * One change of the state, as the journal keeps it: enough to redo the change on the state
 * before it, and small (one version, never the whole parameter or store).
 */
export type StoreRecord =
  | {
      readonly op: 'put';
      readonly name: string;
      /** The creation number, when this put created the parameter. */
      readonly seq?: number;
      readonly tags?: ReadonlyArray<{ Key: string; Value: string }>;
      readonly version: StoredVersion;
    }
  | { readonly op: 'delete'; readonly name: string };

/** One successful write, as EventBridge's "Parameter Store Change" event reports it (plus the version). */
export interface ParameterChange {
  readonly name: string;
  readonly operation: 'Create' | 'Update' | 'Delete';
  /** The version written; for a delete, the last version there was. */
  readonly version?: number;
  readonly type: ParameterType;
  readonly description?: string;
  readonly time: Date;
}

/** Who calls and where: ARNs carry the region, `LastModifiedUser` the caller. */
export interface CallContext {
  readonly region: string;
  readonly user: string;
}

export interface Mutation<T> {
  readonly output: T;
  readonly changes: readonly ParameterChange[];
  /** What the journal must keep for this mutation to survive a restart. */
  readonly records: readonly StoreRecord[];
}

export interface PutParameterInput {
  readonly Name?: string;
  readonly Value?: string;
  readonly Type?: string;
  readonly Description?: string;
  readonly KeyId?: string;
  readonly Overwrite?: boolean;
  readonly AllowedPattern?: string;
  readonly Tags?: ReadonlyArray<{ Key: string; Value: string }>;
  readonly Tier?: string;
  readonly DataType?: string;
}

export interface ParameterFilter {
  readonly Key: string;
  readonly Option?: string;
  readonly Values?: readonly string[];
}

/** Wire shapes (dates as epoch seconds, as the JSON protocol sends them). */
type Wire = Record<string, unknown>;

const epochSeconds = (ms: number) => ms / 1000;
const latest = (p: StoredParameter) => p.versions[p.versions.length - 1];

/**
 * The state and rules of a Parameter Store: versions, history, listings and their
 * errors, free of HTTP. Every method runs synchronously, so each call is atomic.
 */
export class ParameterStore {
  private readonly parameters = new Map<string, StoredParameter>();
  private nextSeq = 1;

  constructor(
    private readonly accountId: string,
    snapshot?: StoreSnapshot,
  ) {
    if (snapshot) {
      if (snapshot.format !== 'local-parameter-store/1' || !Array.isArray(snapshot.parameters)) {
        throw new Error('not a local Parameter Store data file (format local-parameter-store/1 expected)');
      }
      for (const p of [...snapshot.parameters].sort((a, b) => a.seq - b.seq)) {
        this.parameters.set(storageKey(p.name), { ...p, versions: [...p.versions] });
      }
      this.nextSeq = Math.max(snapshot.nextSeq, ...snapshot.parameters.map((p) => p.seq + 1), 1);
    }
  }

  snapshot(lsn?: number): StoreSnapshot {
    return { format: 'local-parameter-store/1', nextSeq: this.nextSeq, parameters: [...this.parameters.values()], ...(lsn ? { lsn } : {}) };
  }

  /** Redoes a journal record; every mutation below changes the state only through here. */
  apply(record: StoreRecord): void {
    const key = storageKey(record.name);
    if (record.op === 'delete') {
      this.parameters.delete(key);
      return;
    }
    const existing = this.parameters.get(key);
    if (existing) {
      existing.versions.push(record.version);
      // The oldest version goes when a 101st is written (AWS refuses only when the oldest has a label; no labels here).
      if (existing.versions.length > VERSION_LIMIT) existing.versions.shift();
      return;
    }
    const seq = record.seq ?? this.nextSeq;
    this.parameters.set(key, { name: record.name, seq, tags: record.tags ?? [], versions: [record.version] });
    this.nextSeq = Math.max(this.nextSeq, seq + 1);
  }

  put(input: PutParameterInput, ctx: CallContext): Mutation<Wire> {
    if (input.Name === undefined) throw constraintError('name', null, 'Member must not be null');
    if (input.Value === undefined) throw constraintError('value', null, 'Member must not be null');
    const name = checkParameterName(input.Name);
    if (input.Value.length === 0) {
      throw validationError(
        "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.",
      );
    }
    if (input.Overwrite && input.Tags && input.Tags.length > 0) {
      throw validationError(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. " +
          'To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.',
      );
    }
    if (input.Description !== undefined && input.Description.length > 1024) {
      throw constraintError('description', input.Description, 'Member must have length less than or equal to 1024');
    }
    const key = storageKey(name);
    const existing = this.parameters.get(key);
    const previous = existing ? latest(existing) : undefined;
    if (input.Type === undefined && !previous) throw validationError('A parameter type is required when you create a parameter.');
    if (input.Type !== undefined && !PARAMETER_TYPES.includes(input.Type as ParameterType)) {
      throw validationError(
        `1 validation error detected: Value '${input.Type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    const dataType = input.DataType ?? previous?.dataType ?? 'text';
    if (!DATA_TYPES.includes(dataType)) {
      throw validationError(`The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
    }
    if (previous && !input.Overwrite) {
      throw new SsmError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    const tier = resolveTier(input.Tier, previous?.tier, input.Value.length);
    if (input.Value.length > VALUE_LIMIT[tier]) {
      throw validationError(
        tier === 'Standard'
          ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.'
          : 'Advanced tier parameters support a maximum parameter value of 8192 characters.',
      );
    }
    const type = (input.Type ?? previous!.type) as ParameterType;
    const allowedPattern = input.AllowedPattern ?? previous?.allowedPattern;
    if (allowedPattern !== undefined && !matchesAllowedPattern(input.Value, allowedPattern)) {
      throw new SsmError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`);
    }
    const version: StoredVersion = {
      version: previous ? previous.version + 1 : 1,
      value: input.Value,
      type,
      // As on AWS, an overwrite that leaves a field out keeps the previous version's.
      description: input.Description ?? previous?.description,
      keyId: type === 'SecureString' ? (input.KeyId ?? previous?.keyId ?? DEFAULT_SECURE_STRING_KEY_ID) : undefined,
      allowedPattern,
      dataType,
      tier,
      lastModifiedMs: Date.now(),
      lastModifiedUser: ctx.user,
    };
    const record: StoreRecord = existing ? { op: 'put', name, version } : { op: 'put', name, seq: this.nextSeq, tags: input.Tags ?? [], version };
    this.apply(record);
    return {
      output: { Version: version.version, Tier: version.tier },
      records: [record],
      changes: [
        {
          name,
          operation: previous ? 'Update' : 'Create',
          version: version.version,
          type,
          description: version.description,
          time: new Date(version.lastModifiedMs),
        },
      ],
    };
  }

  get(rawName: string | undefined, withDecryption: boolean, ctx: CallContext): Wire {
    if (rawName === undefined) throw constraintError('name', null, 'Member must not be null');
    const found = this.resolve(rawName);
    if (!found) throw parameterNotFound(rawName);
    return this.parameterWire(found.parameter, found.version, withDecryption, ctx, found.selector);
  }

  getMany(names: readonly string[] | undefined, withDecryption: boolean, ctx: CallContext): Wire {
    if (!names) throw constraintError('names', null, 'Member must not be null');
    if (names.length === 0 || names.length > 10) {
      throw validationError(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length === 0 ? 'greater than or equal to 1' : 'less than or equal to 10'}.`,
      );
    }
    const parameters: Wire[] = [];
    const invalid: string[] = [];
    for (const raw of new Set(names)) {
      let found: ReturnType<ParameterStore['resolve']>;
      try {
        found = this.resolve(raw);
      } catch (e) {
        // A missing version is an invalid name here, not an error of the whole call.
        if (!(e instanceof SsmError && e.type === 'ParameterVersionNotFound')) throw e;
      }
      if (found) parameters.push(this.parameterWire(found.parameter, found.version, withDecryption, ctx, found.selector));
      else invalid.push(raw);
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  getByPath(
    input: {
      Path?: string;
      Recursive?: boolean;
      WithDecryption?: boolean;
      ParameterFilters?: readonly ParameterFilter[];
      MaxResults?: number;
      NextToken?: string;
    },
    ctx: CallContext,
  ): Wire {
    if (input.Path === undefined) throw constraintError('path', null, 'Member must not be null');
    const maxResults = input.MaxResults ?? BY_PATH_MAX_RESULTS;
    if (maxResults < 1 || maxResults > BY_PATH_MAX_RESULTS) {
      throw validationError(
        `1 validation error detected: Value ${maxResults} at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 1 ? 'greater than or equal to 1' : `less than or equal to ${BY_PATH_MAX_RESULTS}`}`,
      );
    }
    const path = checkPath(input.Path);
    const filters = checkFilters(input.ParameterFilters ?? [], 'by-path');
    const base = path.replace(/\/+$/, '') + '/';
    const candidates = [...this.parameters.values()].filter((p) => {
      const full = p.name.startsWith('/') ? p.name : `/${p.name}`;
      if (!full.startsWith(base)) return false;
      return input.Recursive === true || !full.slice(base.length).includes('/');
    });
    const { page, nextToken } = pageBySeq(
      candidates.filter((p) => matchesFilters(p, filters)),
      input.NextToken,
      maxResults,
    );
    return {
      Parameters: page.map((p) => this.parameterWire(p, latest(p), input.WithDecryption === true, ctx)),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  delete(rawName: string | undefined): Mutation<Wire> {
    if (rawName === undefined) throw constraintError('name', null, 'Member must not be null');
    const key = storageKey(rawName);
    const existing = this.parameters.get(key);
    if (!existing) throw parameterNotFound(rawName);
    const record: StoreRecord = { op: 'delete', name: existing.name };
    this.apply(record);
    return { output: {}, changes: [deletion(existing)], records: [record] };
  }

  deleteMany(names: readonly string[] | undefined): Mutation<Wire> {
    if (!names) throw constraintError('names', null, 'Member must not be null');
    if (names.length === 0 || names.length > 10) {
      throw validationError(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length === 0 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
      );
    }
    const deleted: string[] = [];
    const invalid: string[] = [];
    const changes: ParameterChange[] = [];
    const records: StoreRecord[] = [];
    for (const raw of names) {
      const existing = this.parameters.get(storageKey(raw));
      if (!existing) {
        invalid.push(raw);
        continue;
      }
      const record: StoreRecord = { op: 'delete', name: existing.name };
      this.apply(record);
      records.push(record);
      deleted.push(raw);
      changes.push(deletion(existing));
    }
    return { output: { DeletedParameters: deleted, InvalidParameters: invalid }, changes, records };
  }

  history(input: { Name?: string; WithDecryption?: boolean; MaxResults?: number; NextToken?: string }): Wire {
    if (input.Name === undefined) throw constraintError('name', null, 'Member must not be null');
    const maxResults = input.MaxResults ?? HISTORY_MAX_RESULTS;
    if (maxResults < 1 || maxResults > HISTORY_MAX_RESULTS) {
      throw validationError(
        `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 1 ? 'greater than or equal to 1' : `less than or equal to ${HISTORY_MAX_RESULTS}`}.`,
      );
    }
    const parameter = this.parameters.get(storageKey(input.Name));
    if (!parameter) throw parameterNotFound(input.Name);
    // Oldest first, as AWS returns it; the token is the last version returned, so trimming the oldest cannot shift a page.
    const after = input.NextToken === undefined ? 0 : decodeToken(input.NextToken, 'v');
    const rest = parameter.versions.filter((v) => v.version > after);
    const page = rest.slice(0, maxResults);
    return {
      Parameters: page.map((v) => ({
        ...this.metadataWire(parameter, v),
        Value: shownValue(v, input.WithDecryption === true),
        Labels: [],
      })),
      ...(rest.length > maxResults ? { NextToken: encodeToken('v', page[page.length - 1].version) } : {}),
    };
  }

  describe(
    input: { Filters?: readonly ParameterFilter[]; ParameterFilters?: readonly ParameterFilter[]; MaxResults?: number; NextToken?: string },
    ctx: CallContext,
  ): Wire {
    if (input.Filters && input.ParameterFilters) {
      throw validationError('You can use either Filters or ParameterFilters in a single request.');
    }
    const maxResults = input.MaxResults ?? DESCRIBE_DEFAULT_RESULTS;
    if (maxResults < 1 || maxResults > DESCRIBE_MAX_RESULTS) {
      throw validationError(
        `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 1 ? 'greater than or equal to 1' : `less than or equal to ${DESCRIBE_MAX_RESULTS}`}`,
      );
    }
    const filters = input.Filters ? checkLegacyFilters(input.Filters) : checkFilters(input.ParameterFilters ?? [], 'describe');
    const matching = [...this.parameters.values()].filter((p) => matchesFilters(p, filters));
    const { page, nextToken } = pageBySeq(matching, input.NextToken, maxResults);
    return {
      Parameters: page.map((p) => ({ ...this.metadataWire(p, latest(p)), ARN: this.arn(p.name, ctx) })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  private resolve(raw: string): { parameter: StoredParameter; version: StoredVersion; selector?: string } | undefined {
    const ref = parseReference(raw);
    if (!ref) return undefined;
    const parameter = this.parameters.get(storageKey(ref.name));
    if (!parameter) return undefined;
    if (ref.version !== undefined) {
      const version = parameter.versions.find((v) => v.version === ref.version);
      if (!version) {
        throw new SsmError(
          'ParameterVersionNotFound',
          `Systems Manager could not find version ${ref.version} of ${ref.name}. Verify the version and try again.`,
        );
      }
      return { parameter, version, selector: ref.selector };
    }
    // Labels are not supported: a label selector names nothing, which AWS also reports as not found.
    if (ref.label !== undefined) return undefined;
    return { parameter, version: latest(parameter) };
  }

  private arn(name: string, ctx: CallContext): string {
    return `arn:aws:ssm:${ctx.region}:${this.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  private parameterWire(p: StoredParameter, v: StoredVersion, withDecryption: boolean, ctx: CallContext, selector?: string): Wire {
    return {
      Name: p.name,
      Type: v.type,
      Value: shownValue(v, withDecryption),
      Version: v.version,
      ...(selector ? { Selector: selector } : {}),
      LastModifiedDate: epochSeconds(v.lastModifiedMs),
      ARN: this.arn(p.name, ctx),
      DataType: v.dataType,
    };
  }

  private metadataWire(p: StoredParameter, v: StoredVersion): Wire {
    return {
      Name: p.name,
      Type: v.type,
      ...(v.keyId ? { KeyId: v.keyId } : {}),
      LastModifiedDate: epochSeconds(v.lastModifiedMs),
      LastModifiedUser: v.lastModifiedUser,
      ...(v.description !== undefined ? { Description: v.description } : {}),
      ...(v.allowedPattern !== undefined ? { AllowedPattern: v.allowedPattern } : {}),
      Version: v.version,
      Tier: v.tier,
      DataType: v.dataType,
    };
  }
}

function deletion(p: StoredParameter): ParameterChange {
  const last = latest(p);
  return { name: p.name, operation: 'Delete', version: last.version, type: last.type, description: last.description, time: new Date() };
}

function shownValue(v: StoredVersion, withDecryption: boolean): string {
  return v.type === 'SecureString' && !withDecryption ? localCiphertext(v.value, v.keyId ?? DEFAULT_SECURE_STRING_KEY_ID) : v.value;
}

function resolveTier(requested: string | undefined, previous: StoredTier | undefined, valueLength: number): StoredTier {
  switch (requested) {
    case undefined:
      return previous ?? 'Standard';
    case 'Standard':
      // An advanced parameter cannot go back to the standard tier (AWS: delete and re-create it).
      if (previous === 'Advanced')
        throw validationError(
          "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
        );
      return 'Standard';
    case 'Advanced':
      return 'Advanced';
    case 'Intelligent-Tiering':
      return previous === 'Advanced' || valueLength > VALUE_LIMIT.Standard ? 'Advanced' : 'Standard';
    default:
      throw validationError(
        `1 validation error detected: Value '${requested}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]`,
      );
  }
}

function matchesAllowedPattern(value: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    throw new SsmError('InvalidAllowedPatternException', `The allowed pattern ${pattern} is not a valid regular expression.`);
  }
}

/** Listing tokens name the last item returned, so writes between pages neither repeat nor skip the items that stay. */
function encodeToken(kind: 's' | 'v', after: number): string {
  return Buffer.from(JSON.stringify([kind, after])).toString('base64url');
}

function decodeToken(token: string, kind: 's' | 'v'): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed[0] === kind && Number.isInteger(parsed[1])) return parsed[1] as number;
  } catch {
    // fall through: a token we did not make
  }
  throw new SsmError('InvalidNextToken', "The specified token isn't valid.");
}

function pageBySeq(items: readonly StoredParameter[], token: string | undefined, maxResults: number) {
  const after = token === undefined ? 0 : decodeToken(token, 's');
  const rest = items.filter((p) => p.seq > after);
  const page = rest.slice(0, maxResults);
  return { page, nextToken: rest.length > maxResults ? encodeToken('s', page[page.length - 1].seq) : undefined };
}

interface CheckedFilter {
  readonly key: string;
  readonly option: string;
  readonly values: readonly string[];
}

const FILTER_OPTIONS: Record<string, readonly string[]> = {
  Name: ['Equals', 'BeginsWith', 'Contains'],
  Path: ['Recursive', 'OneLevel'],
  Type: ['Equals', 'BeginsWith'],
  KeyId: ['Equals', 'BeginsWith'],
  Tier: ['Equals', 'BeginsWith'],
  DataType: ['Equals', 'BeginsWith'],
};

function checkFilters(filters: readonly ParameterFilter[], call: 'describe' | 'by-path'): CheckedFilter[] {
  const allowedKeys = call === 'describe' ? ['Path', 'Name', 'Type', 'KeyId', 'Tier', 'DataType'] : ['Type', 'KeyId', 'DataType'];
  const seen = new Set<string>();
  return filters.map((f) => {
    const isTag = f.Key.startsWith('tag:');
    if (!isTag && !allowedKeys.includes(f.Key)) {
      throw new SsmError('InvalidFilterKey', `The following filter key is not valid: ${f.Key}. Valid filter keys include: [${allowedKeys.join(', ')}].`);
    }
    if (seen.has(f.Key)) {
      throw new SsmError(
        'InvalidFilterKey',
        `The following filter is duplicated in the request: ${f.Key}. A request can contain only one occurrence of a specific filter.`,
      );
    }
    seen.add(f.Key);
    const option = f.Option ?? (f.Key === 'Path' ? 'OneLevel' : 'Equals');
    const options = isTag ? ['Equals'] : FILTER_OPTIONS[f.Key];
    if (!options.includes(option)) {
      throw new SsmError('InvalidFilterOption', `The following filter option is not valid: ${option}. Valid options include: [${options.join(', ')}].`);
    }
    const values = f.Values ?? [];
    if (!isTag && values.length === 0) {
      throw new SsmError('InvalidFilterValue', `The following filter values are missing : null for filter key ${f.Key}.`);
    }
    if (f.Key === 'Path') values.forEach(checkPath);
    return { key: f.Key, option, values };
  });
}

/** The older `Filters` of DescribeParameters: Name matches by prefix, Type and KeyId by equality. */
function checkLegacyFilters(filters: readonly ParameterFilter[]): CheckedFilter[] {
  return filters.map((f) => {
    if (!['Name', 'Type', 'KeyId'].includes(f.Key)) {
      throw constraintError('filters.1.member.key', f.Key, 'Member must satisfy enum value set: [Name, Type, KeyId]');
    }
    return { key: f.Key, option: f.Key === 'Name' ? 'BeginsWith' : 'Equals', values: f.Values ?? [] };
  });
}

function matchesFilters(p: StoredParameter, filters: readonly CheckedFilter[]): boolean {
  const v = latest(p);
  const full = p.name.startsWith('/') ? p.name : `/${p.name}`;
  return filters.every((f) => {
    if (f.key === 'Path') {
      return f.values.some((raw) => {
        const base = raw.replace(/\/+$/, '') + '/';
        if (!full.startsWith(base)) return false;
        return f.option === 'Recursive' || !full.slice(base.length).includes('/');
      });
    }
    let subject: readonly string[];
    switch (f.key) {
      case 'Name':
        subject = [full];
        break;
      case 'Type':
        subject = [v.type];
        break;
      case 'KeyId':
        subject = v.keyId ? [v.keyId] : [];
        break;
      case 'Tier':
        subject = [v.tier];
        break;
      case 'DataType':
        subject = [v.dataType];
        break;
      default:
        subject = p.tags.filter((t) => t.Key === f.key.slice(4)).map((t) => t.Value);
        if (f.values.length === 0) return subject.length > 0;
    }
    const values = f.key === 'Name' && f.option !== 'Contains' ? f.values.map((x) => (x.startsWith('/') ? x : `/${x}`)) : f.values;
    return subject.some((s) => values.some((x) => (f.option === 'Equals' ? s === x : f.option === 'BeginsWith' ? s.startsWith(x) : s.includes(x))));
  });
}
