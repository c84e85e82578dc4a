/**
 * Jest global setup: the CLI bundle (build-cli.js), and the admin console (vite, ~2 s) when its
 * sources are newer than console/dist, so the browser tests load the console as it is now. The
 * console is built beside dist and swapped in, so a synth or a browser test running meanwhile in
 * the same checkout never reads a half-written build.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, renameSync, rmSync, statSync } = require('node:fs');
const { join } = require('node:path');
const buildCli = require('./build-cli');

const root = join(__dirname, '..', '..');
const consoleDir = join(root, 'console');
const SOURCES = [join(consoleDir, 'src'), join(consoleDir, 'index.html'), join(consoleDir, 'vite.config.mjs'), join(root, 'registry')];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function buildConsole() {
  const dist = join(consoleDir, 'dist');
  const index = join(dist, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...SOURCES.map(newestMtime))) return;
  const fresh = join(consoleDir, `dist.${process.pid}.tmp`);
  const old = join(consoleDir, `dist.${process.pid}.old`);
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  execFileSync(npx, ['vite', 'build', 'console', '--logLevel', 'warn', '--outDir', fresh, '--emptyOutDir'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(fresh, dist);
  rmSync(old, { recursive: true, force: true });
}

module.exports = async function globalSetup() {
  await buildCli();
  buildConsole();
};
