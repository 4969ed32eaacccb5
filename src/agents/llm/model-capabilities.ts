/** What a model family accepts on chat completions, so a request never carries a parameter it rejects. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

export interface ModelCapabilities {
  /** gpt-5* and o1/o3/o4*: no `temperature`, `max_completion_tokens` instead of `max_tokens`. */
  reasoning: boolean;
  /** The efforts the family takes; empty when it takes no `reasoning_effort` at all. */
  efforts: readonly ReasoningEffort[];
}

/** The bare model name: no provider prefix (`openai/gpt-5` behind a proxy), no date suffix, lower case. */
export function canonicalModel(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^.*\//, '')
    .replace(/-\d{4}-\d{2}-\d{2}$/, '');
}

export function capabilitiesOf(model: string): ModelCapabilities {
  const m = canonicalModel(model);
  // The chat snapshots of gpt-5 are ordinary chat models.
  if (/^gpt-5(\.\d+)?-chat/.test(m)) return { reasoning: false, efforts: [] };
  const five = /^gpt-5(?:\.(\d+))?/.exec(m);
  if (five) {
    // gpt-5.1 and later add `none` and drop `minimal`; the pro models only think hard.
    if (/-pro\b/.test(m)) return { reasoning: true, efforts: ['high'] };
    return five[1] ? { reasoning: true, efforts: ['none', 'low', 'medium', 'high'] } : { reasoning: true, efforts: ['minimal', 'low', 'medium', 'high'] };
  }
  if (/^o1-(mini|preview)/.test(m)) return { reasoning: true, efforts: [] };
  if (/^o[134](-|$)/.test(m)) return { reasoning: true, efforts: ['low', 'medium', 'high'] };
  return { reasoning: false, efforts: [] };
}

/** The asked effort, or the nearest one the family takes (`minimal` ↔ `none`, else `low`); undefined when it takes none. */
export function effortFor(model: string, asked: ReasoningEffort): ReasoningEffort | undefined {
  const { efforts } = capabilitiesOf(model);
  if (efforts.length === 0) return undefined;
  if (efforts.includes(asked)) return asked;
  const near: ReasoningEffort = asked === 'none' ? 'minimal' : asked === 'minimal' ? 'none' : 'low';
  return efforts.includes(near) ? near : efforts.includes('low') ? 'low' : efforts[0];
}
