/**
 * Maps `items` through `fn` with at most `limit` calls in flight, results in input order. Scheduler
 * rounds touch thousands of job schedulers: one at a time they cost a Redis round trip each, all at
 * once they would flood the connection; a window of concurrent calls pipelines them on one connection.
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
