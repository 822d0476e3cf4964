import { Card, Col, Row, Skeleton, Statistic } from 'antd';
import { useQueries } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import { Page } from '../components/Page';
import { useMe } from '../lib/session';

const CAP = 200;

type Tile = { key: string; to: string; tone?: 'warn' | 'bad'; count: () => Promise<{ items: unknown[]; next_cursor?: string | null }> };

/** What needs the desk's attention today: each count a link to the list behind it. */
export default function Today() {
  const { t } = useTranslation();
  const me = useMe();
  const orders = (status: 'new' | 'published' | 'in_progress' | 'delivered' | 'disputed') => () =>
    ok(api.GET('/api/v1/orders', { params: { query: { status, limit: CAP } } }));
  const tiles: Tile[] = [
    { key: 'newOrders', to: '/orders?status=new', count: orders('new') },
    { key: 'disputed', to: '/orders?status=disputed', tone: 'bad', count: orders('disputed') },
    { key: 'overdue', to: '/overdue', tone: 'warn', count: () => ok(api.GET('/api/v1/milestones/overdue', { params: { query: { limit: CAP } } })) },
    { key: 'evidence', to: '/reviews/evidence', count: () => ok(api.GET('/api/v1/evidence', { params: { query: { status: 'submitted', limit: CAP } } })) },
    { key: 'published', to: '/orders?status=published', count: orders('published') },
    { key: 'tenders', to: '/pool', count: () => ok(api.GET('/api/v1/subcontracts', { params: { query: { mode: 'tender', limit: CAP } } })) },
    { key: 'inProgress', to: '/orders?status=in_progress', count: orders('in_progress') },
    { key: 'delivered', to: '/orders?status=delivered', count: orders('delivered') },
    { key: 'outcomes', to: '/reviews/outcomes', count: () => ok(api.GET('/api/v1/outcomes', { params: { query: { status: 'reported', limit: CAP } } })) },
  ];
  const counts = useQueries({
    queries: tiles.map((tile) => ({ queryKey: ['today', tile.key], queryFn: tile.count, staleTime: 30_000 })),
  });
  return (
    <Page title={me.data ? t('today.greeting', { name: me.data.display_name }) : t('today.title')}>
      <Row gutter={[16, 16]}>
        {tiles.map((tile, i) => {
          const q = counts[i];
          const page = q?.data;
          const n = page ? page.items.length : 0;
          const value = page ? (page.next_cursor ? t('today.plus', { n }) : n) : '';
          const colour = n > 0 && tile.tone === 'bad' ? '#cf1322' : n > 0 && tile.tone === 'warn' ? '#d46b08' : undefined;
          return (
            <Col xs={12} md={8} xl={6} key={tile.key}>
              <Link to={tile.to} aria-label={t(`today.${tile.key}`)}>
                <Card hoverable size="small">
                  {q?.isPending ? (
                    <Skeleton active paragraph={false} title={{ width: '80%' }} style={{ height: 62 }} />
                  ) : (
                    <Statistic
                      title={t(`today.${tile.key}`)}
                      value={q?.error ? '—' : value}
                      styles={{ content: { color: colour, fontVariantNumeric: 'tabular-nums' } }}
                    />
                  )}
                </Card>
              </Link>
            </Col>
          );
        })}
      </Row>
    </Page>
  );
}
