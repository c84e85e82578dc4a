/**
 * The config-api handler over chosen backends, called the way API Gateway calls it, with
 * replies parsed for assertions. Each backend is wrapped in a RecordingBackend.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ConfigBackend } from '../../../core/backend-port';
import { ConfigService } from '../../../core/config-service';
import type { ConfigItem } from '../../../core/item';
import { parseKeyPrefix } from '../../../core/key';
import { PageTokenCodec } from '../../../core/page-token';
import { TagRegistry, type BackendKind } from '../../../core/tag-registry';
import { TagRouter } from '../../../core/tag-router';
import { parseTenantId } from '../../../core/tenant';
import { TenantSchema } from '../../../core/tenant-attributes';
import { TenantService } from '../../../core/tenant-service';
import { createHandler, type ConfigApiDeps, type ConfigApiLambdaHandler } from '../../../lambda/config-api/handler';
import { InMemoryConfigBackend } from '../../support/in-memory-backend';
import { apiEvent, type ApiRequest } from './api-event';
import { InMemoryTenantRegistry } from './in-memory-tenant-registry';
import { RecordingBackend } from './recording-backend';

export const PAGE_TOKEN_SECRET = 'handler-tests-page-token-secret';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Parsed JSON body; undefined when there is none. */
  readonly body: any;
  readonly rawBody?: string;
}

export interface Harness {
  readonly handler: ConfigApiLambdaHandler;
  readonly backends: Readonly<Record<BackendKind, RecordingBackend>>;
  readonly registry: TagRegistry;
  /** The tenant registry behind `/v1/tenants` and the layers (only with `layers`). */
  readonly tenants: InMemoryTenantRegistry;
  call(req: ApiRequest): Promise<Reply>;
  /** put + delete calls that reached any backend. */
  writes(): number;
  /** Every item of the tenants, read straight from the backends (not through the handler). */
  snapshot(tenants: readonly string[]): Promise<ConfigItem[]>;
}

export interface HarnessOptions {
  readonly backends?: Partial<Record<BackendKind, ConfigBackend>>;
  readonly logger?: Logger;
  readonly principal?: ConfigApiDeps['principal'];
  readonly maxBodyBytes?: number;
  /**
   * Serve effective values through the layers, with an in-memory tenant registry, the default
   * schema, the registry routes and offboarding (as the Lambda and the local system do).
   * @default off: tenant values only, as before the layers
   */
  readonly layers?: boolean | { readonly requireRegistration?: boolean; readonly offboardingDeadlineMs?: number };
}

export const silentLogger = (): Logger => new Logger({ serviceName: 'config-api-test', logLevel: 'SILENT' });

export function createHarness(options: HarnessOptions = {}): Harness {
  const registry = TagRegistry.default();
  const backends: Record<BackendKind, RecordingBackend> = {
    dynamodb: new RecordingBackend(options.backends?.dynamodb ?? new InMemoryConfigBackend({ historyDepth: 10 })),
    ssm: new RecordingBackend(options.backends?.ssm ?? new InMemoryConfigBackend()),
  };
  const router = new TagRouter(registry, backends);
  const pageTokens = new PageTokenCodec(PAGE_TOKEN_SECRET);
  const tenants = new InMemoryTenantRegistry();
  const layers = options.layers === true ? {} : options.layers || undefined;
  const schema = TenantSchema.default();
  const service = new ConfigService(router, pageTokens, undefined, layers && { tenants, schema, requireRegistration: layers.requireRegistration });
  const handler = createHandler({
    service,
    registry,
    principal: options.principal ?? { tenantClaim: 'tenant_id', adminGroup: 'config-admins' },
    logger: options.logger ?? silentLogger(),
    maxBodyBytes: options.maxBodyBytes,
    ...(layers
      ? {
          tenants: new TenantService(tenants, schema, pageTokens),
          tenantSchema: schema,
          offboarding: { router, registry: tenants, deadlineMs: layers.offboardingDeadlineMs },
        }
      : {}),
  });

  return {
    handler,
    backends,
    registry,
    tenants,
    async call(req) {
      const result = await handler(apiEvent(req));
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      const rawBody = result.body;
      const isJson = /json/.test(headers['content-type'] ?? '');
      return { status: result.statusCode ?? 200, headers, body: rawBody && isJson ? JSON.parse(rawBody) : undefined, rawBody };
    },
    writes: () => backends.dynamodb.writes + backends.ssm.writes,
    async snapshot(tenants) {
      const items: ConfigItem[] = [];
      for (const tenant of tenants) {
        for (const tag of registry.all()) {
          let cursor: string | undefined;
          do {
            const page = await backends[tag.backend].list(parseTenantId(tenant), parseKeyPrefix(`${tag.name}:`), { limit: 100, cursor });
            items.push(...page.items);
            cursor = page.cursor;
          } while (cursor);
        }
      }
      return items;
    },
  };
}

/** `{"value": v}` as a PUT body. */
export const valueBody = (value: unknown): string => JSON.stringify({ value });
