/**
 * Jest global setup: the CLI bundle (build-cli.js) and the admin console (`npm run build`,
 * vite, ~2 s), built once before the suites so the browser tests load the console as it is now.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const buildCli = require('./build-cli');

module.exports = async function globalSetup() {
  await buildCli();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['run', '-s', 'build'], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'inherit'] });
};
