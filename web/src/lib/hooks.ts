import { Grid } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ok } from '../api/client';

/** True on a phone (below antd's `md`, 768 px). */
export function useIsPhone(): boolean {
  const screens = Grid.useBreakpoint();
  return screens.md === false;
}

/** The reference lists (regions, industries, categories), with a name in the current language. */
export function useReference() {
  const { i18n } = useTranslation();
  const q = useQuery({
    queryKey: ['reference'],
    queryFn: () => ok(api.GET('/api/v1/reference')),
    staleTime: Infinity,
  });
  const en = i18n.language === 'en';
  const name = (list: 'regions' | 'industries' | 'service_categories', code: string | null | undefined) => {
    if (!code) return '—';
    const item = q.data?.[list].find((r) => r.code === code);
    return item ? (en ? item.name_en : item.name_zh) : code;
  };
  return { data: q.data, region: (c?: string | null) => name('regions', c), industry: (c?: string | null) => name('industries', c) };
}

/** A name in the current language from a `name_zh` / `name_en` pair. */
export function useLocalName() {
  const { i18n } = useTranslation();
  return (v: { name_zh: string; name_en: string } | null | undefined) =>
    v ? (i18n.language === 'en' ? v.name_en : v.name_zh) : '—';
}
