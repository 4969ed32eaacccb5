import { afterAll, describe, expect, it } from 'vitest';
import { startFakeAlpaca } from '../../../test/support/fake-alpaca-server.ts';
import { createAlpacaProvider } from './alpaca-provider.ts';

const closes = Array.from({ length: 30 }, (_, i) => 100 + i);
const alpaca = await startFakeAlpaca({ keyId: 'key-id', secret: 'secret', closes: { AAPL: closes }, pageSize: 12 });
afterAll(() => alpaca.close());

describe('alpaca provider against a local server speaking Alpaca\'s market-data API', () => {
  const provider = createAlpacaProvider({ keyId: 'key-id', secretKey: 'secret', baseUrl: alpaca.baseUrl });

  it('sends the key pair, follows pages of bars, and reads the latest trade and news', async () => {
    const before = alpaca.requests.length;
    const bars = await provider.getDailyBars('AAPL', { to: '2026-11-20', lookbackDays: 20 });
    expect(bars.map((b) => b.c)).toEqual(closes.slice(-20));
    const sent = alpaca.requests.slice(before);
    expect(sent).toHaveLength(3); // 30 bars in pages of 12
    expect(sent[0]!.headers['apca-api-key-id']).toBe('key-id');
    expect(sent[0]!.headers['apca-api-secret-key']).toBe('secret');
    expect(sent[0]!.path).toBe('/v2/stocks/AAPL/bars');
    expect(sent[0]!.query.get('timeframe')).toBe('1Day');
    expect(sent[1]!.query.get('page_token')).toBe('12');
    expect(await provider.getQuote('AAPL', {})).toEqual({ price: 129, time: '2026-11-20T20:59:59.000Z' });
    expect((await provider.getNews('AAPL', {}))?.[0]).toMatchObject({ title: 'AAPL news', publisher: 'benzinga' });
    expect(await provider.getFundamentals('AAPL', {})).toBeNull();
  });

  it('asks for the regular session\'s 5-minute bars only', async () => {
    const before = alpaca.requests.length;
    const bars = (await provider.getIntradayBars('AAPL', { date: '2026-11-20' }))!;
    const q = alpaca.requests[before]!.query;
    expect(q.get('timeframe')).toBe('5Min');
    expect(q.get('start')).toBe('2026-11-20T14:30:00.000Z');
    expect(Date.parse(q.get('end')!)).toBeLessThan(Date.parse('2026-11-20T21:00:00Z'));
    expect(bars.at(-1)!.t).toBe('2026-11-20T20:55:00.000Z');
    expect(await provider.getIntradayBars('AAPL', { date: '2026-11-26' })).toEqual([]); // Thanksgiving: no request needed
  });

  it('reports unknown symbols and bad keys clearly', async () => {
    await expect(provider.getDailyBars('NOPE', { to: '2026-11-20', lookbackDays: 3 })).rejects.toMatchObject({ name: 'UnknownTickerError' });
    await expect(provider.getDailyBars('BRK-X1', { to: '2026-11-20', lookbackDays: 3 })).rejects.toMatchObject({ name: 'UnknownTickerError' });
    const wrong = createAlpacaProvider({ keyId: 'x', secretKey: 'y', baseUrl: alpaca.baseUrl });
    await expect(wrong.getDailyBars('AAPL', { to: '2026-11-20', lookbackDays: 3 })).rejects.toThrow(/alpaca answered 403: check ALPACA_API_KEY_ID/);
    const dead = createAlpacaProvider({ keyId: 'key-id', secretKey: 'secret', baseUrl: 'http://127.0.0.1:1' });
    await expect(dead.getQuote('AAPL', {})).rejects.toMatchObject({ name: 'DataSourceUnavailableError' });
  });
});
