/**
 * `npm run dev:token -- --sub person-1 --role person` prints an access token that the services
 * started by `npm start` accept (signed with the development identity key). Development only.
 */
import { parseArgs } from 'node:util';
import type { CryptoKey } from 'jose';
import { importJWK, SignJWT } from 'jose';
import { SCOPE_PATTERN } from '@pay/auth';
import { loadDevKeys } from './dev-keys';

const ROLES = ['person', 'service', 'analyst', 'operator', 'advertiser', 'support'];
const USAGE =
  'usage: npm run dev:token -- --sub <id> --role <person|service|analyst|operator|advertiser|support> [--scope instruments:read] [--merchants m-1,m-2 --org org-1] [--minutes 60]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string' },
      merchants: { type: 'string' },
      org: { type: 'string' },
      scope: { type: 'string' },
      minutes: { type: 'string', default: '60' },
    },
    strict: true,
  });
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
    .setAudience(process.env.AUTH_AUDIENCE ?? 'pay-api')
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(`${minutes}m`)
    .sign(key);
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dev:token: ${(error as Error).message}\n`);
  process.exit(1);
});
