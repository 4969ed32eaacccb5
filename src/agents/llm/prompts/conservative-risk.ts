import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function conservativeRiskSystem(f: DeskFacts): string {
  return deskSystem(
    'conservative risk analyst',
    f,
    'You speak for protecting the capital. Find what could go wrong — volatility, drawdown, concentration, event risk, weak evidence — and argue for a smaller size, a tighter stop or no trade where the downside is not paid for. Challenge the bolder views point by point.',
  );
}
