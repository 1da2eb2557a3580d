/**
 * `npm run dev:token -- --sub person-1 --role person` prints an access token that the services
 * started by `npm start` accept (signed with the development identity key). `--app instagram`
 * prints instagram's backend's token instead, signed with that backend's own key: subject
 * `instagram-backend`, its app, its merchants and the app backends' scopes. That token opens no
 * person's route: `--app instagram --for person-1` prints the token the identity provider issues
 * instagram's backend to act for person-1 (RFC 8693 token exchange: subject person-1, role person,
 * `app`, `act: {sub: "instagram-backend"}`), signed with the development identity key. Development only.
 */
import { parseArgs } from 'node:util';
import type { CryptoKey } from 'jose';
import { importJWK, SignJWT } from 'jose';
import { SCOPE_PATTERN } from '@pay/auth';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import { DEV_APP_BACKENDS, loadDevKeys } from './dev-keys';

const ROLES = ['person', 'service', 'analyst', 'operator', 'advertiser', 'support'];
const USAGE =
  'usage: npm run dev:token -- --sub <id> --role <person|service|analyst|operator|advertiser|support> [--scope instruments:read] [--merchants m-1,m-2 --org org-1] [--minutes 60]\n' +
  `   or: npm run dev:token -- --app <${Object.keys(DEV_APP_BACKENDS).join('|')}> [--for <personId>] [--minutes 60]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string' },
      merchants: { type: 'string' },
      org: { type: 'string' },
      scope: { type: 'string' },
      app: { type: 'string' },
      for: { type: 'string' },
      minutes: { type: 'string', default: '60' },
    },
    strict: true,
  });
  if (values.for !== undefined && values.app === undefined) throw new Error(`--for names the person an app's backend acts for: give --app too\n${USAGE}`);
  if (values.app !== undefined && values.for !== undefined) {
    process.stdout.write(`${await delegatedPersonToken(values.app, values.for, values.minutes)}\n`);
    return;
  }
  if (values.app !== undefined) {
    process.stdout.write(`${await appBackendToken(values.app, values.minutes)}\n`);
    return;
  }
  if (!values.sub || !/^[A-Za-z0-9_.:-]{1,100}$/.test(values.sub))
    throw new Error(`--sub must be 1 to 100 of letters, digits, "_", "-", ":" and "."\n${USAGE}`);
  if (!values.role || !ROLES.includes(values.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw new Error(`--minutes must be a whole number from 1 to 1440\n${USAGE}`);
  const merchants = values.merchants
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (values.role === 'advertiser' && (!values.org || !/^[A-Za-z0-9_.:-]{1,100}$/.test(values.org))) {
    throw new Error(`an advertiser acts for an organisation: --org, 1 to 100 of letters, digits, "_", "-", ":" and "."\n${USAGE}`);
  }
  const scopes = values.scope?.split(/[ ,]+/).filter(Boolean) ?? [];
  if (!scopes.every((scope) => SCOPE_PATTERN.test(scope))) throw new Error(`--scope must list scopes like instruments:read\n${USAGE}`);
  const { identityProvider } = await loadDevKeys();
  const key = (await importJWK(identityProvider, 'ES256')) as CryptoKey;
  const token = await new SignJWT({
    role: values.role,
    ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    ...(merchants ? { merchants } : {}),
    ...(values.role === 'advertiser' ? { org: values.org } : {}),
  })
    .setProtectedHeader({ alg: 'ES256', kid: identityProvider.kid })
    .setIssuer(process.env.AUTH_ISSUER ?? 'https://id.pay.local')
    // An agent's token is for the support service alone, as the identity provider issues it.
    .setAudience(values.role === 'support' ? (process.env.AUTH_AGENT_AUDIENCE ?? 'pay-support') : (process.env.AUTH_AUDIENCE ?? 'pay-api'))
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(`${minutes}m`)
    .sign(key);
  process.stdout.write(`${token}\n`);
}

/** An app backend's token, signed with its own development key (what its grant allows, nothing more). */
async function appBackendToken(app: string, minutesText: string | undefined): Promise<string> {
  const merchants = DEV_APP_BACKENDS[app];
  if (!merchants) throw new Error(`--app must be one of ${Object.keys(DEV_APP_BACKENDS).join(', ')}\n${USAGE}`);
  const minutes = Number(minutesText ?? '60');
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw new Error(`--minutes must be a whole number from 1 to 1440\n${USAGE}`);
  const key = (await loadDevKeys()).appBackends![app];
  return new SignJWT({ role: 'service', app, merchants: [...merchants], scope: APP_BACKEND_SCOPES.join(' ') })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(process.env.AUTH_ISSUER ?? 'https://id.pay.local')
    .setAudience(process.env.AUTH_AUDIENCE ?? 'pay-api')
    .setSubject(`${app}-backend`)
    .setIssuedAt()
    .setExpirationTime(`${minutes}m`)
    .sign(await importJWK(key, 'ES256'));
}

/** The person's token the identity provider issues an app's backend to act for them (RFC 8693 token exchange). */
async function delegatedPersonToken(app: string, personId: string, minutesText: string | undefined): Promise<string> {
  if (!DEV_APP_BACKENDS[app]) throw new Error(`--app must be one of ${Object.keys(DEV_APP_BACKENDS).join(', ')}\n${USAGE}`);
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(personId)) throw new Error(`--for must be 1 to 100 of letters, digits, "_", "-", ":" and "."\n${USAGE}`);
  const minutes = Number(minutesText ?? '60');
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw new Error(`--minutes must be a whole number from 1 to 1440\n${USAGE}`);
  const { identityProvider } = await loadDevKeys();
  return new SignJWT({ role: 'person', app, act: { sub: `${app}-backend` } })
    .setProtectedHeader({ alg: 'ES256', kid: identityProvider.kid })
    .setIssuer(process.env.AUTH_ISSUER ?? 'https://id.pay.local')
    .setAudience(process.env.AUTH_AUDIENCE ?? 'pay-api')
    .setSubject(personId)
    .setIssuedAt()
    .setExpirationTime(`${minutes}m`)
    .sign(await importJWK(identityProvider, 'ES256'));
}

main().catch((error: unknown) => {
  process.stderr.write(`dev:token: ${(error as Error).message}\n`);
  process.exit(1);
});
