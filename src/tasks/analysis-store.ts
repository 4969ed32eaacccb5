import type { Redis } from 'ioredis';
import { cycleResultSchema, type CycleResult, type ProductKeys } from '../core/index.ts';

/** As long as the record-once marker: any re-run of a job id within it reuses the analysis. */
export const ANALYSIS_TTL_S = 8 * 24 * 3600;

export const analysisKey = (keys: ProductKeys, jobId: string) => keys.custom('analysis', jobId);

export const parseAnalysis = (raw: string): CycleResult => cycleResultSchema.parse(JSON.parse(raw));

/**
 * Stores a job's finished analysis once (SET NX) and answers the one on record: if another run of the
 * same job id stored first, its analysis wins, so the fill, the scorecard, the result file and the API
 * can only ever carry one decision per job id.
 */
export async function storeAnalysisOnce(redis: Redis, keys: ProductKeys, jobId: string, analysis: CycleResult): Promise<CycleResult> {
  const key = analysisKey(keys, jobId);
  if ((await redis.set(key, JSON.stringify(analysis), 'EX', ANALYSIS_TTL_S, 'NX')) === 'OK') return analysis;
  const stored = await redis.get(key);
  return stored === null ? analysis : cycleResultSchema.parse(JSON.parse(stored));
}
