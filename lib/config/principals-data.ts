/**
 * The principals registry (registry/principals.json) as the infrastructure reads it: the Cognito
 * groups, the resource server and its scopes. The runtime reads the same file, so a scope the
 * user pool grants is the scope the API checks.
 */
import principalsJson from '../../registry/principals.json';

export interface ScopeDefinition {
  readonly name: string;
  readonly description: string;
}

export interface PrincipalsDocument {
  readonly groups: { readonly tenantAdmin: string; readonly operator: string };
  readonly resourceServer: { readonly identifier: string; readonly name: string };
  readonly scopes: Readonly<Record<string, ScopeDefinition>>;
}

/** The shipped registry. */
export const PRINCIPALS: PrincipalsDocument = principalsJson;

/** A scope as a service asks for it: its name on the resource server (`read`, `read-secrets`). */
export type ServiceScopeName = string;

/** The scope every service client needs (the runtime refuses a client-credentials token without it). */
export const READ_SCOPE: ServiceScopeName = PRINCIPALS.scopes.read.name;
export const READ_SECRETS_SCOPE: ServiceScopeName = PRINCIPALS.scopes.readSecrets.name;
/** Every scope of the resource server, in registry order. */
export const SERVICE_SCOPE_NAMES: readonly ServiceScopeName[] = Object.values(PRINCIPALS.scopes).map((s) => s.name);

/** `<identifier>/<name>`: a scope as tokens carry it. */
export const qualifiedScope = (name: ServiceScopeName): string => `${PRINCIPALS.resourceServer.identifier}/${name}`;

/** A consuming service that gets its own client-credentials app client. */
export interface ServiceClientSpec {
  /** Lower-case letters, digits and single hyphens, 1-32 characters, starting with a letter (e.g. `billing`). */
  readonly name: string;
  /** Resource-server scopes the client may request: `['read']` or `['read', 'read-secrets']`. */
  readonly scopes: readonly ServiceScopeName[];
}

/** Ends up in the app client's name, a construct id and an output name. */
export const SERVICE_NAME_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,31}$/;

/** `billing-eu` → `BillingEu`: the construct id and output name of a service's client. */
export const servicePascalName = (name: string): string =>
  name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/**
 * Checks a list of service clients before anything is built; throws naming the first bad entry.
 * Returns the list with each client's scopes in registry order (so reordering them changes no template).
 */
export function validateServiceClients(services: readonly ServiceClientSpec[]): ServiceClientSpec[] {
  if (!Array.isArray(services)) throw new Error('services must be a list of { name, scopes }');
  const seen = new Map<string, string>();
  return services.map((service, index) => {
    const name: unknown = service?.name;
    if (typeof name !== 'string' || !SERVICE_NAME_PATTERN.test(name)) {
      throw new Error(
        `service #${index + 1}: name ${JSON.stringify(name)} must be 1-32 lower-case letters, digits or single hyphens, starting with a letter (e.g. billing)`,
      );
    }
    // 'billing-eu' and 'billingeu' would share a construct id and an output name.
    const id = servicePascalName(name).toLowerCase();
    const clash = seen.get(id);
    if (clash !== undefined)
      throw new Error(`service '${name}' is listed twice${clash === name ? '' : ` (as '${clash}' too: names may not differ only in hyphens)`}`);
    seen.set(id, name);
    const scopes: unknown = service.scopes;
    if (!Array.isArray(scopes) || scopes.length === 0) throw new Error(`service '${name}': scopes must list at least '${READ_SCOPE}'`);
    for (const scope of scopes) {
      if (typeof scope !== 'string' || !SERVICE_SCOPE_NAMES.includes(scope)) {
        throw new Error(`service '${name}': unknown scope ${JSON.stringify(scope)} (expected ${SERVICE_SCOPE_NAMES.map((s) => `'${s}'`).join(' or ')})`);
      }
    }
    if (new Set(scopes).size !== scopes.length) throw new Error(`service '${name}': a scope is listed twice`);
    if (!scopes.includes(READ_SCOPE)) throw new Error(`service '${name}': scopes must include '${READ_SCOPE}' (a token without it is refused)`);
    return { name, scopes: SERVICE_SCOPE_NAMES.filter((s) => scopes.includes(s)) };
  });
}
