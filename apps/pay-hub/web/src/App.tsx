import { useCallback, useEffect, useState } from 'react';
import type { SessionAnswer } from './api';
import { api } from './api';
import { Button, Notice } from './components';
import { Link, navigate, usePath } from './router';
import { SignInPage } from './SignInPage';
import { AnalyticsPage } from './analyst/AnalyticsPage';
import { AppsPage } from './person/AppsPage';
import { MethodsPage } from './person/MethodsPage';
import { PaymentDetailPage } from './person/PaymentDetailPage';
import { PaymentsPage } from './person/PaymentsPage';
import { PrivacyPage } from './person/PrivacyPage';
import { SecurityPage } from './person/SecurityPage';
import { ShopPage } from './person/ShopPage';
import { SupportPage } from './support/SupportPage';

const PERSON_NAV = [
  { to: '/payments', text: 'Payments' },
  { to: '/methods', text: 'Payment methods' },
  { to: '/apps', text: 'Pay in apps' },
  { to: '/security', text: 'PIN and passkeys' },
  { to: '/privacy', text: 'Privacy' },
];

export function App() {
  const path = usePath();
  const [session, setSession] = useState<SessionAnswer | undefined>();
  const [failure, setFailure] = useState('');

  const refresh = useCallback(async () => {
    try {
      // 200 when signed in, 401 when not: both say how to sign in.
      const response = await fetch('/bff/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      setSession((await response.json()) as SessionAnswer);
    } catch {
      setFailure('The hub cannot be reached. Try again in a moment.');
    }
  }, []);

  useEffect(() => void refresh(), [refresh]);

  if (failure) return <Notice kind="error">{failure}</Notice>;
  if (!session) return <p role="status">Loading…</p>;
  if (!session.signedIn || !session.user) return <SignInPage mode={session.signIn.mode} onSignedIn={refresh} />;

  const { user } = session;
  const signOut = async (): Promise<void> => {
    await api('POST', '/bff/sign-out');
    navigate('/');
    await refresh();
  };
  const nav =
    user.role === 'person'
      ? [...PERSON_NAV, ...(session.signIn.mode === 'development' ? [{ to: '/shop', text: 'Shop (development)' }] : [])]
      : user.role === 'support'
        ? [{ to: '/support', text: 'Support' }]
        : [{ to: '/analytics', text: 'Analytics' }];

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Pay Hub</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.to}>
                <Link to={item.to}>{item.text}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <span>
          Signed in as <strong>{user.sub}</strong> ({user.role})
        </span>
        <Button variant="secondary" onClick={() => void signOut()}>
          Sign out
        </Button>
      </header>
      <main id="main">
        {user.role === 'person' ? (
          <PersonRoutes path={path} personId={user.sub} development={session.signIn.mode === 'development'} />
        ) : user.role === 'support' ? (
          <SupportPage agentId={user.sub} />
        ) : (
          <AnalyticsPage />
        )}
      </main>
    </>
  );
}

function PersonRoutes({ path, personId, development }: { path: string; personId: string; development: boolean }) {
  const detail = /^\/payments\/([^/]+)$/.exec(path);
  if (detail) return <PaymentDetailPage personId={personId} paymentId={decodeURIComponent(detail[1])} />;
  switch (path) {
    case '/methods':
      return <MethodsPage personId={personId} />;
    case '/apps':
      return <AppsPage personId={personId} />;
    case '/security':
      return <SecurityPage personId={personId} />;
    case '/privacy':
      return <PrivacyPage personId={personId} />;
    case '/shop':
      return development ? <ShopPage personId={personId} /> : <PaymentsPage personId={personId} />;
    default:
      return <PaymentsPage personId={personId} />;
  }
}
