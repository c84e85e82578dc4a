#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth --all -c stage=<name>` (default stage in cdk.json). Optional
 * context: account, region, certificateArn, domainName, natGateways, production, alarmEmail,
 * ssmRoot, services (`billing:read,reports:read+read-secrets`), authDomainPrefix. A bad value
 * stops synth with a message naming the context key.
 */
import { App } from 'aws-cdk-lib';
import { readStageConfig, StageConfigError } from '../lib/config/stage-config';
import { createTenantConfigApp } from '../lib/tenant-config-app';

const app = new App();
try {
  createTenantConfigApp(
    app,
    readStageConfig((key) => app.node.tryGetContext(key)),
  );
} catch (error) {
  if (error instanceof StageConfigError) {
    console.error(`\nInvalid deployment settings: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
app.synth();
