import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { MarketCalendar } from '../calendar/index.ts';
import { agentProfileSchema, BUILTIN_AGENTS, scheduleEntrySchema, type AgentProfile, type ScheduleEntry } from '../core/index.ts';
import { cronError } from './cron-pattern.ts';
import { armedWindow, type SessionCalendar } from './session-window.ts';

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
  /** The file's text and its content hash (sha256, hex): what "the same schedule" means across hosts. */
  text: string;
  hash: string;
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

export interface ParseOptions {
  /** The instant from which a gated cron pattern's runs are looked for (default: now). */
  now?: Date;
  calendar?: SessionCalendar;
}

/** Parses and validates schedule YAML; every issue names file, line, field and reason. */
export function parseScheduleText(text: string, file = 'schedules.yaml', opts: ParseOptions = {}): ScheduleSet {
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
  const raw: unknown = doc.toJS() ?? {};
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
  }
  // Checks across entries run on the raw document, so they are reported even when other fields fail.
  for (const c of crossChecks(raw)) issues.push({ ...locate(c.path), message: c.message });
  if (parsed.success && issues.length === 0) {
    const now = opts.now ?? new Date();
    // Entries with the same timing meet the session alike: a file of thousands checks each timing once.
    const meets = new Map<string, boolean>();
    const meetsSession = (entry: (typeof parsed.data.schedules)[number]) => {
      const k = `${entry.market_hours}|${entry.cron}|${entry.timezone}`;
      if (!meets.has(k)) meets.set(k, armedWindow(entry, opts.calendar ?? defaultCalendar(), now) !== null);
      return meets.get(k)!;
    };
    parsed.data.schedules.forEach((entry, index) => {
      if (entry.cron && entry.market_hours !== 'always' && !meetsSession(entry)) {
        issues.push({
          ...locate(['schedules', index, 'cron']),
          message: `no instant of "${entry.cron}" (${entry.timezone}) falls inside the ${entry.market_hours} session within a year; use market_hours: always or another pattern`,
        });
      }
    });
  }
  if (issues.length > 0 || !parsed.success) throw new ScheduleFileError(ordered(issues));
  const { agents, schedules } = parsed.data;
  return { file, text, hash: scheduleTextHash(text), agents: { ...BUILTIN_AGENTS, ...agents }, schedules };
}

/** sha256 of the text with line endings normalised, so a CRLF checkout on one host is the same file. */
export function scheduleTextHash(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

let calendar: MarketCalendar | null = null;
function defaultCalendar(): MarketCalendar {
  return (calendar ??= new MarketCalendar());
}

/** Duplicate ids, unknown agents, unknown time zones, cron patterns BullMQ cannot run. */
function crossChecks(raw: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const doc = isRecord(raw) ? raw : {};
  const defined = new Set([...Object.keys(BUILTIN_AGENTS), ...(isRecord(doc.agents) ? Object.keys(doc.agents) : [])]);
  const schedules = Array.isArray(doc.schedules) ? (doc.schedules as unknown[]) : [];
  const seen = new Map<string, number>();
  const cronWhy = new Map<string, string | null>();
  schedules.forEach((item, index) => {
    if (!isRecord(item)) return;
    const at = (field: string) => ['schedules', index, field];
    if (typeof item.id === 'string') {
      if (seen.has(item.id)) out.push({ path: at('id'), message: `duplicate id "${item.id}" (first used by schedules[${seen.get(item.id)}])` });
      else seen.set(item.id, index);
    }
    if (typeof item.agent === 'string' && !defined.has(item.agent)) {
      out.push({ path: at('agent'), message: `unknown agent "${item.agent}" (defined: ${[...defined].sort().join(', ')})` });
    }
    const tz = typeof item.timezone === 'string' ? item.timezone : 'America/New_York';
    const zoneOk = isValidZone(tz);
    if (!zoneOk) out.push({ path: at('timezone'), message: `unknown time zone "${tz}"` });
    if (typeof item.cron === 'string' && item.cron.trim() !== '') {
      const k = `${item.cron}\u0000${zoneOk ? tz : 'UTC'}`;
      if (!cronWhy.has(k)) cronWhy.set(k, cronError(item.cron, zoneOk ? tz : 'UTC'));
      const why = cronWhy.get(k)!;
      if (why) out.push({ path: at('cron'), message: `invalid cron "${item.cron}": ${why}` });
    }
  });
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** In file order, each problem once. */
function ordered(issues: ScheduleFileIssue[]): ScheduleFileIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((i) => {
      const k = `${i.field}|${i.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

const zones = new Map<string, boolean>();
function isValidZone(zone: string): boolean {
  // Few distinct zones exist; each is checked once per process.
  if (!zones.has(zone) && zones.size < 1000) zones.set(zone, checkZone(zone));
  return zones.get(zone) ?? checkZone(zone);
}

function checkZone(zone: string): boolean {
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
