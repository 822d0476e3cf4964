import { Flex, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { OrderStatus, TONE } from '../components/Status';
import { date } from '../lib/format';
import { useLocalName } from '../lib/hooks';

type Overdue = Schemas['OverdueView'];

/** Milestones past their due date, the most overdue first: whose order, who delivers, how late. */
export default function OverduePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const localName = useLocalName();
  const query = useCursorList<Overdue>(['overdue'], (cursor) => ok(api.GET('/api/v1/milestones/overdue', { params: { query: { cursor, limit: 50 } } })));
  const late = (m: Overdue) => <Tag color={TONE.red}>{t('overdue.days', { n: m.days_overdue })}</Tag>;
  const columns: TableColumnsType<Overdue> = [
    { title: t('orders.orderNo'), render: (_, m) => <Link to={`/orders/${m.order_id}`}>{m.order_no}</Link> },
    { title: t('common.client'), render: (_, m) => m.client.name },
    { title: t('common.deliverer'), render: (_, m) => m.deliverer?.name ?? '—' },
    { title: t('overdue.milestone'), render: (_, m) => localName(m) },
    { title: t('common.dueOn'), dataIndex: 'due_on', className: 'num', render: (v: string) => date(v) },
    { title: t('overdue.late'), render: (_, m) => late(m) },
    { title: t('common.status'), render: (_, m) => <OrderStatus status={m.order_status} /> },
  ];
  return (
    <Page title={t('overdue.title')}>
      <CursorList<Overdue>
        query={query}
        columns={columns}
        rowKey={(m) => m.milestone_id}
        onRow={(m) => navigate(`/orders/${m.order_id}`)}
        empty={t('common.empty')}
        card={(m) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><Typography.Text strong>{m.order_no}</Typography.Text>{late(m)}</Flex>
            <div>{localName(m)} · {m.client.name}</div>
            <Typography.Text type="secondary">{m.deliverer?.name ?? '—'} · {date(m.due_on)}</Typography.Text>
          </Flex>
        )}
      />
    </Page>
  );
}
