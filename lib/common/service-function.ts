import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, WILDCARD_RESOURCE } from './nag';

/** The repository root: entries, the lock file and the tsconfig are found from here. */
export const PROJECT_ROOT = join(__dirname, '..', '..');

/** CloudWatch namespace of the custom metrics (Powertools EMF) of every component. */
export const METRICS_NAMESPACE = 'TenantConfig';

/**
 * Rewrites a source map's `sources` relative to the repository root. esbuild writes them relative
 * to the bundle's temporary directory, which lies under cdk.out: without this the asset hash (and
 * so the template) would change with the output directory.
 */
const RELATIVE_SOURCES_SCRIPT = [
  'const fs = require("fs"), path = require("path");',
  'const [map, root] = process.argv.slice(1);',
  'const doc = JSON.parse(fs.readFileSync(map, "utf8"));',
  'doc.sources = doc.sources.map((s) => path.relative(root, path.resolve(path.dirname(map), s)).split(path.sep).join("/"));',
  'fs.writeFileSync(map, JSON.stringify(doc));',
].join(' ');

/**
 * How every function is bundled: locally with esbuild (never Docker), minified, with source
 * maps for readable stack traces. The AWS SDK v3 is left to the Node.js 24 runtime, which ships
 * it: the bundles stay small (config-api well under 1 MB) and cold starts short.
 * bench/bundle-size.ts builds with exactly these options.
 */
export const FUNCTION_BUNDLING: nodejs.BundlingOptions = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node24',
  format: nodejs.OutputFormat.CJS,
  bundleAwsSDK: false,
  externalModules: ['@aws-sdk/*'],
  logLevel: nodejs.LogLevel.WARNING,
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [`node -e '${RELATIVE_SOURCES_SCRIPT}' "${outputDir}/index.js.map" "${PROJECT_ROOT}"`],
  },
};

export interface ServiceFunctionProps {
  /** Entry file relative to the repository root, e.g. `lambda/config-api/main.ts`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name (logs and metrics dimension). */
  readonly serviceName: string;
  /** @default no extra variables */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Runs in this VPC when given. @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Required with `vpc`. */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Node.js 24 ARM64 function with the house defaults: local esbuild bundling, its own log
 * group with a retention, and its own role holding only what it is granted: logs to its own
 * group, network interfaces when in a VPC, and whatever the caller adds.
 */
export class ServiceFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    if (props.vpc && !props.securityGroups?.length) {
      throw new Error(`ServiceFunction ${id}: a function in a VPC needs its security groups`);
    }
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.vpc) {
      // The actions of AWSLambdaVPCAccessExecutionRole: EC2 has no resource-level scoping for them.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    // Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to the role.
    const wildcards = ['xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions'];
    if (props.vpc) {
      wildcards.push(
        'the ec2 network-interface actions Lambda needs to attach the function to its VPC (those of AWSLambdaVPCAccessExecutionRole) support none either',
      );
    }
    acknowledge(this.role, WILDCARD_RESOURCE, `${wildcards.join('; ')}.`);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? (props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }) : undefined,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      bundling: FUNCTION_BUNDLING,
      // X-Ray active tracing; the Powertools Tracer (lambda/shared/tracing.ts) adds the handler's subsegment.
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        // Responses hold configuration values (secrets too): never copied into trace metadata.
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
    });
    // The function and what hangs off it (e.g. its async-invoke destination) need the role's grants
    // in place first: Lambda checks VPC and destination permissions when they are created.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) this.function.node.addDependency(policy);
  }
}
