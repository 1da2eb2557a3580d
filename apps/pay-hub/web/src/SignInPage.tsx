import { useState } from 'react';
import { api, errorText } from './api';
import { Button, DevelopmentBanner, Field, Form, Notice, Page, Select } from './components';

export function SignInPage({ mode, onSignedIn }: { mode: 'development' | 'oidc'; onSignedIn: () => Promise<void> }) {
  const [role, setRole] = useState<'person' | 'analyst' | 'support'>('person');
  const [sub, setSub] = useState('');
  const [error, setError] = useState('');

  if (mode === 'oidc') {
    return (
      <main id="main">
        <Page title="Sign in to Pay">
          <p>You sign in with your account at the identity provider; the hub never sees your password.</p>
          <a className="button primary" href="/bff/login">
            Sign in
          </a>
        </Page>
      </main>
    );
  }

  const signIn = async (): Promise<void> => {
    setError('');
    try {
      await api('POST', '/bff/dev-sign-in', { role, sub: sub.trim() });
      await onSignedIn();
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  return (
    <main id="main">
      <Page title="Sign in (development)">
        <DevelopmentBanner />
        <Form onSubmit={signIn} label="Development sign-in">
          <Select
            label="Sign in as"
            value={role}
            onChange={(event) => setRole(event.target.value as 'person' | 'analyst' | 'support')}
            options={[
              { value: 'person', text: 'A person' },
              { value: 'analyst', text: 'An analyst' },
              { value: 'support', text: 'A support agent' },
            ]}
          />
          <Field
            label="Id"
            hint="Letters, digits, '_', '-', ':' and '.'; e.g. person-1"
            value={sub}
            onChange={(event) => setSub(event.target.value)}
            required
            autoComplete="off"
          />
          <Notice kind="error">{error}</Notice>
          <Button type="submit">Sign in</Button>
        </Form>
      </Page>
    </main>
  );
}
