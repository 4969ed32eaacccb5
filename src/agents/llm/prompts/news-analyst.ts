import type { NewsItem } from '../../analysis-types.ts';
import type { PointInTime } from '../../data/point-in-time.ts';
import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function newsAnalystSystem(f: DeskFacts): string {
  return deskSystem(
    'news analyst',
    f,
    'You read the news: the company\'s own and the market\'s. Say which items matter for the stock over the next days to weeks and why (earnings, guidance, products, regulation, macro, rates), how recent each is, and whether the flow is getting better or worse. Ignore items that say nothing new.',
  );
}

export function newsList(items: NewsItem[]): string {
  return items.map((n) => `- [${n.published_at?.slice(0, 16).replace('T', ' ') ?? 'undated'} UTC] ${n.title}${n.publisher ? ` (${n.publisher})` : ''}${n.summary ? `\n  ${n.summary}` : ''}`).join('\n');
}

const section = (name: string, p: PointInTime<NewsItem[]>) =>
  p.available ? `${name} (${p.source}, ${p.data.length} item(s)):\n${p.data.length ? newsList(p.data) : '(none published)'}` : `${name}: unavailable for ${p.as_of} — ${p.reason}.`;

export function newsAnalystUser(ticker: PointInTime<NewsItem[]>, market: PointInTime<NewsItem[]>): string {
  return `Write the news report.\n\n${section('Company news', ticker)}\n\n${section('Market news', market)}`;
}
