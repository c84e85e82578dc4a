/**
 * The SDK embeds the Watch API's descriptor (client/proto-descriptor.ts) instead of reading
 * config.proto at run time: it must say exactly what the .proto says, and the client class built
 * from it must encode and decode as the server's (proto/load.ts, from the file).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigProto } from '../../proto/load';
import { CONFIG_PROTO_DESCRIPTOR } from '../../client/proto-descriptor';
import { loadWatchProto } from '../../client/watch-proto';
import { ROOT_DIR, descriptorFromProto } from '../../packages/client/scripts/proto-descriptor';

describe('the embedded Watch descriptor', () => {
  it('matches proto/tenantconfig/v1/config.proto (regenerate: npx tsx packages/client/scripts/proto-descriptor.ts)', () => {
    expect(JSON.parse(JSON.stringify(CONFIG_PROTO_DESCRIPTOR))).toEqual(descriptorFromProto());
  });

  it('gives the same service as the server loads from the file, byte for byte', () => {
    const embedded = loadWatchProto().tenantconfig.v1.ConfigWatch.service.Watch;
    const fromFile = loadConfigProto().tenantconfig.v1.ConfigWatch.service.Watch;
    expect(embedded.path).toBe(fromFile.path);
    expect(embedded.responseStream).toBe(true);
    const request = { prefixes: ['tenantconfig:'], resume_cursor: 'c1', paged_snapshots: true, tenants: ['acme'] };
    expect(embedded.requestSerialize(request)).toEqual(fromFile.requestSerialize(request));
    const event = fromFile.responseSerialize({
      change: { key: 'tenantconfig:plan', value_json: '"gold"', version: 7, deleted: false, cursor: 'c2' },
    } as never);
    expect(embedded.responseDeserialize(event)).toEqual(fromFile.responseDeserialize(event));
  });

  it('nothing in client/ looks a file up by path: no __dirname, readFileSync or config.proto path', () => {
    const dir = join(ROOT_DIR, 'client');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => {
        const source = readFileSync(join(dir, f), 'utf8');
        return [/__dirname/, /__filename/, /readFileSync/, /import\.meta/, /\.proto['"]/, /from '[^']*proto\/load'/]
          .filter((re) => re.test(source))
          .map((re) => `${f}: ${re}`);
      });
    expect(offenders).toEqual([]);
  });
});
