import { Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import dayjs from 'dayjs';
import { api, ok } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { WideTable } from '../components/WideTable';
import { money } from '../lib/format';

/** What the park owes each party (payable), holds back until acceptance, and the vendor's revenue. */
export default function Balances() {
  const { t } = useTranslation();
  const balances = useQuery({ queryKey: ['balances'], queryFn: () => ok(api.GET('/api/v1/ledger/balances', { params: { query: {} } })) });
  // Balances carry the party's id only: one read of the organisations names them all.
  const orgs = useQuery({ queryKey: ['organisations', 'names'], queryFn: () => ok(api.GET('/api/v1/organisations', { params: { query: { limit: 200 } } })), staleTime: 300_000 });
  const name = (id: number) => orgs.data?.items.find((o) => o.id === id)?.name_zh ?? `#${id}`;
  const period = dayjs().format('YYYY-MM');
  return (
    <Page title={t('balances.title')}>
      <Loaded query={balances}>
        {(b) => (
          <WideTable
            label={t('balances.title')}
            size="middle"
            rowKey="party_id"
            pagination={false}
            dataSource={b.items}
            columns={[
              { title: t('statements.party'), render: (_, r) => <Link to={`/statements/${r.party_id}/${period}`}><Typography.Text strong>{name(r.party_id)}</Typography.Text></Link> },
              { title: t('money.payable'), dataIndex: 'payable', className: 'num', align: 'right', render: (v: string) => money(v) },
              { title: t('money.held'), dataIndex: 'held', className: 'num', align: 'right', render: (v: string) => money(v) },
              { title: t('balances.vendorRevenue'), dataIndex: 'vendor_revenue', className: 'num', align: 'right', render: (v: string) => money(v) },
              { title: t('balances.cash'), dataIndex: 'cash', className: 'num', align: 'right', render: (v: string) => money(v) },
            ]}
          />
        )}
      </Loaded>
    </Page>
  );
}
