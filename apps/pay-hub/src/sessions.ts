import { randomBytes } from 'node:crypto';

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

/**
 * Sessions in this process's memory (docs/adr/0010-pay-hub-sessions.md): a restart signs everyone
 * out, and several replicas need sticky sessions. Ids are 256 random bits; expired ones are
 * dropped when met and by `sweep`.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<string, PendingSignIn>();

  constructor(private readonly now: () => number = Date.now) {}

  create(user: SessionUser, accessToken: string, lifetimeMs: number, tokenExpiresAt?: number): Session {
    const id = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(this.now() + lifetimeMs, tokenExpiresAt ?? Number.POSITIVE_INFINITY);
    const session = { id, user, accessToken, expiresAt };
    this.sessions.set(id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  beginSignIn(sign: Omit<PendingSignIn, 'expiresAt'>): string {
    const state = randomBytes(24).toString('base64url');
    this.pending.set(state, { ...sign, expiresAt: this.now() + PENDING_SIGN_IN_MS });
    return state;
  }

  /** The sign-in waiting under `state`, once: a replayed callback finds nothing. */
  takeSignIn(state: string): PendingSignIn | undefined {
    const found = this.pending.get(state);
    this.pending.delete(state);
    return found && found.expiresAt > this.now() ? found : undefined;
  }

  sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
    for (const [state, sign] of this.pending) if (sign.expiresAt <= now) this.pending.delete(state);
  }
}
