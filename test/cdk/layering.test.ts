/**
 * lib/ reads the registry and the event patterns as data and imports no runtime code; where it
 * must repeat a runtime fact (table keys, routes, claim names, cache namespace), these tests hold
 * the two copies together.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { LEASE_ATTRIBUTES } from '../../adapters/dynamodb/dynamodb-write-lease';
import { TENANT_TABLE_KEYS } from '../../adapters/dynamodb/table-definition';
import { eventPatternVariables, resolveChangeEventPatterns } from '../../core/event-patterns';
import { TAG_PATTERN } from '../../core/key';
import { TagRegistry } from '../../core/tag-registry';
import { DEFAULT_CACHE_SETTINGS } from '../../core/versioned-cache';
import { ROUTE_KEYS } from '../../lambda/config-api/routes';
import { DEFAULT_ADMIN_GROUP, DEFAULT_OPERATOR_GROUP, DEFAULT_TENANT_CLAIM, SCOPES } from '../../core/principal';
import { changeEventPatterns } from '../../lib/config/change-event-patterns';
import { DEFAULT_TAG_REGISTRY, storeNeeds, TAG_NAME } from '../../lib/config/tag-registry-data';
import { CACHE_NAMESPACE } from '../../lib/data/config-cache';
import { TENANT_TABLE_SCHEMA } from '../../lib/data/tenant-table';
import { qualifiedScope, READ_SCOPE, READ_SECRETS_SCOPE, SERVICE_SCOPE_NAMES } from '../../lib/config/principals-data';
import { ADMIN_GROUP, OPERATOR_GROUP, TENANT_CLAIM } from '../../lib/data/tenant-user-pool';
import { CONFIG_API_ROUTES } from '../../lib/service/config-api';
import { PROJECT_ROOT } from './support/synth';

const LIB = join(PROJECT_ROOT, 'lib');
const RUNTIME_FOLDERS = ['core', 'lambda', 'adapters', 'fanout', 'local', 'client', 'proto'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('lib/ layering', () => {
  it('imports no runtime code: only aws-cdk-lib, constructs, cdk-nag, node: modules, lib/ itself and registry/ data', () => {
    const files = sourceFiles(LIB);
    expect(files.length).toBeGreaterThan(10);
    const offending: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // Statements only (import/export … from, bare import, require at the start of a statement):
      // a `require(…)` inside a string (a script run by a bundling hook) is not an import of lib/.
      const statements =
        /^\s*(?:(?:import|export)\b[^;]*?from\s+['"]([^'"]+)['"]|import\s+['"]([^'"]+)['"]|(?:const|let|var)\s[^=]*=\s*require\(\s*['"]([^'"]+)['"]\s*\))/gm;
      for (const match of text.matchAll(statements)) {
        const specifier = match[1] ?? match[2] ?? match[3];
        if (specifier.startsWith('.')) {
          const target = relative(PROJECT_ROOT, resolve(dirname(file), specifier));
          const top = target.split('/')[0];
          if (RUNTIME_FOLDERS.includes(top) || (top !== 'lib' && top !== 'registry')) offending.push(`${relative(PROJECT_ROOT, file)} -> ${specifier}`);
        } else if (!/^(aws-cdk-lib|constructs|cdk-nag|node:)/.test(specifier)) {
          offending.push(`${relative(PROJECT_ROOT, file)} -> ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it('fills the event patterns exactly as core/ does for the local event router', () => {
    const ssmTenantsPath = '/tenant-config/dev/tenants/';
    const fromCore = resolveChangeEventPatterns(eventPatternVariables({ ssmTenantsPath, registry: TagRegistry.default() }));
    const fromLib = changeEventPatterns({ ssmTenantsPath, dynamodbTag: storeNeeds(DEFAULT_TAG_REGISTRY).dynamodbTags });
    expect(fromLib).toEqual(JSON.parse(JSON.stringify(fromCore)));
  });

  it('reads the registry’s backends the way core/ does', () => {
    const core = TagRegistry.default();
    const needs = storeNeeds(DEFAULT_TAG_REGISTRY);
    expect(needs.dynamodbTags).toEqual(core.tagsFor('dynamodb').map((t) => t.name));
    expect(needs.ssmTags).toEqual(core.tagsFor('ssm').map((t) => t.name));
    expect(needs.secretParameters).toBe(core.tagsFor('ssm').some((t) => t.secret));
    expect(TAG_NAME.source).toBe(TAG_PATTERN.source);
  });

  it('builds the table the backends use', () => {
    expect(TENANT_TABLE_SCHEMA.partitionKey).toBe(TENANT_TABLE_KEYS.partitionKey);
    expect(TENANT_TABLE_SCHEMA.sortKey).toBe(TENANT_TABLE_KEYS.sortKey);
    expect(TENANT_TABLE_SCHEMA.timeToLiveAttribute).toBe(LEASE_ATTRIBUTES.expiresAt);
  });

  it('routes exactly the HTTP API routes the handler serves', () => {
    const fromLib = CONFIG_API_ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`));
    expect([...fromLib].sort()).toEqual([...ROUTE_KEYS].sort());
  });

  it('uses the claim, group and cache namespace the runtime defaults to', () => {
    expect(TENANT_CLAIM).toBe(DEFAULT_TENANT_CLAIM);
    expect(ADMIN_GROUP).toBe(DEFAULT_ADMIN_GROUP);
    expect(OPERATOR_GROUP).toBe(DEFAULT_OPERATOR_GROUP);
    expect(CACHE_NAMESPACE).toBe(DEFAULT_CACHE_SETTINGS.namespace);
  });

  it('grants the OAuth scopes the runtime checks', () => {
    expect(qualifiedScope(READ_SCOPE)).toBe(SCOPES.read);
    expect(qualifiedScope(READ_SECRETS_SCOPE)).toBe(SCOPES.readSecrets);
    expect(SERVICE_SCOPE_NAMES.map(qualifiedScope).sort()).toEqual(Object.values(SCOPES).sort());
  });
});
