import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SecretReference } from '../common/secret-reference';

export interface CacheConnectionProps {
  readonly endpointAddress: string;
  readonly endpointPort: string;
  readonly username: string;
  /** Key prefix (CACHE_NAMESPACE); the cache user's ACL allows only these keys. */
  readonly namespace: string;
  readonly credentials: secretsmanager.ISecret;
  /** Name of the credentials secret, for its Parameter Store reference. */
  readonly secretName: string;
  /** Members of this group may reach the cache. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
}

/**
 * How a component reaches the cache: the CACHE_* variables adapters/redis/redis-connection.ts
 * reads, and the grant to read the password once at start (through Parameter Store's
 * Secrets Manager reference, which is what the runtime calls).
 */
export class CacheConnection {
  private readonly password: SecretReference;

  constructor(readonly props: CacheConnectionProps) {
    this.password = new SecretReference(props.credentials, props.secretName);
  }

  get passwordParameterName(): string {
    return this.password.parameterName;
  }

  /** ElastiCache Serverless is cluster mode, TLS only. */
  environment(): Record<string, string> {
    return {
      CACHE_REDIS_HOST: this.props.endpointAddress,
      CACHE_REDIS_PORT: this.props.endpointPort,
      CACHE_REDIS_TLS: 'true',
      CACHE_REDIS_CLUSTER: 'true',
      CACHE_REDIS_USERNAME: this.props.username,
      CACHE_REDIS_PASSWORD_PARAMETER: this.passwordParameterName,
      CACHE_NAMESPACE: this.props.namespace,
    };
  }

  grantReadCredentials(scope: Construct, role: iam.IRole): void {
    this.password.grantRead(scope, role, 'CacheCredentials');
  }
}
