/**
 * An error answered the way Parameter Store answers it: HTTP 400 (500 for our own
 * faults) with `{"__type": <name>, "message": ...}` and `x-amzn-ErrorType`, so SDK v3
 * raises the exception class of the same name and botocore its `ClientError` code.
 */
export class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const validationError = (message: string) => new SsmError('ValidationException', message);

/** The wording AWS (and moto) use for one failed field constraint. */
export function constraintError(field: string, value: unknown, constraint: string): SsmError {
  const shown = value === null || value === undefined ? 'null' : typeof value === 'string' ? `'${value}'` : String(value);
  return validationError(`1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`);
}

export const parameterNotFound = (name: string) => new SsmError('ParameterNotFound', `Parameter ${name} not found.`);
