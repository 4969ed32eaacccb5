import type { AgentProfile, CycleOptions } from './contracts.ts';

export interface OptionIssue {
  field: string;
  message: string;
}

/**
 * A job's `config` may only tighten its agent's profile, or pick among the models the profile allows:
 * a quant agent cannot be turned into an LLM one, nor given more rounds, analysts or tokens than its
 * profile grants. Returns one issue per offending field (`config.<name>`); empty when allowed.
 */
export function checkCycleOptions(profile: AgentProfile, options: CycleOptions): OptionIssue[] {
  const issues: OptionIssue[] = [];
  const add = (name: string, message: string) => issues.push({ field: `config.${name}`, message });
  if (options.engine && options.engine !== profile.engine && !(profile.engine === 'llm' && options.engine === 'quant')) {
    add('engine', `the agent's profile runs the ${profile.engine} engine; a job may only switch an llm agent to quant`);
  }
  const models = new Set([profile.quick_model, profile.deep_model, ...profile.allowed_models]);
  for (const name of ['quick_model', 'deep_model'] as const) {
    const model = options[name];
    if (model !== undefined && !models.has(model)) add(name, `"${model}" is not allowed for this agent (allowed: ${[...models].join(', ')}; add it to the profile's allowed_models)`);
  }
  for (const name of ['debate_rounds', 'risk_rounds', 'max_tokens_per_cycle'] as const) {
    const value = options[name];
    if (value !== undefined && value > profile[name]) add(name, `may only lower the profile's ${profile[name]}`);
  }
  const extra = (options.analysts ?? []).filter((a) => !profile.analysts.includes(a));
  if (extra.length) add('analysts', `${extra.join(', ')} not in the profile's analysts (${profile.analysts.join(', ')})`);
  return issues;
}

/** A named entry of a map built from user-controlled names, ignoring anything inherited (`constructor`, `toString`). */
export function ownEntry<T>(map: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(map, name) ? map[name] : undefined;
}
