import patternData from '../registry/event-patterns.json';
import type { TagRegistry } from './tag-registry';

/**
 * The change-event patterns of `registry/event-patterns.json`, with their
 * placeholders filled for one stage. The CDK stack and the local event router
 * both take their patterns from here, so what reaches the cache-refresh function
 * is decided in one place.
 */

/** Values for the placeholders; see the file's `$comment`. */
export interface EventPatternVariables {
  /** `/<ssmRoot>/<stage>/tenants/`, with both slashes. */
  readonly ssmTenantsPath: string;
  /** Tags routed to DynamoDB; each becomes one `prefix` alternative of the Pipe filter. */
  readonly dynamodbTag: readonly string[];
}

export type EventPattern = Readonly<Record<string, unknown>>;

export interface EventRuleSpec {
  /** `default` is the account's default bus; any other name is a bus of this stage. */
  readonly eventBus: string;
  readonly pattern: EventPattern;
}

export type ChangeRuleName = 'dynamodbChange' | 'parameterStoreChange';

export interface ChangeEventPatterns {
  readonly dynamodbPipe: {
    /** The Source and DetailType the Pipe gives the events it puts on the bus. */
    readonly source: string;
    readonly detailType: string;
    /** Pipe FilterCriteria patterns (a record passes when any one matches). */
    readonly filterPatterns: readonly EventPattern[];
  };
  readonly rules: Readonly<Record<ChangeRuleName, EventRuleSpec>>;
}

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The variables for a stage, the DynamoDB tags taken from the tag registry. */
export function eventPatternVariables(options: { ssmTenantsPath: string; registry: TagRegistry }): EventPatternVariables {
  const { ssmTenantsPath } = options;
  if (!ssmTenantsPath.startsWith('/') || !ssmTenantsPath.endsWith('/tenants/')) {
    throw new Error(`event patterns: ssmTenantsPath must look like '/<root>/<stage>/tenants/', got '${ssmTenantsPath}'`);
  }
  return { ssmTenantsPath, dynamodbTag: options.registry.tagsFor('dynamodb').map((t) => t.name) };
}

/** Fills the placeholders; an unknown or unfilled placeholder fails with its name. */
export function resolveChangeEventPatterns(variables: EventPatternVariables, data: unknown = patternData): ChangeEventPatterns {
  const resolved = resolve(data, variables as unknown as Record<string, string | readonly string[]>, '') as Record<string, unknown>;
  const pipe = resolved.dynamodbPipe as ChangeEventPatterns['dynamodbPipe'] | undefined;
  const rules = resolved.rules as Record<string, EventRuleSpec> | undefined;
  if (!pipe || typeof pipe.source !== 'string' || typeof pipe.detailType !== 'string' || !Array.isArray(pipe.filterPatterns)) {
    throw new Error('event patterns: dynamodbPipe needs source, detailType and filterPatterns');
  }
  for (const name of ['dynamodbChange', 'parameterStoreChange'] as const) {
    const rule = rules?.[name];
    if (!rule || typeof rule.eventBus !== 'string' || typeof rule.pattern !== 'object' || rule.pattern === null) {
      throw new Error(`event patterns: rule '${name}' needs eventBus and pattern`);
    }
  }
  return { dynamodbPipe: pipe, rules: rules as ChangeEventPatterns['rules'] };
}

function resolve(node: unknown, vars: Record<string, string | readonly string[]>, at: string): unknown {
  if (typeof node === 'string') return substitute(node, vars, at);
  if (Array.isArray(node)) {
    return node.flatMap((element, i) => {
      const lists = listVariablesIn(element, vars);
      if (lists.length > 1) throw new Error(`event patterns: '${at}[${i}]' mentions more than one list variable`);
      if (lists.length === 0) return [resolve(element, vars, `${at}[${i}]`)];
      const [name] = lists;
      const values = vars[name] as readonly string[];
      return values.map((value) => resolve(element, { ...vars, [name]: value }, `${at}[${i}]`));
    });
  }
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$comment') continue;
      out[k] = resolve(v, vars, at ? `${at}.${k}` : k);
    }
    return out;
  }
  return node;
}

function substitute(text: string, vars: Record<string, string | readonly string[]>, at: string): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`event patterns: unknown placeholder '\${${name}}' at '${at}'`);
    if (typeof value !== 'string') throw new Error(`event patterns: list variable '${name}' used outside an array at '${at}'`);
    return value;
  });
}

/**
 * Names of list-valued variables inside an array element, not counting those inside
 * a nested array: the innermost array that mentions a list is the one repeated.
 */
function listVariablesIn(node: unknown, vars: Record<string, string | readonly string[]>): string[] {
  const found = new Set<string>();
  const walk = (n: unknown): void => {
    if (typeof n === 'string') {
      for (const m of n.matchAll(PLACEHOLDER)) if (Array.isArray(vars[m[1]])) found.add(m[1]);
    } else if (typeof n === 'object' && n !== null && !Array.isArray(n)) {
      Object.values(n).forEach(walk);
    }
  };
  walk(node);
  return [...found];
}
