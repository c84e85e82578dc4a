/**
 * registry/event-patterns.json as the infrastructure reads it: the Pipe's filter and the two
 * rules' patterns, placeholders filled for one stage. lib/ imports no runtime code, so the
 * (small) filling is done here too; a test checks it gives exactly what core/event-patterns.ts
 * gives the local event router, so AWS and the local system route the same events.
 */
import patternsJson from '../../registry/event-patterns.json';

export type EventPatternDocument = Readonly<Record<string, unknown>>;

export interface ChangeRulePattern {
  /** `default` is the account's default bus; any other value names this stage's own bus. */
  readonly eventBus: string;
  readonly pattern: EventPatternDocument;
}

export interface ChangeEventPatterns {
  readonly dynamodbPipe: {
    readonly source: string;
    readonly detailType: string;
    readonly filterPatterns: readonly EventPatternDocument[];
  };
  readonly rules: {
    readonly dynamodbChange: ChangeRulePattern;
    readonly parameterStoreChange: ChangeRulePattern;
  };
}

export interface PatternVariables {
  /** `/<root>/<stage>/tenants/`. */
  readonly ssmTenantsPath: string;
  /** The registry's DynamoDB tags; an array element naming it is repeated per tag. */
  readonly dynamodbTag: readonly string[];
}

export const DEFAULT_EVENT_PATTERNS: unknown = patternsJson;

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;
type Vars = Readonly<Record<string, string | readonly string[]>>;

function listVariablesIn(node: unknown, vars: Vars): string[] {
  const found = new Set<string>();
  const walk = (n: unknown): void => {
    if (typeof n === 'string') {
      for (const m of n.matchAll(PLACEHOLDER)) if (Array.isArray(vars[m[1]])) found.add(m[1]);
    } else if (n && typeof n === 'object' && !Array.isArray(n)) {
      Object.values(n).forEach(walk);
    }
  };
  walk(node);
  return [...found];
}

function fill(node: unknown, vars: Vars, at: string): unknown {
  if (typeof node === 'string') {
    return node.replace(PLACEHOLDER, (_m, name: string) => {
      const value = vars[name];
      if (typeof value !== 'string') throw new Error(`event patterns: placeholder '\${${name}}' at '${at}' has no string value`);
      return value;
    });
  }
  if (Array.isArray(node)) {
    return node.flatMap((element, i) => {
      const lists = listVariablesIn(element, vars);
      if (lists.length > 1) throw new Error(`event patterns: '${at}[${i}]' mentions more than one list variable`);
      if (lists.length === 0) return [fill(element, vars, `${at}[${i}]`)];
      return (vars[lists[0]] as readonly string[]).map((v) => fill(element, { ...vars, [lists[0]]: v }, `${at}[${i}]`));
    });
  }
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => k !== '$comment')
        .map(([k, v]) => [k, fill(v, vars, at ? `${at}.${k}` : k)]),
    );
  }
  return node;
}

/** The patterns with placeholders filled; a missing section fails synth with its name. */
export function changeEventPatterns(variables: PatternVariables, document: unknown = DEFAULT_EVENT_PATTERNS): ChangeEventPatterns {
  const filled = fill(document, variables as unknown as Vars, '') as Partial<ChangeEventPatterns>;
  const pipe = filled.dynamodbPipe;
  if (!pipe || typeof pipe.source !== 'string' || typeof pipe.detailType !== 'string' || !Array.isArray(pipe.filterPatterns)) {
    throw new Error('event patterns: dynamodbPipe needs source, detailType and filterPatterns');
  }
  for (const name of ['dynamodbChange', 'parameterStoreChange'] as const) {
    const rule = filled.rules?.[name];
    if (!rule || typeof rule.eventBus !== 'string' || !rule.pattern || typeof rule.pattern !== 'object') {
      throw new Error(`event patterns: rule '${name}' needs eventBus and pattern`);
    }
  }
  return filled as ChangeEventPatterns;
}
