import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ackEnabled, confirmReplicated, ReplicaAckError, type AckPolicy, type Logger } from '../core/index.ts';

/**
 * How long a worker waits for a replica to confirm before it goes on without one. Longer than a
 * Sentinel switch takes to reach the clients (+switch-master, or READONLY from the demoted primary);
 * past it the replicas are taken to be down rather than switching, and the worker runs unconfirmed.
 */
export const REPLICA_GUARD_MS = 15_000;

/** Extends the job's lock only if it is still this worker's: a write, so WAIT has something to confirm. */
const TOUCH_OWN_LOCK = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return -1 end
return 0`;

/**
 * Shared by one worker's guards: once a guard gave up (replicas down, not a switch), the next ones try
 * once instead of waiting their whole budget, until a replica confirms again.
 */
export interface ReplicaHealth {
  degraded: boolean;
}

export interface ReplicaGuardDeps {
  redis: Redis;
  /** Any key of the install: in a Cluster, WAIT goes to the master owning its slot. */
  slotKey: string;
  health?: ReplicaHealth;
  replicas: AckPolicy;
  ackTimeoutMs: number;
  lockMs: number;
  logger: Logger;
  budgetMs?: number;
}

export type StartVerdict = 'confirmed' | 'unconfirmed' | 'lost';

/**
 * Before a cycle analyses: is the job still ours on the primary we talk to, and does a replica hold
 * that? After SENTINEL FAILOVER the old primary keeps taking writes for a moment and then throws them
 * away; a job taken there would be analysed here and again on the new primary. `lost` means the job is
 * another worker's (or not active) on the current primary: the caller must not analyse it.
 */
export async function confirmJobStart(deps: ReplicaGuardDeps, lockKey: string, token: string | undefined): Promise<StartVerdict> {
  if (!ackEnabled(deps.replicas) || !token) return 'confirmed';
  const deadline = Date.now() + (deps.budgetMs ?? REPLICA_GUARD_MS);
  let warned = false;
  // Last answer of the lock check: 1 ours, 0 absent, null not known (Redis errors).
  let mine: number | null = null;
  for (;;) {
    try {
      mine = Number(await deps.redis.eval(TOUCH_OWN_LOCK, 1, lockKey, token, String(deps.lockMs)));
      if (mine === -1) return 'lost';
      if (mine === 1) {
        await confirmReplicated(deps.redis, deps.replicas, deps.ackTimeoutMs, lockKey);
        if (deps.health) deps.health.degraded = false;
        return 'confirmed';
      }
    } catch (err) {
      if (!(err instanceof ReplicaAckError) && !warned) deps.logger.warn({ err: (err as Error).message }, 'job start not confirmed yet; retrying');
      if (err instanceof ReplicaAckError && !warned && !deps.health?.degraded) deps.logger.warn({ err: err.message }, 'job start not confirmed by a replica yet (failover?); waiting before analysing');
      warned = true;
    }
    // Absent all along: it was taken on a primary that is gone. Ours but unconfirmed: replicas down.
    if (mine === 0 && Date.now() > deadline) return 'lost';
    if (mine !== 0 && (Date.now() > deadline || (mine === 1 && deps.health?.degraded))) {
      if (!deps.health?.degraded) deps.logger.warn({ budgetMs: deps.budgetMs ?? REPLICA_GUARD_MS }, 'no replica confirmed the job start; analysing without that guarantee until one does');
      if (deps.health) deps.health.degraded = true;
      return 'unconfirmed';
    }
    await sleep(mine === 0 ? 200 : 50);
  }
}

/**
 * Runs `write` (idempotent) until a replica confirms it, re-running it after a switch so it lands on the
 * new primary too. Answers false when no replica confirmed within the budget (the write was made).
 */
export async function writeConfirmed<T>(deps: ReplicaGuardDeps, what: string, write: () => Promise<T>): Promise<{ value: T; confirmed: boolean }> {
  let value = await write();
  if (!ackEnabled(deps.replicas)) return { value, confirmed: true };
  const deadline = Date.now() + (deps.budgetMs ?? REPLICA_GUARD_MS);
  let warned = false;
  for (;;) {
    try {
      await confirmReplicated(deps.redis, deps.replicas, deps.ackTimeoutMs, deps.slotKey);
      if (deps.health) deps.health.degraded = false;
      return { value, confirmed: true };
    } catch (err) {
      if (!warned && !deps.health?.degraded) deps.logger.warn({ err: (err as Error).message, step: what }, `${what} not confirmed by a replica yet (failover?); writing it again`);
      warned = true;
    }
    if (Date.now() > deadline || deps.health?.degraded) {
      if (!deps.health?.degraded) deps.logger.warn({ step: what }, `${what} not confirmed by a replica; going on without that guarantee until one confirms`);
      if (deps.health) deps.health.degraded = true;
      return { value, confirmed: false };
    }
    await sleep(50);
    value = await write().catch(() => value);
  }
}
