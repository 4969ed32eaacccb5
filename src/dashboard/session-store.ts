import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProductKeys } from '../core/index.ts';

export type Role = 'admin' | 'read';

export interface Session {
  role: Role;
  created_at: string;
}

/** A session id is 32 random bytes, base64url: anything else in the cookie is malformed. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Server-side login sessions: the cookie holds a random id, Redis holds `sha256(id)` → role, with a TTL.
 * Logout deletes the key, so a copied cookie stops working at once; Redis never holds a usable id.
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ProductKeys,
    private readonly ttlSeconds: number,
  ) {}

  private key(id: string): string {
    return this.keys.custom('session', createHash('sha256').update(id).digest('hex'));
  }

  async create(role: Role): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { role, created_at: new Date().toISOString() };
    await this.redis.set(this.key(id), JSON.stringify(session), 'EX', this.ttlSeconds);
    return id;
  }

  async find(id: string): Promise<Session | null> {
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    try {
      const s = JSON.parse(raw) as Session;
      return s.role === 'admin' || s.role === 'read' ? s : null;
    } catch {
      return null;
    }
  }

  async revoke(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }
}
