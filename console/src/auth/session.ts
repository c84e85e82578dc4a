/** The signed-in token, per browser tab (sessionStorage): closing the tab signs out. */
import { identityOf, type Identity } from './identity';

const TOKEN = 'tenant-config.token';

export function loadSession(): Identity | undefined {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) return undefined;
  try {
    const who = identityOf(token);
    if (who.expiresAt * 1000 > Date.now()) return who;
  } catch {
    // A token the page cannot read is no session.
  }
  sessionStorage.removeItem(TOKEN);
  return undefined;
}

export function saveSession(token: string): Identity {
  const who = identityOf(token);
  sessionStorage.setItem(TOKEN, token);
  return who;
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN);
}
