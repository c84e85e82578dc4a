/** The shared flag vectors (test/fixtures/flag-vectors.json), typed, for the core, API and SDK tests. */
import data from '../fixtures/flag-vectors.json';
import type { FlagContext, FlagEvaluation, FlagValueType } from '../../core/flags/evaluate-flag';

export interface FlagVector {
  readonly description: string;
  readonly flag: string;
  /** Absent: the flag does not exist. */
  readonly value?: unknown;
  readonly tenantId?: string;
  readonly tenantAttributes?: Readonly<Record<string, string>>;
  readonly context?: FlagContext;
  readonly expectedType?: FlagValueType;
  readonly expected: Omit<FlagEvaluation, 'errorMessage'>;
  readonly bucket?: number;
}

export const FLAG_VECTORS: readonly FlagVector[] = (data as unknown as { vectors: FlagVector[] }).vectors;

/** The answer without the message (messages are for people, not compared). */
export const withoutMessage = ({ errorMessage: _ignored, ...rest }: FlagEvaluation): Omit<FlagEvaluation, 'errorMessage'> => rest;
