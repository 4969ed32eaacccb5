/** What each risk analyst reads: the evidence, the plan, the trade and the discussion so far. */
export function riskUser(stance: string, x: { analystBrief: string; plan: string; traderPlan: string; discussion: string[]; round: number }): string {
  return [
    `Analyst reports:\n${x.analystBrief}`,
    `Research plan: ${x.plan}`,
    `Trader's proposed trade: ${x.traderPlan}`,
    `Risk discussion so far:\n${x.discussion.join('\n\n') || '(you speak first)'}`,
    `Round ${x.round}: give the ${stance} view of this trade, answering the other analysts' latest points.`,
  ].join('\n\n');
}
