/**
 * Tokens minted by an independent Cognito (moto_server's user pools, real RS256 tokens
 * and a JWKS) go through the same authorizer construction the local HTTP front uses.
 *
 * What moto gives (moto 5.2): the access token carries iss, sub, client_id, token_use
 * `access`, username, scope and `cognito:groups`, but no custom attributes; the ID token
 * carries `aud` = the client id and the user's `custom:tenant_id`. On AWS the tenant claim
 * goes into the access token through a pre-token-generation V2 trigger, which moto does
 * not run, so the tenant is checked here on the ID token (which API Gateway's authorizer
 * accepts too: its `aud` matches).
 */
import { InvalidTenantError, UnauthenticatedError } from '../../core/errors';
import { principalFromClaims } from '../../core/principal';
import { createJwtAuthorizer, type AuthorizationResult } from '../../local/jwt-authorizer';
import { describeIf, startMoto, type RunningServer } from '../support/servers';
import { CognitoIdpClient } from './cognito-idp-client';

interface Pool {
  readonly poolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly jwks: unknown;
}

const REGION = 'us-east-1';
const PASSWORD = 'Corr3ct-Horse!';

async function createPool(idp: CognitoIdpClient, moto: RunningServer, name: string): Promise<Pool> {
  const { UserPool } = await idp.call<{ UserPool: { Id: string } }>('CreateUserPool', {
    PoolName: name,
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: true }],
  });
  const { UserPoolClient } = await idp.call<{ UserPoolClient: { ClientId: string } }>('CreateUserPoolClient', {
    UserPoolId: UserPool.Id,
    ClientName: `${name}-app`,
    ExplicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  });
  const jwksResponse = await fetch(`${moto.endpoint}/${UserPool.Id}/.well-known/jwks.json`);
  expect(jwksResponse.status).toBe(200);
  return {
    poolId: UserPool.Id,
    clientId: UserPoolClient.ClientId,
    issuer: `https://cognito-idp.${REGION}.amazonaws.com/${UserPool.Id}`,
    jwks: await jwksResponse.json(),
  };
}

const authorizerFor = (pool: Pick<Pool, 'issuer' | 'clientId' | 'jwks'>) =>
  createJwtAuthorizer({ issuer: pool.issuer, audience: [pool.clientId], jwks: pool.jwks });

function claimsOf(result: AuthorizationResult): Record<string, unknown> {
  if (!result.authorized) throw new Error(`expected the token to be accepted, got: ${result.reason}`);
  return result.claims;
}

describeIf('moto_server')("tokens from moto's Cognito user pools", () => {
  let moto: RunningServer;
  let poolA: Pool;
  let poolB: Pool;
  let accessToken: string;
  let idToken: string;

  beforeAll(async () => {
    moto = await startMoto();
    const idp = new CognitoIdpClient(moto.endpoint, REGION);
    poolA = await createPool(idp, moto, 'tenants-a');
    poolB = await createPool(idp, moto, 'tenants-b');
    await idp.call('CreateGroup', { UserPoolId: poolA.poolId, GroupName: 'config-admins' });
    await idp.call('AdminCreateUser', {
      UserPoolId: poolA.poolId,
      Username: 'alice',
      UserAttributes: [{ Name: 'custom:tenant_id', Value: 'acme' }],
      MessageAction: 'SUPPRESS',
    });
    await idp.call('AdminAddUserToGroup', { UserPoolId: poolA.poolId, Username: 'alice', GroupName: 'config-admins' });
    await idp.call('AdminSetUserPassword', { UserPoolId: poolA.poolId, Username: 'alice', Password: PASSWORD, Permanent: true });
    const auth = await idp.call<{ AuthenticationResult: { AccessToken: string; IdToken: string } }>('AdminInitiateAuth', {
      UserPoolId: poolA.poolId,
      ClientId: poolA.clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: 'alice', PASSWORD },
    });
    accessToken = auth.AuthenticationResult.AccessToken;
    idToken = auth.AuthenticationResult.IdToken;
  }, 30000);

  afterAll(async () => {
    await moto?.stop();
  });

  it("accepts the pool's access token (client_id checked, as API Gateway does without aud)", async () => {
    const claims = claimsOf(await authorizerFor(poolA).authorize(`Bearer ${accessToken}`));

    expect(claims).toMatchObject({
      iss: poolA.issuer,
      client_id: poolA.clientId,
      token_use: 'access',
      username: 'alice',
      'cognito:groups': ['config-admins'],
    });
    expect(claims.aud).toBeUndefined();
  });

  it("keeps the access token's groups an array, and finds no tenant claim in it (moto runs no pre-token trigger)", async () => {
    const claims = claimsOf(await authorizerFor(poolA).authorize(`Bearer ${accessToken}`));

    expect(claims['cognito:groups']).toEqual(['config-admins']);
    expect(() => principalFromClaims(claims, { tenantClaim: 'tenant_id', adminGroup: 'config-admins' })).toThrow(InvalidTenantError);
  });

  it("reads moto's access token as an admin once a tenant claim is named that it carries", async () => {
    const claims = claimsOf(await authorizerFor(poolA).authorize(`Bearer ${accessToken}`));

    const principal = principalFromClaims({ ...claims, tenant_id: 'acme' }, { tenantClaim: 'tenant_id', adminGroup: 'config-admins' });

    expect(principal).toEqual({ kind: 'tenant-admin', tenant: 'acme', subject: claims.sub });
  });

  it("passes the pool's ID token through the authorizer (aud checked), and the principal refuses it: only access tokens", async () => {
    const claims = claimsOf(await authorizerFor(poolA).authorize(`Bearer ${idToken}`));

    expect(claims).toMatchObject({ aud: poolA.clientId, token_use: 'id', 'custom:tenant_id': 'acme' });
    expect(() => principalFromClaims(claims, { tenantClaim: 'custom:tenant_id', adminGroup: 'config-admins' })).toThrow(UnauthenticatedError);
  });

  it('rejects both tokens when the authorizer is configured for another pool', async () => {
    const other = authorizerFor(poolB);

    for (const token of [accessToken, idToken]) {
      const result = await other.authorize(`Bearer ${token}`);
      expect(result.authorized).toBe(false);
      expect(!result.authorized && result.reason).toBe('the token does not have a valid issuer');
    }
  });

  it("rejects the pool's tokens for another app client of the same pool", async () => {
    const result = await authorizerFor({ ...poolA, clientId: poolB.clientId }).authorize(`Bearer ${accessToken}`);

    expect(result.authorized).toBe(false);
    expect(!result.authorized && result.reason).toBe('the token does not have a valid audience');
  });

  it('rejects a moto token whose claims were altered', async () => {
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, username: 'mallory' })).toString('base64url')}.${signature}`;

    const result = await authorizerFor(poolA).authorize(`Bearer ${forged}`);

    expect(result.authorized).toBe(false);
    expect(!result.authorized && result.reason).toBe('the token signature is invalid');
  });
});
