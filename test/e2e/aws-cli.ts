/**
 * The AWS CLI (v1) as an outside client of the local system: it writes straight into the
 * advertised DynamoDB and Parameter Store endpoints, past the API. Always asynchronous:
 * the stream proxy runs in the test's own process and must keep serving while the CLI waits.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { decodeStoredItem, encodeStoredItem, type StoredItem } from '../../adapters/dynamodb/item-codec';
import { ParameterPaths } from '../../adapters/ssm/parameter-paths';
import { parseKey } from '../../core/key';
import { parseTenantId } from '../../core/tenant';
import type { LocalEndpoints } from '../../local/system';

const run = promisify(execFile);

export class AwsCli {
  private readonly paths: ParameterPaths;

  constructor(
    private readonly endpoints: LocalEndpoints,
    stage = 'local',
  ) {
    this.paths = new ParameterPaths(endpoints.ssmRoot, stage);
  }

  /** Runs `aws <service> ...` against the local endpoint of that service; resolves to parsed JSON output, if any. */
  async call(service: 'dynamodb' | 'ssm', args: readonly string[]): Promise<unknown> {
    const endpoint = service === 'dynamodb' ? this.endpoints.dynamodb : this.endpoints.ssm;
    const { stdout } = await run('aws', ['--endpoint-url', endpoint, '--region', this.endpoints.region, '--output', 'json', service, ...args], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' },
    });
    return stdout.trim() ? JSON.parse(stdout) : undefined;
  }

  /** The table row of (tenant, key) as the backend wrote it. */
  async getRow(tenant: string, key: string): Promise<StoredItem | undefined> {
    const out = (await this.call('dynamodb', ['get-item', '--table-name', this.endpoints.table, '--key', JSON.stringify(rowKey(tenant, key))])) as
      { Item?: Record<string, AttributeValue> } | undefined;
    return out?.Item ? decodeStoredItem(out.Item) : undefined;
  }

  /**
   * Writes the next version of a row the way the backend lays it out (item-codec), with
   * `put-item`: what an operator fixing a value by hand would do.
   */
  async putNextVersion(tenant: string, key: string, value: unknown, updatedBy = 'aws-cli'): Promise<number> {
    const current = await this.getRow(tenant, key);
    if (!current) throw new Error(`no row for ${tenant}/${key} to write over`);
    const next: StoredItem = {
      ...current,
      version: current.version + 1,
      deleted: false,
      valueJson: JSON.stringify(value),
      updatedAt: new Date().toISOString(),
      updatedBy,
      history:
        current.valueJson === undefined || current.deleted
          ? current.history
          : [{ version: current.version, valueJson: current.valueJson, updatedAt: current.updatedAt, updatedBy: current.updatedBy }, ...current.history],
      hasVersionAttribute: true,
    };
    await this.withJsonFile(encodeStoredItem(next), (file) =>
      this.call('dynamodb', ['put-item', '--table-name', this.endpoints.table, '--item', `file://${file}`]),
    );
    return next.version;
  }

  async deleteRow(tenant: string, key: string): Promise<void> {
    await this.call('dynamodb', ['delete-item', '--table-name', this.endpoints.table, '--key', JSON.stringify(rowKey(tenant, key))]);
  }

  parameterName(tenant: string, key: string): string {
    return this.paths.parameterName(parseTenantId(tenant), parseKey(key));
  }

  /** `put-parameter --overwrite` of the value as JSON text (how the SSM backend stores it); resolves to the new version. */
  async putParameter(tenant: string, key: string, value: unknown): Promise<number> {
    const out = (await this.call('ssm', [
      'put-parameter',
      '--name',
      this.parameterName(tenant, key),
      '--type',
      'String',
      '--overwrite',
      '--value',
      JSON.stringify(value),
    ])) as { Version: number };
    return out.Version;
  }

  async deleteParameter(tenant: string, key: string): Promise<void> {
    await this.call('ssm', ['delete-parameter', '--name', this.parameterName(tenant, key)]);
  }

  private async withJsonFile<T>(doc: unknown, use: (file: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'aws-cli-'));
    const file = join(dir, 'doc.json');
    writeFileSync(file, JSON.stringify(doc));
    try {
      return await use(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function rowKey(tenant: string, key: string): Record<string, AttributeValue> {
  return { tenantId: { S: tenant }, configKey: { S: key } };
}

/** Polls `probe` until it returns a value or `withinMs` passes; returns the value and how long it took. */
export async function eventually<T>(probe: () => Promise<T | undefined>, withinMs: number, what: string): Promise<{ value: T; tookMs: number }> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, tookMs: Date.now() - start };
    if (Date.now() - start > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
