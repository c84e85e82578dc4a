/**
 * Jest global setup: builds the CLI bundle (packages/cli/dist/main.js, ~5 s with tsup) once
 * before the suites, so the CLI's tests run what users run and each call starts in ~0.3 s
 * instead of ~1 s through tsx (bench/results/cli.json). TENANT_CONFIG_CLI=source skips it.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildCli() {
  if (process.env.TENANT_CONFIG_CLI === 'source') return;
  const root = join(__dirname, '..', '..');
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '-s', 'build', '-w', '@tenant-config/cli'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
};
