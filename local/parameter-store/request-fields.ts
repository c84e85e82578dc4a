import { SsmError } from './ssm-error';

/**
 * Typed access to a JSON request body. A field of the wrong JSON type is a
 * SerializationException, as AWS answers a body its deserializer cannot read.
 */
export class RequestFields {
  constructor(private readonly body: Record<string, unknown>) {}

  static parse(text: string): RequestFields {
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new SsmError('SerializationException', 'Start of structure or map found where not expected.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new SsmError('SerializationException', 'Start of structure or map found where not expected.');
    }
    return new RequestFields(parsed as Record<string, unknown>);
  }

  string(field: string): string | undefined {
    return this.typed(field, 'string', (v): v is string => typeof v === 'string');
  }

  boolean(field: string): boolean | undefined {
    return this.typed(field, 'boolean', (v): v is boolean => typeof v === 'boolean');
  }

  integer(field: string): number | undefined {
    return this.typed(field, 'integer', (v): v is number => typeof v === 'number' && Number.isInteger(v));
  }

  strings(field: string): string[] | undefined {
    return this.typed(field, 'list of strings', (v): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string'));
  }

  /** A list of structures with string members (Tags, ParameterFilters). */
  structures<T>(field: string, shape: Record<string, 'string' | 'strings'>): T[] | undefined {
    const list = this.typed(field, 'list', (v): v is unknown[] => Array.isArray(v));
    if (list === undefined) return undefined;
    return list.map((entry, i) => {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw mismatch(`${field}.${i + 1}`, 'structure');
      const inner = new RequestFields(entry as Record<string, unknown>);
      const out: Record<string, unknown> = {};
      for (const [member, kind] of Object.entries(shape)) {
        const value = kind === 'string' ? inner.string(member) : inner.strings(member);
        if (value !== undefined) out[member] = value;
      }
      return out as T;
    });
  }

  private typed<T>(field: string, what: string, guard: (v: unknown) => v is T): T | undefined {
    const value = this.body[field];
    if (value === undefined || value === null) return undefined;
    if (!guard(value)) throw mismatch(field, what);
    return value;
  }
}

const mismatch = (field: string, what: string) => new SsmError('SerializationException', `Expected ${what} for field ${field}.`);
