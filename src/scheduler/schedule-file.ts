import { readFile } from 'node:fs/promises';
import { validateDetailed as validateCron } from 'node-cron';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { agentProfileSchema, BUILTIN_AGENTS, scheduleEntrySchema, type AgentProfile, type ScheduleEntry } from '../core/index.ts';

/** One problem in a schedule file, located precisely enough to fix without guessing. */
export interface ScheduleFileIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path such as `schedules[2].every`. */
  field: string;
  message: string;
}

export class ScheduleFileError extends Error {
  override name = 'ScheduleFileError';
  constructor(public readonly issues: ScheduleFileIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(i: ScheduleFileIssue): string {
  return `${i.file}:${i.line}:${i.column} ${i.field ? `${i.field}: ` : ''}${i.message}`;
}

export interface ScheduleSet {
  file: string;
  agents: Record<string, AgentProfile>;
  schedules: ScheduleEntry[];
}

const fileSchema = z
  .object({
    version: z.literal(1).optional(),
    agents: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'agent names must be lowercase letters, digits, "-" or "_"'), agentProfileSchema).default({}),
    schedules: z.array(scheduleEntrySchema).default([]),
  })
  .strict();

export async function loadScheduleFile(path: string): Promise<ScheduleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ScheduleFileError([{ file: path, line: 0, column: 0, field: '', message: reason }]);
  }
  return parseScheduleText(text, path);
}

/** Parses and validates schedule YAML; every issue names file, line, field and reason. */
export function parseScheduleText(text: string, file = 'schedules.yaml'): ScheduleSet {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ScheduleFileError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), field: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const raw = doc.toJS() ?? {};
  const parsed = fileSchema.safeParse(raw);
  const issues: ScheduleFileIssue[] = [];
  const locate = (path: PropertyKey[]) => ({ file, ...at(offsetOf(doc, path)), field: formatPath(path) });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Unknown keys are reported on the key itself, so the line points at the typo.
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) issues.push({ ...locate([...issue.path, key]), message: `unknown key "${key}"` });
      } else {
        issues.push({ ...locate(issue.path), message: issue.message });
      }
    }
    throw new ScheduleFileError(issues);
  }
  const { agents, schedules } = parsed.data;
  const allAgents = { ...BUILTIN_AGENTS, ...agents };
  const seen = new Map<string, number>();
  schedules.forEach((entry, index) => {
    if (seen.has(entry.id)) {
      issues.push({ ...locate(['schedules', index, 'id']), message: `duplicate id "${entry.id}" (first used by schedules[${seen.get(entry.id)}])` });
    } else seen.set(entry.id, index);
    if (!allAgents[entry.agent]) {
      const known = Object.keys(allAgents).sort().join(', ');
      issues.push({ ...locate(['schedules', index, 'agent']), message: `unknown agent "${entry.agent}" (defined: ${known})` });
    }
    if (entry.cron) {
      const check = validateCron(entry.cron);
      if (!check.valid) {
        const why = check.errors?.map((e) => e.message).join('; ') || 'not a valid cron expression';
        issues.push({ ...locate(['schedules', index, 'cron']), message: `invalid cron "${entry.cron}": ${why}` });
      }
    }
    if (!isValidZone(entry.timezone)) {
      issues.push({ ...locate(['schedules', index, 'timezone']), message: `unknown time zone "${entry.timezone}"` });
    }
  });
  if (issues.length > 0) throw new ScheduleFileError(issues);
  return { file, agents: allAgents, schedules };
}

function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** Source offset of the deepest node that exists along `path` (the key itself when it exists). */
function offsetOf(doc: Document, path: PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: number[] } | null)?.range?.[0];
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === part);
      if (!pair) break;
      offset = (pair.key as { range?: number[] }).range?.[0] ?? offset;
      node = pair.value;
      // A value's own position is more precise than its key's for scalar problems.
      const valueRange = (pair.value as { range?: number[] } | null)?.range;
      if (valueRange && !isMap(pair.value) && !isSeq(pair.value)) offset = valueRange[0];
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as { range?: number[] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}
