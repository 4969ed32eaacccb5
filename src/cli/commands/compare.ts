import pino from 'pino';
import { headToHead, pricedOn, readScoredDecisions, type HeadToHead, type ScoredDecision } from '../../agents/index.ts';
import { agentNameSchema, isRealCalendarDate, tickerSchema, type Config } from '../../core/index.ts';
import { openHistory } from '../../history/index.ts';
import { EXIT, type CliCommand } from '../cli-command.ts';
import { CliExit, flag, table, withCli } from '../cli-context.ts';

const command: CliCommand = {
  summary: 'two agents head to head on the decisions both made: agreement, who was right, cost',
  usage: [
    'tradeloop compare <agent> <other> [--ticker T] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]',
    '  compares the (ticker, session of the price, data source) points both agents decided: how often they agree,',
    '  whose BUY/SELL the next five sessions bore out where they did not, each one\'s hit rate and the return of',
    '  following its calls, and what a decision cost (unknown costs counted apart, never as $0)',
    '  read from the durable history when DATABASE_URL is set, else from Redis (SCORECARD_RETAIN_DAYS)',
    '  exit 0 ok, 1 an agent has no decisions, 2 bad usage, 3 Redis or PostgreSQL unreachable',
  ].join('\n'),
  run: (args, io) => {
    const usage = (message: string) => {
      io.stderr(`tradeloop compare: ${message}\n`);
      return Promise.resolve(EXIT.usage);
    };
    const valued = new Set(['--ticker', '--from', '--to']);
    const names = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
    if (names.length !== 2) return usage('give two agents: tradeloop compare <agent> <other>');
    const [a, b] = names as [string, string];
    for (const n of names) if (!agentNameSchema.safeParse(n).success) return usage(`"${n}" is not an agent name (lowercase letters, digits, "-" or "_")`);
    if (a === b) return usage('compare an agent with another one');
    const from = flag(args, '--from');
    const to = flag(args, '--to');
    for (const [name, v] of [['--from', from], ['--to', to]] as const) if (v !== undefined && !isRealCalendarDate(v)) return usage(`${name} must be a date YYYY-MM-DD`);
    if (from && to && from > to) return usage(`--to is before --from (${from})`);
    const rawTicker = flag(args, '--ticker');
    const ticker = rawTicker === undefined ? undefined : tickerSchema.safeParse(rawTicker);
    if (ticker && !ticker.success) return usage(`--ticker ${ticker.error.issues[0]!.message}`);
    return withCli(io, async (ctx) => {
      const read = await decisionReader(ctx.config, (agent) => readScoredDecisions(ctx.redis, ctx.config.QUEUE_PREFIX, agent));
      const [ofA, ofB] = await Promise.all([read.decisions(a), read.decisions(b)]).finally(() => read.close());
      for (const [agent, es] of [[a, ofA], [b, ofB]] as const) {
        if (es.length === 0) {
          io.stderr(`tradeloop compare: agent "${agent}" has no decisions on record (${read.source})\n`);
          return EXIT.failed;
        }
      }
      const keep = (es: ScoredDecision[]) => es.filter((e) => (!from || pricedOn(e) >= from) && (!to || pricedOn(e) <= to) && (!ticker || e.ticker === ticker.data));
      const h = headToHead(a, keep(ofA), b, keep(ofB));
      io.stdout(args.includes('--json') ? `${JSON.stringify({ ...h, source: read.source, from: from ?? null, to: to ?? null, ticker: ticker?.data ?? null }, null, 2)}\n` : render(h, read.source));
      return EXIT.ok;
    });
  },
};
export default command;

/** PostgreSQL when the install keeps a durable history (every decision), else what Redis keeps. */
async function decisionReader(config: Config, fromRedis: (agent: string) => Promise<ScoredDecision[]>) {
  const history = openHistory(config, pino({ level: 'silent' }));
  if (!history) return { source: 'redis', decisions: fromRedis, close: async () => undefined };
  return {
    source: 'history',
    decisions: async (agent: string) => {
      try {
        return await history.scoredDecisions(agent);
      } catch (err) {
        throw new CliExit(EXIT.unavailable, `the durable history did not answer: ${(err as Error).message}`);
      }
    },
    close: () => history.close(),
  };
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
const usd = (side: HeadToHead['a']) =>
  side.avg_cost_usd === null ? (side.cost_unknown ? 'unknown' : '—') : `$${side.avg_cost_usd.toFixed(4)}${side.cost_unknown ? ` (${side.cost_unknown} unknown, left out)` : ''}`;

function render(h: HeadToHead, source: string): string {
  const lines = [
    `${h.a.agent} vs ${h.b.agent}: ${h.shared} decision point(s) both decided (from ${source})`,
    `agreement ${pct(h.agreement_rate)}; where they disagreed and the next 5 sessions are known (${h.disagreements.scored}): ` +
      `${h.a.agent} right ${h.disagreements.a_right}, ${h.b.agent} right ${h.disagreements.b_right}, neither ${h.disagreements.neither}`,
    '',
    table(
      ['AGENT', 'DECISIONS', 'SCORED CALLS', 'HIT RATE (5d)', 'FOLLOWING ITS CALLS (5d)', 'COST / DECISION', 'COST (SHARED, KNOWN)'],
      [h.a, h.b].map((s) => [s.agent, s.decisions, s.scored, pct(s.hit_rate), pct(s.avg_call_return_5d), usd(s), `$${s.cost_usd.toFixed(4)}`]),
    ).trimEnd(),
    '',
    table([`${h.a.agent} \\ ${h.b.agent}`, 'BUY', 'SELL', 'HOLD'], (['BUY', 'SELL', 'HOLD'] as const).map((d) => [d, h.confusion[d].BUY, h.confusion[d].SELL, h.confusion[d].HOLD])).trimEnd(),
    '',
    h.cost_ratio === null ? 'cost ratio: — (a side is free or has unknown costs)' : `cost ratio: ${h.a.agent} costs ${h.cost_ratio} × ${h.b.agent} per decision`,
  ];
  return `${lines.join('\n')}\n`;
}
