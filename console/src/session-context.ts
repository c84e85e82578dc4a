/** The signed-in identity and its API client, for every view. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { HttpClient } from './api/http-client';
import type { Identity } from './auth/identity';

export interface Session {
  readonly who: Identity;
  readonly api: HttpClient;
  /** The client for `GET /v1/events`: the API's, unless config.json names another origin. */
  readonly events: HttpClient;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
