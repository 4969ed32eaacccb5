import type { SocialPost } from '../../data/stocktwits-source.ts';
import { deskSystem, type DeskFacts } from './desk-brief.ts';

export function sentimentAnalystSystem(f: DeskFacts): string {
  return deskSystem(
    'sentiment analyst',
    f,
    'You read what retail traders post about the stock. Weigh the crowd\'s mood (the authors\' own bullish/bearish tags and the tone of untagged posts), how one-sided it is, and whether it looks like conviction or noise (likes, followers, repetition). A one-sided crowd can be a contrarian signal: say when you think so.',
  );
}

export function sentimentAnalystUser(source: string, posts: SocialPost[]): string {
  const bulls = posts.filter((p) => p.sentiment === 'Bullish').length;
  const bears = posts.filter((p) => p.sentiment === 'Bearish').length;
  const lines = posts.map((p) => `- [${p.at.slice(0, 16).replace('T', ' ')} UTC${p.sentiment ? `, ${p.sentiment}` : ''}, ${p.likes} likes${p.followers !== null ? `, ${p.followers} followers` : ''}] ${p.body}`);
  return `Write the sentiment report from these ${posts.length} posts (${source}; ${bulls} tagged bullish, ${bears} bearish):\n${lines.join('\n')}`;
}
