import cliProgress from 'cli-progress';
import { MarketCalendar } from '../../calendar/index.ts';
import { cancelReplay, createReplay, getReplay, listReplays, ReplayRequestError, type ReplayContext, type ReplayReport, type ReplayView } from '../../replay/index.ts';
import { EXIT, type CliCommand, type CliIO } from '../cli-command.ts';
import { CliExit, flag, table, withCli, type CliContext } from '../cli-context.ts';

const USAGE = [
  'tradeloop replay start --profiles P1[,P2…] --tickers T1[,T2…] --from YYYY-MM-DD --to YYYY-MM-DD [--schedule ID] [--max-cost USD] [--wait] [--json]',
  'tradeloop replay list [--json]',
  'tradeloop replay show <replay_id> [--json]',
  'tradeloop replay cancel <replay_id>',
  '  start runs the profiles over past NYSE sessions (one cycle per session close, or the schedule\'s intraday',
  '  slots) on the live queue at a lower priority, each profile in its own replay ledger; --wait shows a',
  '  progress bar and prints the report and the comparison table at the end',
  '  exit 0 ok, 1 the replay failed, was cancelled or ran out of budget, 2 bad usage, 3 Redis unreachable',
].join('\n');

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);
const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));
/** A cost some of whose cycles' cost is not known is a lower bound, and says so: never shown as the total. */
const cost = (usd: number, unknown: number | undefined, dollar = '') => (unknown ? `≥ ${dollar}${usd.toFixed(4)} (${unknown} cycle${unknown === 1 ? '' : 's'} unknown)` : `${dollar}${usd.toFixed(4)}`);

function replayContext(ctx: CliContext): ReplayContext {
  return { redis: ctx.redis, keys: ctx.keys, queues: ctx.queues, calendar: new MarketCalendar({ extraClosures: ctx.config.MARKET_CLOSURES }), now: () => new Date() };
}

/** The per-profile table and, for two or more profiles, the comparison table. */
export function formatReport(report: ReplayReport): string {
  let out = table(
    ['PROFILE', 'CYCLES', 'BUY', 'SELL', 'HOLD', 'RETURN', 'BUY&HOLD', 'MAX DD', 'SHARPE', 'HIT 1D', 'HIT 5D', 'COST USD', 'TOKENS', 'MEAN MS', 'P95 MS'],
    report.profiles.map((p) => [
      p.profile,
      `${p.cycles.completed}/${p.cycles.total}`,
      p.decisions.BUY,
      p.decisions.SELL,
      p.decisions.HOLD,
      pct(p.strategy.total_return),
      pct(p.buy_and_hold.total_return),
      pct(p.strategy.max_drawdown),
      num(p.strategy.sharpe),
      pct(p.forward['1d'].hit_rate),
      pct(p.forward['5d'].hit_rate),
      cost(p.cost_usd, p.cost_unknown_cycles),
      p.tokens,
      p.cycle_ms.mean ?? '—',
      p.cycle_ms.p95 ?? '—',
    ]),
  );
  for (const c of report.comparisons) {
    const costs = `${cost(c.cost_usd.a, c.cost_unknown_cycles?.a, '$')} vs ${cost(c.cost_usd.b, c.cost_unknown_cycles?.b, '$')}`;
    out += `\n${c.a} vs ${c.b}: agreement ${pct(c.agreement_rate)} over ${c.compared} decisions, cost ratio ${c.cost_ratio === null ? `— (${costs})` : `${num(c.cost_ratio)}×`}\n`;
    out += table([`${c.a} \\ ${c.b}`, 'BUY', 'SELL', 'HOLD'], (['BUY', 'SELL', 'HOLD'] as const).map((d) => [d, c.confusion[d].BUY, c.confusion[d].SELL, c.confusion[d].HOLD]));
  }
  return out;
}

function viewLine(v: ReplayView): string {
  return `${v.replay_id}  ${v.status}  ${v.progress.done}/${v.progress.total}  ${v.profiles.join(',')}  ${v.tickers.join(',')}  ${v.from}..${v.to}${v.reason ? `  (${v.reason})` : ''}\n`;
}

const exitOf = (status: string) => (status === 'done' ? EXIT.ok : EXIT.failed);

async function wait(rctx: ReplayContext, id: string, io: CliIO, json: boolean): Promise<number> {
  const bar = json ? null : new cliProgress.SingleBar({ format: 'replay {bar} {value}/{total} cycles | {cost} | ETA {eta_s}s', hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1000 }, cliProgress.Presets.shades_classic);
  let started = false;
  for (;;) {
    const found = await getReplay(rctx, id);
    if (!found) throw new CliExit(EXIT.failed, `replay ${id} disappeared`);
    const { view, report } = found;
    if (bar) {
      const spent = cost(view.cost_usd, view.cost_unknown_cycles, '$');
      if (!started) bar.start(view.progress.total, view.progress.done, { cost: spent, eta_s: view.eta_s ?? '?' });
      started = true;
      bar.update(view.progress.done, { cost: spent, eta_s: view.eta_s ?? '?' });
    }
    if (view.status !== 'running') {
      bar?.stop();
      if (json) io.stdout(`${JSON.stringify({ ...view, report }, null, 2)}\n`);
      else io.stdout(`${viewLine(view)}\n${formatReport(report)}`);
      return exitOf(view.status);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const command: CliCommand = {
  summary: 'replay agent profiles over past sessions and compare them (start, list, show, cancel)',
  usage: USAGE,
  run: (args, io) => {
    const [sub, ...rest] = args;
    const json = rest.includes('--json');
    const usage = (message: string) => {
      io.stderr(`tradeloop replay: ${message}\nusage: ${USAGE}\n`);
      return Promise.resolve(EXIT.usage);
    };
    if (sub === 'start') {
      const list = (name: string) => flag(rest, name)?.split(',').map((s) => s.trim()).filter(Boolean);
      const maxCost = flag(rest, '--max-cost');
      const body: Record<string, unknown> = { profiles: list('--profiles'), tickers: list('--tickers'), from: flag(rest, '--from'), to: flag(rest, '--to') };
      if (flag(rest, '--schedule') !== undefined) body.schedule = flag(rest, '--schedule');
      if (maxCost !== undefined) {
        if (!Number.isFinite(Number(maxCost)) || Number(maxCost) <= 0) return usage('--max-cost must be a positive number of USD');
        body.max_cost_usd = Number(maxCost);
      }
      for (const [k, f] of [['profiles', '--profiles'], ['tickers', '--tickers'], ['from', '--from'], ['to', '--to']] as const) if (body[k] === undefined) return usage(`${f} is required`);
      return withCli(io, async (ctx) => {
        const rctx = replayContext(ctx);
        let view: ReplayView;
        try {
          view = await createReplay(rctx, body, ctx.config);
        } catch (err) {
          if (err instanceof ReplayRequestError) throw new CliExit(EXIT.usage, err.details.map((d) => `--${d.field.split('.')[0]!.replace('max_cost_usd', 'max-cost')}: ${d.message}`).join('\n'));
          throw err;
        }
        if (!rest.includes('--wait')) {
          io.stdout(json ? `${JSON.stringify(view, null, 2)}\n` : `replay ${view.replay_id} started: ${view.progress.total} cycles over ${view.sessions} sessions\n`);
          return EXIT.ok;
        }
        if (!json) io.stderr(`replay ${view.replay_id}: ${view.progress.total} cycles over ${view.sessions} sessions (the scheduler process drives it)\n`);
        return wait(rctx, view.replay_id, io, json);
      });
    }
    if (sub === 'list') {
      return withCli(io, async (ctx) => {
        const views = await listReplays(replayContext(ctx));
        if (json) io.stdout(`${JSON.stringify(views, null, 2)}\n`);
        else io.stdout(table(['REPLAY', 'STATUS', 'PROGRESS', 'PROFILES', 'TICKERS', 'FROM', 'TO', 'COST USD'], views.map((v) => [v.replay_id, v.status, `${v.progress.done}/${v.progress.total}`, v.profiles.join(','), v.tickers.join(','), v.from, v.to, cost(v.cost_usd, v.cost_unknown_cycles)])));
        return EXIT.ok;
      });
    }
    if (sub === 'show' || sub === 'cancel') {
      const id = rest.find((a) => !a.startsWith('--'));
      if (!id) return usage(`${sub} needs a replay id`);
      return withCli(io, async (ctx) => {
        const rctx = replayContext(ctx);
        if (sub === 'cancel') {
          const outcome = await cancelReplay(rctx, id);
          if (!outcome) throw new CliExit(EXIT.failed, `no replay ${id}`);
          if (outcome === 'finished') throw new CliExit(EXIT.failed, `replay ${id} is no longer running`);
          io.stdout(`replay ${id} cancelled\n`);
          return EXIT.ok;
        }
        const found = await getReplay(rctx, id);
        if (!found) throw new CliExit(EXIT.failed, `no replay ${id}`);
        if (json) io.stdout(`${JSON.stringify({ ...found.view, report: found.report }, null, 2)}\n`);
        else io.stdout(`${viewLine(found.view)}\n${formatReport(found.report)}`);
        return EXIT.ok;
      });
    }
    return usage(sub ? `unknown subcommand "${sub}"` : 'say start, list, show or cancel');
  },
};
export default command;
