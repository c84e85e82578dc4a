import { readConfigApiEnvironment } from '../../../lambda/config-api/environment';

const VALID = { TABLE_NAME: 'tenant-config-dev', SSM_ROOT: 'tenant-config', STAGE: 'dev', PAGE_TOKEN_SECRET: '0123456789abcdef' };

describe('config-api environment', () => {
  it('reads the settings, with defaults for the optional ones', () => {
    expect(readConfigApiEnvironment(VALID)).toEqual({
      tableName: 'tenant-config-dev',
      ssmRoot: 'tenant-config',
      stage: 'dev',
      pageTokenSecret: '0123456789abcdef',
      tenantClaim: 'tenant_id',
      adminGroup: 'config-admins',
      ssmKmsKeyId: undefined,
      requireTenantRegistration: false,
    });
  });

  it.each([
    ['true', true],
    ['false', false],
    [' true ', true],
    ['', false],
  ])('REQUIRE_TENANT_REGISTRATION=%p → %p', (raw, expected) => {
    expect(readConfigApiEnvironment({ ...VALID, REQUIRE_TENANT_REGISTRATION: raw }).requireTenantRegistration).toBe(expected);
  });

  it('takes the optional settings when given; SSM_ROOT may be written with slashes', () => {
    const env = readConfigApiEnvironment({
      ...VALID,
      SSM_ROOT: '/tenant-config/',
      TENANT_CLAIM: 'custom:tenant_id',
      ADMIN_GROUP: 'ops',
      SSM_KMS_KEY_ID: 'alias/cfg',
    });

    expect(env).toMatchObject({ ssmRoot: 'tenant-config', tenantClaim: 'custom:tenant_id', adminGroup: 'ops', ssmKmsKeyId: 'alias/cfg' });
  });

  it.each([
    [{ TABLE_NAME: undefined }, /^TABLE_NAME is not set/],
    [{ TABLE_NAME: '  ' }, /^TABLE_NAME is not set/],
    [{ SSM_ROOT: undefined }, /^SSM_ROOT is not set/],
    [{ SSM_ROOT: 'a/b' }, /^SSM_ROOT must be one path segment/],
    [{ STAGE: undefined }, /^STAGE is not set/],
    [{ STAGE: 'dev prod' }, /^STAGE must be one path segment/],
    [{ PAGE_TOKEN_SECRET: undefined }, /^PAGE_TOKEN_SECRET is not set/],
    [{ PAGE_TOKEN_SECRET: 'short' }, /^PAGE_TOKEN_SECRET must be at least 16 characters/],
    [{ TENANT_CLAIM: 'tenant id' }, /^TENANT_CLAIM must be a claim name/],
    [{ ADMIN_GROUP: 'config admins' }, /^ADMIN_GROUP must be a group name without whitespace/],
    [{ REQUIRE_TENANT_REGISTRATION: 'yes' }, /^REQUIRE_TENANT_REGISTRATION must be 'true' or 'false'/],
  ])("%p fails with the variable's name", (override, message) => {
    expect(() => readConfigApiEnvironment({ ...VALID, ...override })).toThrow(message);
  });

  it('never echoes the page token secret', () => {
    expect(() => readConfigApiEnvironment({ ...VALID, PAGE_TOKEN_SECRET: 'sekrit' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('sekrit') }),
    );
  });
});
