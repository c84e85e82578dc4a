/** Asks the service's token provider for a token; a failure or an empty answer comes back as an Error, never thrown. */
export async function fetchToken(provider: () => string | Promise<string>): Promise<string | Error> {
  try {
    const token = await provider();
    if (typeof token !== 'string' || token === '') return new Error('the token provider returned no token');
    return token;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
