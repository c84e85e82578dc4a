/** The machine a benchmark ran on, for every results file and table. */
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly totalMemoryMiB: number;
  readonly platform: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':')[1].trim();
  } catch {
    // Not Linux: keep os.cpus()'s model.
  }
  return {
    nproc: cpus().length,
    cpuModel,
    node: process.version,
    totalMemoryMiB: Math.round(totalmem() / 1024 / 1024),
    platform: `${process.platform}-${process.arch}`,
  };
}

export const describeMachine = (m: MachineInfo): string => `${m.nproc} × ${m.cpuModel}, ${m.totalMemoryMiB} MiB, node ${m.node}`;
