/**
 * `config.json` beside index.html says where the API is and how to sign in: written by the local
 * front for `npm start` (dev login with demo identities) and by CDK on AWS (Cognito hosted UI).
 */
export type AuthConfig =
  | { readonly kind: 'local'; readonly identitiesUrl: string }
  | {
      readonly kind: 'cognito';
      /** `https://<prefix>.auth.<region>.amazoncognito.com` */
      readonly domain: string;
      readonly clientId: string;
      readonly region: string;
      readonly scopes: readonly string[];
    };

export interface ConsoleConfig {
  /** The HTTP API's base URL; '' for the page's own origin. */
  readonly apiUrl: string;
  /** Where `GET /v1/events` is served, when not by the API's origin (on AWS: the console's own distribution, which forwards it to the fanout through a VPC origin). @default apiUrl */
  readonly eventsUrl?: string;
  readonly auth: AuthConfig;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return (await res.json()) as ConsoleConfig;
}
