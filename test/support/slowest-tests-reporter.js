/**
 * A jest reporter that prints the slowest test files and tests after a run, so a suite that
 * creeps towards CI's time limit shows itself before it gets there.
 */
class SlowestTestsReporter {
  constructor(_globalConfig, options = {}) {
    this.count = options.count ?? 10;
  }

  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((f) => ({ path: f.testFilePath.replace(`${process.cwd()}/`, ''), ms: f.perfStats.end - f.perfStats.start }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, this.count);
    const tests = results.testResults
      .flatMap((f) => f.testResults.map((t) => ({ name: t.fullName, ms: t.duration ?? 0 })))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, this.count);
    const line = (ms, name) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${name}`;
    process.stderr.write(`\nSlowest test files:\n${files.map((f) => line(f.ms, f.path)).join('\n')}\n`);
    process.stderr.write(`Slowest tests:\n${tests.map((t) => line(t.ms, t.name)).join('\n')}\n\n`);
  }
}

module.exports = SlowestTestsReporter;
