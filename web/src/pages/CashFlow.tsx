import { Card, Col, Row, Segmented, Statistic } from 'antd';
import { useQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ok, type Schemas } from '../api/client';
import { BarChart } from '../components/BarChart';
import { Loaded, Page } from '../components/Page';
import { WideTable } from '../components/WideTable';
import { money, rate } from '../lib/format';
import { useReference } from '../lib/hooks';

type Row = Schemas['CashRowView'];

/** Amount strings as numbers for drawing only: every figure shown as text comes from the string. */
const yuan = (v: string) => Number(v);

export default function CashFlow() {
  const { t } = useTranslation();
  const ref = useReference();
  const [groupBy, setGroupBy] = useState<Schemas['CashGroupByName']>('period');
  const flow = useQuery({
    queryKey: ['cash-flow', groupBy],
    queryFn: () => ok(api.GET('/api/v1/cash-flow', { params: { query: { group_by: groupBy } } })),
  });
  const period = dayjs().format('YYYY-MM');
  const equity = useQuery({
    queryKey: ['equity-earnings', period],
    queryFn: () => ok(api.GET('/api/v1/reports/equity-earnings', { params: { query: { period } } })),
  });
  const chart = useMemo(() => {
    const rows = flow.data?.rows ?? [];
    const label = (r: Row) => (groupBy === 'region' ? ref.region(r.label) : r.label);
    return {
      labels: rows.map(label),
      series: [
        { name: t('cashflow.netReceived'), values: rows.map((r) => yuan(r.net_received)) },
        { name: t('cashflow.partnerShares'), values: rows.map((r) => yuan(r.partner_shares)) },
        { name: t('cashflow.paidOut'), values: rows.map((r) => yuan(r.paid_out)) },
      ],
    };
  }, [flow.data, groupBy, ref, t]);
  return (
    <Page title={t('cashflow.title')}>
      <Segmented
        style={{ marginBottom: 16 }}
        value={groupBy}
        onChange={(v) => setGroupBy(v as Schemas['CashGroupByName'])}
        options={[{ value: 'period', label: t('cashflow.byMonth') }, { value: 'region', label: t('cashflow.byRegion') }]}
      />
      <Loaded query={flow}>
        {(f) => (
          <>
            <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
              <Col xs={12} md={6}><Card size="small"><Statistic title={t('cashflow.received')} value={money(f.total.received)} /></Card></Col>
              <Col xs={12} md={6}><Card size="small"><Statistic title={t('cashflow.refunded')} value={money(f.total.refunded)} /></Card></Col>
              <Col xs={12} md={6}><Card size="small"><Statistic title={t('cashflow.partnerShares')} value={money(f.total.partner_shares)} /></Card></Col>
              <Col xs={12} md={6}><Card size="small"><Statistic title={t('cashflow.paidOut')} value={money(f.total.paid_out)} /></Card></Col>
            </Row>
            <Card style={{ marginBottom: 16 }}>
              <BarChart labels={chart.labels} series={chart.series} label={t('cashflow.title')} />
            </Card>
            <WideTable<Row>
              label={t('cashflow.title')}
              size="small"
              rowKey="label"
              pagination={false}
              dataSource={f.rows}
              columns={[
                { title: groupBy === 'region' ? t('common.region') : t('money.period'), render: (_, r) => (groupBy === 'region' ? ref.region(r.label) : r.label) },
                { title: t('cashflow.received'), className: 'num', align: 'right', render: (_, r) => money(r.received) },
                { title: t('cashflow.refunded'), className: 'num', align: 'right', render: (_, r) => money(r.refunded) },
                { title: t('cashflow.netReceived'), className: 'num', align: 'right', render: (_, r) => money(r.net_received) },
                { title: t('cashflow.partnerShares'), className: 'num', align: 'right', render: (_, r) => money(r.partner_shares) },
                { title: t('cashflow.paidOut'), className: 'num', align: 'right', render: (_, r) => money(r.paid_out) },
              ]}
            />
          </>
        )}
      </Loaded>
      <Card title={`${t('cashflow.equity')} · ${period}`} style={{ marginTop: 16 }}>
        <Loaded query={equity}>
          {(e) => (
            <WideTable
              label={t('cashflow.equity')}
              size="small"
              rowKey="party_id"
              pagination={false}
              dataSource={e.items}
              columns={[
                { title: t('statements.party'), dataIndex: 'party_name' },
                { title: t('admin.stake'), dataIndex: 'stake', className: 'num', render: (v: string) => rate(v) },
                { title: t('cashflow.netEarnings'), dataIndex: 'net_earnings', className: 'num', align: 'right', render: (v: string) => money(v) },
                { title: t('cashflow.attributable'), dataIndex: 'attributable', className: 'num', align: 'right', render: (v: string) => money(v) },
              ]}
            />
          )}
        </Loaded>
      </Card>
    </Page>
  );
}
