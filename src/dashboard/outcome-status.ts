/** The status carried by a job's return value (QueueEvents gives it as JSON text or an object). */
export function parseOutcomeStatus(returnvalue: unknown): string {
  try {
    const v = typeof returnvalue === 'string' ? (JSON.parse(returnvalue) as { status?: string }) : (returnvalue as { status?: string });
    return v?.status ?? 'completed';
  } catch {
    return 'completed';
  }
}
