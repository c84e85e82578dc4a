/** Questions on the terminal (password without echo) or, when stdin is not a terminal, one line of stdin per question. */
import { createInterface, type Interface } from 'node:readline';
import { CliError } from './errors';

let lines: Interface | undefined;
const pending: string[] = [];
const waiting: Array<(line: string | undefined) => void> = [];
let ended = false;

function lineReader(): void {
  if (lines) return;
  lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else pending.push(line);
  });
  lines.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
}

export function closePrompts(): void {
  lines?.close();
  lines = undefined;
}

/** Asks on stderr; `silent` turns echo off on a terminal. */
export async function ask(question: string, silent = false): Promise<string> {
  if (process.stdin.isTTY) return askTerminal(question, silent);
  lineReader();
  const line = pending.length > 0 ? pending.shift() : ended ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve));
  if (line === undefined) throw new CliError(`${question.trim()} no answer on stdin`);
  return line.trim();
}

function askTerminal(question: string, silent: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (silent) {
      const out = rl as unknown as { _writeToOutput: (s: string) => void };
      out._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stderr.write(question);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (silent) process.stderr.write('\n');
      resolve(answer.trim());
    });
  });
}
