import { SsmError, validationError } from './ssm-error';

/** Parameter Store's documented naming constraints (PutParameter, "Naming Constraints"). */
export const MAX_HIERARCHY_LEVELS = 15;
/** The documented limit of the fully qualified name (the API's 2048 includes room for the ARN). */
export const MAX_NAME_LENGTH = 1011;

const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;

const INVALID_NAME_MESSAGE =
  'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by ' +
  'slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

/**
 * Checks a name for PutParameter as AWS does and returns it with the surrounding
 * spaces removed (AWS strips them; spaces inside the name are refused).
 */
export function checkParameterName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0) {
    throw validationError("1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw validationError(`Parameter name: the fully qualified name exceeds the maximum length of ${MAX_NAME_LENGTH} characters.`);
  }
  const lower = name.toLowerCase().replace(/^\//, '');
  if (lower.startsWith('aws') || lower.startsWith('ssm')) {
    const isPath = name.split('/').length > 2;
    if (name.toLowerCase().startsWith('/aws') && isPath) {
      throw new SsmError('AccessDeniedException', `No access to reserved parameter name: ${name}.`);
    }
    throw validationError(isPath ? INVALID_NAME_MESSAGE : 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  }
  const hierarchical = name.includes('/');
  if (!NAME_CHARS.test(name) || (hierarchical && (!name.startsWith('/') || name.endsWith('/') || name.includes('//')))) {
    throw validationError(INVALID_NAME_MESSAGE);
  }
  const levels = name.split('/').filter((s) => s !== '').length;
  if (levels > MAX_HIERARCHY_LEVELS) {
    throw new SsmError(
      'HierarchyLevelLimitExceededException',
      `A hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide.`,
    );
  }
  return name;
}

/**
 * The identity of a name in the store: Parameter Store treats `/name` (one level)
 * and `name` as the same parameter.
 */
export function storageKey(name: string): string {
  return name.startsWith('/') && name.indexOf('/', 1) < 0 ? name.slice(1) : name;
}

/** `name`, `name:3` (a version) or `name:label`. */
export interface ParameterReference {
  readonly name: string;
  readonly version?: number;
  readonly label?: string;
  /** As AWS echoes it: `:3` or `:label`. */
  readonly selector?: string;
}

/** Splits a GetParameter(s) name into name and selector; undefined when it cannot name any parameter. */
export function parseReference(raw: string): ParameterReference | undefined {
  const parts = raw.split(':');
  if (parts.length > 2 || parts[0] === '') return undefined;
  if (parts.length === 1) return { name: raw };
  const selector = parts[1];
  if (/^[0-9]+$/.test(selector)) return { name: parts[0], version: Number(selector), selector: `:${selector}` };
  return { name: parts[0], label: selector, selector: `:${selector}` };
}

/** Path argument of GetParametersByPath / the Path filter: `/` or `/a/b` (a trailing slash is allowed). */
export function checkPath(path: string): string {
  if (!path.startsWith('/') || path.includes('//') || !NAME_CHARS.test(path)) {
    throw validationError(
      'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". ' +
        'It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: ' +
        '. (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the ' +
        'forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.',
    );
  }
  return path;
}
