/** The agents room: market data, analysis engines, paper portfolio. Its only door. */
export { runTradingCycle } from './trading-cycle.ts';
export { CYCLE_STAGES, type CycleStage, type CycleContext } from './cycle-context.ts';
