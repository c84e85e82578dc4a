/**
 * The one logger shape every module takes: a message, then objects of attributes. Powertools'
 * Logger fits as it is, and so does `console`, so nothing needs a bridge. (The SDK in client/
 * keeps its own, as it imports nothing from core/.)
 */
export interface GenericLogger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** Logs nothing: the default where logging is optional. */
export const SILENT_LOGGER: GenericLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
