import { afterAll, describe, expect, it } from 'vitest';
import { startFakeAlpaca } from '../../../test/support/fake-alpaca-server.ts';
import { createAlpacaProvider } from './alpaca-provider.ts';

const alpaca = await startFakeAlpaca({ keyId: 'key-id', secret: 'secret', closes: { AAPL: [10, 11, 12, 13] } });
afterAll(() => alpaca.close());

describe('alpaca provider against a local server speaking Alpaca\'s market-data API', () => {
  const provider = createAlpacaProvider({ keyId: 'key-id', secretKey: 'secret', baseUrl: alpaca.baseUrl });

  it('sends the key pair and reads bars, the latest trade and news', async () => {
    const bars = await provider.getDailyBars('AAPL', { to: '2026-11-20', lookbackDays: 3 });
    expect(bars.map((b) => b.c)).toEqual([11, 12, 13]);
    expect(alpaca.requests[0]!.headers['apca-api-key-id']).toBe('key-id');
    expect(alpaca.requests[0]!.path).toBe('/v2/stocks/AAPL/bars');
    expect(await provider.getQuote('AAPL', {})).toEqual({ price: 13, time: '2026-11-20T20:59:59Z' });
    expect((await provider.getNews('AAPL', {}))?.[0]).toMatchObject({ title: 'AAPL news', publisher: 'benzinga' });
    expect(await provider.getFundamentals('AAPL', {})).toBeNull();
  });

  it('reports unknown symbols and bad keys clearly', async () => {
    await expect(provider.getDailyBars('NOPE', { to: '2026-11-20', lookbackDays: 3 })).rejects.toMatchObject({ name: 'UnknownTickerError' });
    const wrong = createAlpacaProvider({ keyId: 'x', secretKey: 'y', baseUrl: alpaca.baseUrl });
    await expect(wrong.getDailyBars('AAPL', { to: '2026-11-20', lookbackDays: 3 })).rejects.toThrow(/alpaca answered 403/);
  });
});
