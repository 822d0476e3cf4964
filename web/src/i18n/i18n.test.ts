import { describe, expect, it } from 'vitest';
import en from './en';
import zh from './zh-CN';

type Tree = { [k: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

const zhKeys = leaves(zh as unknown as Tree);
const enKeys = leaves(en as unknown as Tree);

describe('i18n', () => {
  it('has the same keys in both languages', () => {
    expect([...enKeys.keys()].sort()).toEqual([...zhKeys.keys()].sort());
  });
  it('has no empty message', () => {
    for (const [k, v] of [...zhKeys, ...enKeys]) expect(v.trim(), k).not.toBe('');
  });
  it('uses the same placeholders in both languages', () => {
    const holes = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const [k, v] of zhKeys) expect(holes(enKeys.get(k) ?? ''), k).toEqual(holes(v));
  });
  it('writes English messages without Chinese, except the names kept on purpose', () => {
    const allowed = new Set(['orders.reason']); // 三不 is the term partners use
    for (const [k, v] of enKeys) {
      if (allowed.has(k)) continue;
      expect(/[\u4e00-\u9fff]/.test(v), `${k}: ${v}`).toBe(false);
    }
  });
  it('writes every Chinese message with Chinese (no untranslated English)', () => {
    const latinOnly = new Set(['app.short', 'today.plus']);
    for (const [k, v] of zhKeys) {
      if (latinOnly.has(k)) continue;
      expect(/[\u4e00-\u9fff]/.test(v), `${k}: ${v}`).toBe(true);
    }
  });
});
