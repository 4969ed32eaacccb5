import type { Redis } from 'ioredis';
import type { ProductKeys } from './keys.ts';
import type { RedisWrite } from './redis-write.ts';

/**
 * Cross-process counters (schedule re-arms, skips, tokens, cost …). Each process increments them in
 * one Redis hash; the dashboard's /metrics reads them at scrape time, so a counter survives the
 * process that counted it and sums over every worker.
 */
export type CounterLabels = Record<string, string>;

export function counterField(name: string, labels: CounterLabels = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export function parseCounterField(field: string): { name: string; labels: CounterLabels } {
  const open = field.indexOf('{');
  if (open < 0) return { name: field, labels: {} };
  const labels: CounterLabels = {};
  for (const m of field.slice(open + 1, -1).matchAll(/(\w+)=("(?:[^"\\]|\\.)*")/g)) labels[m[1]!] = JSON.parse(m[2]!) as string;
  return { name: field.slice(0, open), labels };
}

export function countersKey(keys: ProductKeys): string {
  return keys.custom('counters');
}

export function counterWrite(keys: ProductKeys, name: string, labels: CounterLabels = {}, by = 1): RedisWrite {
  return ['HINCRBYFLOAT', countersKey(keys), counterField(name, labels), String(by)];
}

export async function incrementCounter(redis: Redis, keys: ProductKeys, name: string, labels: CounterLabels = {}, by = 1): Promise<void> {
  await redis.hincrbyfloat(countersKey(keys), counterField(name, labels), by);
}

export async function readCounters(redis: Redis, keys: ProductKeys): Promise<Array<{ name: string; labels: CounterLabels; value: number }>> {
  const all = await redis.hgetall(countersKey(keys));
  return Object.entries(all).map(([field, value]) => ({ ...parseCounterField(field), value: Number(value) }));
}
