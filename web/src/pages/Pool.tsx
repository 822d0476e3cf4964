import { Alert, App, Button, Descriptions, Drawer, Flex, Segmented, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Loaded, Page } from '../components/Page';
import { TONE } from '../components/Status';
import { WideTable } from '../components/WideTable';
import { date, dateTime, money, rate } from '../lib/format';
import { useIsPhone, useLocalName, useReference } from '../lib/hooks';
import { can, useMe } from '../lib/session';

type Sub = Schemas['SubcontractView'];
type Bid = Schemas['BidView'];
type Mode = Schemas['ModeName'];

const terms = (v: { execution_share?: string | null; fixed_fee?: string | null; fee?: string | null }) =>
  v.execution_share ? rate(v.execution_share) : money(v.fixed_fee ?? v.fee ?? null);

/** A tender's bids side by side — price, plan, implementers, the bidder's quality and on-time record — and the award. */
function TenderDrawer({ id, onClose }: { id: number | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const me = useMe();
  const localName = useLocalName();
  const ref = useReference();
  const sub = useQuery({
    queryKey: ['subcontract', id],
    queryFn: () => ok(api.GET('/api/v1/subcontracts/{id}', { params: { path: { id: id ?? 0 } } })),
    enabled: id !== null,
  });
  const bids = sub.data?.bids ?? [];
  const quality = useQueries({
    queries: bids.map((b) => ({
      queryKey: ['quality', b.organisation.id],
      queryFn: () => ok(api.GET('/api/v1/organisations/{id}/quality', { params: { path: { id: b.organisation.id } } })),
      staleTime: 60_000,
    })),
  });
  const award = useMutation({
    mutationFn: (b: Bid) => ok(api.POST('/api/v1/subcontracts/{id}/award', { params: { path: { id: id ?? 0 } }, body: { bid_id: b.id } })),
    onSuccess: (_, b) => {
      void message.success(t('pool.awarded', { name: b.organisation.name }));
      void qc.invalidateQueries({ queryKey: ['subcontract', id] });
      void qc.invalidateQueries({ queryKey: ['pool'] });
      void qc.invalidateQueries({ queryKey: ['orders'] });
    },
  });
  const awards = can(me.data, 'subcontract', 'award');
  return (
    <Drawer open={id !== null} onClose={onClose} title={sub.data ? `${sub.data.order_no} · ${t(`mode.${sub.data.mode}`)}` : t('pool.title')} size={phone ? '100%' : 900}>
      <Loaded query={sub}>
        {(s) => (
          <>
            <Descriptions column={{ xs: 1, sm: 2 }} size="small" style={{ marginBottom: 16 }}>
              <Descriptions.Item label={t('common.client')}>{s.client_name}</Descriptions.Item>
              <Descriptions.Item label={t('common.service')}>{localName(s.service)}</Descriptions.Item>
              <Descriptions.Item label={t('common.region')}>{ref.region(s.region)}</Descriptions.Item>
              <Descriptions.Item label={t('common.signer')}>{s.signer_name}</Descriptions.Item>
              <Descriptions.Item label={t('orders.claimDeadline')}>{dateTime(s.claim_deadline)}</Descriptions.Item>
              <Descriptions.Item label={t('common.dueOn')}>{date(s.order_due_on)}</Descriptions.Item>
              <Descriptions.Item label={t('orders.execution')}>{terms(s)}</Descriptions.Item>
              <Descriptions.Item label={t('orders.reason')}>{t(`reason.${s.reason}`)}</Descriptions.Item>
              <Descriptions.Item label={t('orders.orderNo')}><Link to={`/orders/${s.order_id}`}>{s.order_no}</Link></Descriptions.Item>
            </Descriptions>
            {award.error && <Alert type="error" showIcon title={award.error.message} style={{ marginBottom: 12 }} />}
            <Typography.Title level={5}>{t('pool.bids')}</Typography.Title>
            <WideTable<Bid>
              label={t('pool.bids')}
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={bids}
              locale={{ emptyText: t('pool.noBids') }}
              columns={[
                { title: t('statements.party'), render: (_, b) => <Typography.Text strong>{b.organisation.name}</Typography.Text> },
                { title: t('pool.price'), className: 'num', render: (_, b) => terms(b) },
                { title: t('pool.quality'), className: 'num', render: (_, _b, i) => quality[i]?.data?.score ?? '…' },
                { title: t('pool.onTime'), className: 'num', render: (_, _b, i) => { const q = quality[i]?.data; return q ? `${q.on_time}/${q.delivered}` : '…'; } },
                { title: t('pool.ratings'), className: 'num', render: (_, _b, i) => quality[i]?.data?.ratings ?? '…' },
                { title: t('orders.implementers'), render: (_, b) => b.implementers.map((p) => <Tag key={p.id}>{p.name}</Tag>) },
                { title: t('pool.plan'), dataIndex: 'plan', render: (v: string) => <Typography.Paragraph ellipsis={{ rows: 2, expandable: true }} style={{ margin: 0, maxWidth: 280 }}>{v}</Typography.Paragraph> },
                {
                  title: t('common.actions'),
                  render: (_, b) =>
                    s.status === 'open' && awards ? (
                      <Button type="primary" size="small" loading={award.isPending && award.variables?.id === b.id} disabled={award.isPending} onClick={() => award.mutate(b)}>
                        {t('pool.award')}
                      </Button>
                    ) : s.winner_id === b.organisation.id ? <Tag color={TONE.green}>{t('pool.award')}</Tag> : null,
                },
              ]}
            />
          </>
        )}
      </Loaded>
    </Drawer>
  );
}

export default function Pool() {
  const { t } = useTranslation();
  const localName = useLocalName();
  const ref = useReference();
  const [mode, setMode] = useState<Mode | 'all'>('all');
  const [open, setOpen] = useState<number | null>(null);
  const query = useCursorList<Sub>(['pool', mode], (cursor) =>
    ok(api.GET('/api/v1/subcontracts', { params: { query: { mode: mode === 'all' ? undefined : mode, cursor, limit: 50 } } })),
  );
  const columns: TableColumnsType<Sub> = [
    { title: t('orders.orderNo'), dataIndex: 'order_no', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common.service'), render: (_, s) => localName(s.service) },
    { title: t('common.client'), dataIndex: 'client_name' },
    { title: t('common.region'), render: (_, s) => ref.region(s.region) },
    { title: t('orders.mode'), render: (_, s) => t(`mode.${s.mode}`) },
    { title: t('orders.execution'), className: 'num', render: (_, s) => terms(s) },
    { title: t('pool.bids'), className: 'num', render: (_, s) => s.bids.length },
    { title: t('orders.claimDeadline'), dataIndex: 'claim_deadline', className: 'num', render: (v: string) => dateTime(v) },
  ];
  return (
    <Page title={t('pool.title')}>
      <Segmented<Mode | 'all'>
        style={{ marginBottom: 16 }}
        value={mode}
        onChange={setMode}
        options={[{ value: 'all', label: t('common.all') }, { value: 'first_claim', label: t('mode.first_claim') }, { value: 'tender', label: t('mode.tender') }]}
      />
      <CursorList<Sub>
        query={query}
        columns={columns}
        rowKey={(s) => s.id}
        onRow={(s) => setOpen(s.id)}
        empty={t('common.empty')}
        card={(s) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><Typography.Text strong>{localName(s.service)}</Typography.Text><Tag>{t(`mode.${s.mode}`)}</Tag></Flex>
            <div>{s.client_name} · {ref.region(s.region)}</div>
            <Typography.Text type="secondary">{terms(s)} · {t('pool.deadline')} {dateTime(s.claim_deadline)}</Typography.Text>
          </Flex>
        )}
      />
      <TenderDrawer id={open} onClose={() => setOpen(null)} />
    </Page>
  );
}
