import { HISTOGRAMS, type HistogramSeries } from '../core/index.ts';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Record<string, string>) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

/**
 * Prometheus text for the histograms workers keep in Redis. prom-client cannot be handed bucket
 * counts from elsewhere, so these are written out here, with HELP and TYPE also when empty.
 */
export function histogramText(series: HistogramSeries[]): string {
  let out = '';
  for (const [name, def] of Object.entries(HISTOGRAMS)) {
    const full = `tradeloop_${name}`;
    out += `# HELP ${full} ${def.help}\n# TYPE ${full} histogram\n`;
    for (const s of series.filter((x) => x.name === name)) {
      for (const b of s.buckets) out += `${full}_bucket${labelText({ ...s.labels, le: b.le })} ${b.count}\n`;
      out += `${full}_sum${labelText(s.labels)} ${s.sum}\n${full}_count${labelText(s.labels)} ${s.count}\n`;
    }
    out += '\n';
  }
  return out;
}
