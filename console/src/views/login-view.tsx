/** Sign-in: the Cognito hosted UI on AWS, or a demo identity of the local dev signer under npm start. */
import { useState } from 'preact/hooks';
import { startLogin } from '../auth/pkce';
import { ProblemAlert, useAsync } from '../components/common';
import type { ConsoleConfig } from '../config';

interface DemoIdentity {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly token: string;
}

export function LoginView({ config, onSignIn }: { config: ConsoleConfig; onSignIn: (token: string) => void }) {
  return (
    <main class="login" id="main">
      <h1>Tenant config console</h1>
      {config.auth.kind === 'local' ? <LocalLogin url={config.auth.identitiesUrl} onSignIn={onSignIn} /> : <CognitoLogin config={config} />}
    </main>
  );
}

function CognitoLogin({ config }: { config: ConsoleConfig }) {
  const [error, setError] = useState<unknown>();
  const auth = config.auth;
  if (auth.kind !== 'cognito') return null;
  return (
    <section aria-labelledby="login-heading">
      <h2 id="login-heading">Sign in</h2>
      <p>You are sent to the sign-in page of the service's user pool and back.</p>
      <button type="button" onClick={() => startLogin(auth).catch(setError)}>
        Sign in
      </button>
      <ProblemAlert error={error} />
    </section>
  );
}

function LocalLogin({ url, onSignIn }: { url: string; onSignIn: (token: string) => void }) {
  const identities = useAsync(
    async (signal) => {
      const res = await fetch(url, { signal, cache: 'no-store' });
      if (!res.ok) throw new Error(`demo identities: HTTP ${res.status}`);
      return ((await res.json()) as { identities: DemoIdentity[] }).identities;
    },
    [url],
  );
  return (
    <section aria-labelledby="login-heading">
      <h2 id="login-heading">Sign in as a demo identity</h2>
      <p>
        Local development only: <code>npm start</code> signs these tokens with its dev signer. On AWS this page signs in through Cognito.
      </p>
      <ProblemAlert error={identities.error} />
      <ul class="identities">
        {(identities.data ?? []).map((identity) => (
          <li key={identity.id}>
            <button type="button" onClick={() => onSignIn(identity.token)} data-identity={identity.id}>
              {identity.label}
            </button>
            <span class="hint">{identity.description}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
