import type { Redis } from 'ioredis';
import type { MarketCalendar } from '../calendar/index.ts';
import {
  createPendingApproval,
  readApproval,
  readApprovalPayload,
  settleApprovalState,
  storeApprovalFill,
  type ApprovalView,
  type Config,
  type ProductKeys,
} from '../core/index.ts';
import { idleWhen, loadSettleFunction, settlesNothing, type SettleFunction } from './cycle-execution.ts';

/**
 * Human in the loop: for a profile with `approval: required`, the worker's settle step records the
 * decision as waiting instead of filling it. Only an approval runs the real settle step (the paper
 * fill at the decision's price, once per job id); a rejection or the session's close ends it unfilled.
 */
export function gateForApproval(settle: SettleFunction, deps: { redis: Redis; keys: ProductKeys; calendar: Pick<MarketCalendar, 'nextSessionWindow'>; now?: () => Date }): SettleFunction {
  const gated: SettleFunction = async (analysis, job, ctx) => {
    if (job.profile.approval !== 'required') return settle(analysis, job, ctx);
    const now = deps.now?.() ?? new Date();
    // The session the decision is for: the one open now, else the next one. It expires at that close.
    const expiresAt = deps.calendar.nextSessionWindow(now, 'regular').close;
    await createPendingApproval(deps.redis, deps.keys, ctx.jobId, { analysis, job, expiresAt, now });
    return { ...analysis, fill: null, fill_note: `awaiting approval (expires ${expiresAt.toISOString()})`, awaiting_approval: true };
  };
  return idleWhen(gated, (job) => job.profile.approval !== 'required' && settlesNothing(settle, job));
}

export type DecideResult = { outcome: 'settled'; approval: ApprovalView } | { outcome: 'refused'; approval: ApprovalView } | null;

/** Approves (fills) or rejects a waiting decision. An approval whose fill was interrupted is completed. */
export async function decideApproval(
  env: { redis: Redis; keys: ProductKeys; config: Config },
  jobId: string,
  action: 'approve' | 'reject',
  who: { by: string; note?: string | null; now?: Date },
): Promise<DecideResult> {
  const { redis, keys, config } = env;
  const now = who.now ?? new Date();
  const current = await readApproval(redis, keys, jobId, now);
  if (!current) return null;
  if (current.status === 'pending') {
    await settleApprovalState(redis, keys, jobId, action === 'approve' ? 'approved' : 'rejected', who.by, who.note ?? null, now);
  } else if (!(action === 'approve' && current.fill_pending)) {
    return { outcome: 'refused', approval: current };
  }
  let after = (await readApproval(redis, keys, jobId, now))!;
  if (after.status === 'approved' && after.fill_pending) {
    const payload = await readApprovalPayload(redis, keys, jobId);
    if (payload) {
      const settle = await loadSettleFunction(config);
      // The settle step fills at the analysis's own price, once per job id (the ledger's marker).
      const settled = await settle({ ...payload.analysis, awaiting_approval: undefined }, payload.job, { redis, config, jobId });
      await storeApprovalFill(redis, keys, jobId, settled.fill ?? null, settled.fill_note);
      after = (await readApproval(redis, keys, jobId, now))!;
    }
  }
  return { outcome: after.status === (action === 'approve' ? 'approved' : 'rejected') ? 'settled' : 'refused', approval: after };
}
