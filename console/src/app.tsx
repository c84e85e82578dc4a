/** The page: config, sign-in, then the shell (header, main navigation, the routed view). */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { HttpClient } from './api/http-client';
import { isOperator } from './auth/abilities';
import { ROLE_LABELS, type Identity } from './auth/identity';
import { completeLogin, logoutUrl } from './auth/pkce';
import { clearSession, loadSession, saveSession } from './auth/session';
import { ProblemAlert } from './components/common';
import { loadConfig, type ConsoleConfig } from './config';
import { links, useRoute, type Route } from './router';
import { SessionContext } from './session-context';
import { KeyView } from './views/key-view';
import { KeysView } from './views/keys-view';
import { LayersView } from './views/layers-view';
import { LiveView } from './views/live-view';
import { LoginView } from './views/login-view';
import { RolloutsView } from './views/rollouts-view';
import { TenantsView } from './views/tenants-view';

export function App() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [who, setWho] = useState<Identity | undefined>(() => loadSession());
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    loadConfig()
      .then(async (c) => {
        setConfig(c);
        if (c.auth.kind === 'cognito') {
          const token = await completeLogin(c.auth);
          if (token) setWho(saveSession(token));
        }
      })
      .catch(setError);
  }, []);

  // The token's expiry ends the session: the next call would be a 401 anyway.
  useEffect(() => {
    if (!who) return;
    const timer = setTimeout(
      () => {
        clearSession();
        setWho(undefined);
      },
      Math.max(0, who.expiresAt * 1000 - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [who]);

  const api = useMemo(() => (config ? new HttpClient(config.apiUrl, () => who?.token) : undefined), [config, who]);
  const events = useMemo(() => (config?.eventsUrl ? new HttpClient(config.eventsUrl, () => who?.token) : api), [config, who, api]);

  if (error) return <ProblemAlert error={error} label="The console could not start" />;
  if (!config || !api || !events) return <p class="loading">Loading…</p>;
  if (!who) return <LoginView config={config} onSignIn={(token) => setWho(saveSession(token))} />;

  const signOut = () => {
    clearSession();
    setWho(undefined);
    if (config.auth.kind === 'cognito') location.assign(logoutUrl(config.auth));
  };
  return (
    <SessionContext.Provider value={{ who, api, events }}>
      <Shell who={who} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

type Section = 'tenants' | 'keys' | 'layers' | 'rollouts' | 'live';

interface NavEntry {
  readonly label: string;
  readonly href: string;
  readonly sections: readonly Section[];
}

function navFor(who: Identity): NavEntry[] {
  const entries: NavEntry[] = [];
  // An operator reaches a tenant's keys from the registry, so they belong to Tenants.
  if (isOperator(who)) entries.push({ label: 'Tenants', href: links.tenants(), sections: ['tenants', 'keys'] });
  if (who.tenant) entries.push({ label: 'Keys', href: links.keys(who.tenant), sections: ['keys'] });
  entries.push({ label: 'Defaults & segments', href: links.layers(), sections: ['layers'] });
  if (isOperator(who)) entries.push({ label: 'Rollouts', href: links.rollouts(), sections: ['rollouts'] });
  entries.push({ label: 'Live', href: links.live(), sections: ['live'] });
  return entries;
}

function sectionOf(route: Route, who: Identity): Section {
  switch (route.view) {
    case 'home':
      return who.tenant ? 'keys' : isOperator(who) ? 'tenants' : 'layers';
    case 'key':
      return route.scope.kind === 'platform' || route.scope.kind === 'segment' ? 'layers' : 'keys';
    default:
      return route.view;
  }
}

function Shell({ who, onSignOut }: { who: Identity; onSignOut: () => void }) {
  const route = useRoute();
  const nav = navFor(who);
  const section = sectionOf(route, who);
  const current = nav.find((n) => n.sections.includes(section));
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <h1>Tenant config</h1>
        <p class="who" aria-label="Signed in as">
          <span class="who-name">{who.name}</span> <span class="who-role">{ROLE_LABELS[who.role]}</span>
          {who.tenant ? <span class="who-tenant"> of {who.tenant}</span> : null}
        </p>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main" class="main-nav">
        <ul>
          {nav.map((n) => (
            <li key={n.href}>
              <a href={n.href} aria-current={n === current ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <RoutedView route={route} who={who} />
      </main>
    </div>
  );
}

function RoutedView({ route, who }: { route: Route; who: Identity }) {
  switch (route.view) {
    case 'tenants':
      return <TenantsView />;
    case 'keys':
      return <KeysView tenant={route.tenant} />;
    case 'key': {
      // A tenant principal's own tenant goes through /v1/config, as its token is meant to.
      const scope = route.scope.kind === 'tenant' && route.scope.tenant === who.tenant ? { kind: 'own' as const, tenant: route.scope.tenant } : route.scope;
      return <KeyView key={`${JSON.stringify(scope)} ${route.key}`} scope={scope} itemKey={route.key} />;
    }
    case 'layers':
      return <LayersView layer={route.layer} />;
    case 'rollouts':
      return <RolloutsView id={route.id} />;
    case 'live':
      return <LiveView />;
    case 'home':
      return who.tenant ? <KeysView tenant={who.tenant} /> : isOperator(who) ? <TenantsView /> : <LayersView />;
  }
}
