import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Who is signed in: what the web app may know (never the token itself). */
export interface SessionUser {
  sub: string;
  role: 'person' | 'analyst' | 'support';
}

export interface Session {
  id: string;
  user: SessionUser;
  /** The access token, kept here on the server: the browser holds only the session cookie. */
  accessToken: string;
  expiresAt: number;
}

/** A sign-in in progress (OIDC): the PKCE verifier and nonce wait here for the callback, under `state`. */
export interface PendingSignIn {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  expiresAt: number;
}

const PENDING_SIGN_IN_MS = 10 * 60_000;
/** Session ids and states are 256 and 192 random bits, base64url: anything else is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const STATE = /^[A-Za-z0-9_-]{32}$/;

const lookupKey = (secret: string): Buffer => createHash('sha256').update(secret).digest();

function sealingKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `pay-hub ${purpose} v1`, 32));
}

/** AES-256-GCM under a key derived from the cookie's id (or state): iv ‖ ciphertext ‖ tag. */
function seal(secret: string, purpose: string, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret, purpose), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

function unseal(secret: string, purpose: string, sealed: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(secret, purpose), sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

interface SessionRow {
  subject: string;
  role: SessionUser['role'];
  sealed_access_token: Buffer;
  expires_at: Date;
}

interface PendingRow {
  sealed_code_verifier: Buffer;
  nonce: string;
  return_to: string;
  expires_at: Date;
}

/**
 * Sessions in PostgreSQL (the hub's own schema, docs/adr/0010-pay-hub-sessions.md): they outlive a
 * restart and every replica sees them, so no sticky sessions. The cookie's id is 256 random bits;
 * a row is found by its SHA-256 and its access token sealed with a key derived from the id, so
 * whoever reads the table can neither present a session nor use its token. Expired rows are never
 * served and are deleted at the next sign-in (`sweep`): the store polls nothing.
 */
export class SessionStore {
  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
  ) {}

  async create(user: SessionUser, accessToken: string, lifetimeMs: number, tokenExpiresAt?: number): Promise<Session> {
    await this.sweep();
    const id = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(this.now() + lifetimeMs, tokenExpiresAt ?? Number.POSITIVE_INFINITY);
    await this.db.query('INSERT INTO sessions (id_hash, subject, role, sealed_access_token, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      lookupKey(id),
      user.sub,
      user.role,
      seal(id, 'session', accessToken),
      new Date(expiresAt),
    ]);
    return { id, user, accessToken, expiresAt };
  }

  async get(id: string | undefined): Promise<Session | undefined> {
    if (id === undefined || !SESSION_ID.test(id)) return undefined;
    const rows: SessionRow[] = await this.db.query(
      'SELECT subject, role, sealed_access_token, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2',
      [lookupKey(id), new Date(this.now())],
    );
    const row = rows[0];
    const accessToken = row && unseal(id, 'session', row.sealed_access_token);
    if (!row || accessToken === undefined) return undefined;
    return { id, user: { sub: row.subject, role: row.role }, accessToken, expiresAt: row.expires_at.getTime() };
  }

  async end(id: string | undefined): Promise<void> {
    if (id !== undefined && SESSION_ID.test(id)) await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [lookupKey(id)]);
  }

  async beginSignIn(sign: Omit<PendingSignIn, 'expiresAt'>): Promise<string> {
    await this.sweep();
    const state = randomBytes(24).toString('base64url');
    await this.db.query('INSERT INTO pending_sign_ins (state_hash, sealed_code_verifier, nonce, return_to, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      lookupKey(state),
      seal(state, 'sign-in', sign.codeVerifier),
      sign.nonce,
      sign.returnTo,
      new Date(this.now() + PENDING_SIGN_IN_MS),
    ]);
    return state;
  }

  /** The sign-in waiting under `state`, once, on whichever replica the callback reaches: a replayed callback finds nothing. */
  async takeSignIn(state: string): Promise<PendingSignIn | undefined> {
    if (!STATE.test(state)) return undefined;
    const [rows]: [PendingRow[], number] = await this.db.query(
      'DELETE FROM pending_sign_ins WHERE state_hash = $1 RETURNING sealed_code_verifier, nonce, return_to, expires_at',
      [lookupKey(state)],
    );
    const row = rows[0];
    if (!row || row.expires_at.getTime() <= this.now()) return undefined;
    const codeVerifier = unseal(state, 'sign-in', row.sealed_code_verifier);
    return codeVerifier === undefined ? undefined : { codeVerifier, nonce: row.nonce, returnTo: row.return_to, expiresAt: row.expires_at.getTime() };
  }

  /** Deletes expired sessions and sign-ins (they are never served either way). */
  async sweep(): Promise<void> {
    const now = new Date(this.now());
    await this.db.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
    await this.db.query('DELETE FROM pending_sign_ins WHERE expires_at <= $1', [now]);
  }
}
