import { Alert, App, Button, Card, Descriptions, Drawer, Flex, Form, Input, Space, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, download, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Loaded, Page } from '../components/Page';
import { TONE } from '../components/Status';
import { WideTable } from '../components/WideTable';
import { dateTime, money } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone } from '../lib/hooks';

type Payout = Schemas['PayoutView'];

function PayoutStatus({ p }: { p: Payout }) {
  const { t } = useTranslation();
  if (p.status === 'approved') return <Tag color={TONE.green}>{t('payouts.approved')}</Tag>;
  return <Tag color={TONE.amber}>{p.first_approved_at ? t('payouts.firstApproval') : t('payouts.pending')}</Tag>;
}

/** One batch: its payees, its approvals (the second approver made obvious), the bank file. */
function PayoutDrawer({ id, onClose }: { id: number | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const detail = useQuery({
    queryKey: ['payout', id],
    queryFn: () => ok(api.GET('/api/v1/payouts/{id}', { params: { path: { id: id ?? 0 } } })),
    enabled: id !== null,
  });
  const approve = useMutation({
    mutationFn: () => ok(api.POST('/api/v1/payouts/{id}/approve', { params: { path: { id: id ?? 0 } } })),
    onSuccess: (p) => {
      qc.setQueryData(['payout', id], p);
      void qc.invalidateQueries({ queryKey: ['payouts'] });
      void message.success(p.status === 'approved' ? t('payouts.approved') : t('payouts.firstApproval'));
    },
  });
  const csv = useMutation({ mutationFn: (p: Schemas['PayoutDetail']) => download(`/api/v1/payouts/${p.id}/csv`, `payout-${p.period}.csv`) });
  return (
    <Drawer open={id !== null} onClose={onClose} title={`${t('payouts.title')} ${detail.data?.period ?? ''}`} size={phone ? '100%' : 720}>
      <Loaded query={detail}>
        {(p) => (
          <>
            <Descriptions column={{ xs: 1, sm: 2 }} size="small" style={{ marginBottom: 16 }}>
              <Descriptions.Item label={t('common.status')}><PayoutStatus p={p} /></Descriptions.Item>
              <Descriptions.Item label={t('payouts.total')}><strong className="num">{money(p.total)}</strong></Descriptions.Item>
              <Descriptions.Item label={t('payouts.cutoff')}>{dateTime(p.cutoff)}</Descriptions.Item>
              <Descriptions.Item label={t('payouts.minimum')}>{money(p.minimum)}</Descriptions.Item>
            </Descriptions>
            {p.dual_approval && p.status !== 'approved' && (
              <Alert type="warning" showIcon style={{ marginBottom: 16 }} title={p.first_approved_at ? t('payouts.firstApproval') : t('payouts.dual')} />
            )}
            {(approve.error ?? csv.error) && <Alert type="error" showIcon title={(approve.error ?? csv.error)?.message} style={{ marginBottom: 12 }} />}
            <Space style={{ marginBottom: 16 }} wrap>
              {p.status !== 'approved' && (
                <Button type="primary" loading={approve.isPending} onClick={() => approve.mutate()}>{t('payouts.approve')}</Button>
              )}
              <Button loading={csv.isPending} onClick={() => csv.mutate(p)}>{t('payouts.csv')}</Button>
            </Space>
            <Card size="small" title={t('payouts.payees')}>
              <WideTable
                label={t('payouts.payees')}
                size="small"
                rowKey="party_id"
                pagination={false}
                dataSource={p.payees}
                columns={[
                  { title: t('statements.party'), dataIndex: 'party_name' },
                  { title: t('admin.creditCode'), dataIndex: 'credit_code', render: (v?: string | null) => v ?? '—' },
                  { title: t('common.amount'), dataIndex: 'amount', className: 'num', align: 'right', render: (v: string) => money(v) },
                ]}
              />
            </Card>
          </>
        )}
      </Loaded>
    </Drawer>
  );
}

export default function Payouts() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [open, setOpen] = useState<number | null>(null);
  const query = useCursorList<Payout>(['payouts'], (cursor) => ok(api.GET('/api/v1/payouts', { params: { query: { cursor, limit: 50 } } })));
  const run = useMutation({
    mutationFn: (v: { period: string; minimum?: string }) => ok(api.POST('/api/v1/payouts', { body: { period: v.period.trim(), minimum: v.minimum?.trim() || null } })),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: ['payouts'] });
      setOpen(p.id);
    },
  });
  const columns: TableColumnsType<Payout> = [
    { title: t('money.period'), dataIndex: 'period', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('payouts.items'), dataIndex: 'items', className: 'num' },
    { title: t('payouts.total'), dataIndex: 'total', className: 'num', align: 'right', render: (v: string) => money(v) },
    { title: t('common.status'), render: (_, p) => <PayoutStatus p={p} /> },
    { title: t('payouts.cutoff'), dataIndex: 'cutoff', className: 'num', render: (v: string) => dateTime(v) },
  ];
  return (
    <Page title={t('payouts.title')}>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form layout="inline" initialValues={{ period: dayjs().format('YYYY-MM') }} onFinish={(v: { period: string; minimum?: string }) => run.mutate(v)}>
          <Form.Item name="period" label={t('payouts.period')} rules={[{ required: true, pattern: /^\d{4}-\d{2}$/ }]} {...fieldError(run.error, 'period')}>
            <Input style={{ width: 120 }} />
          </Form.Item>
          <Form.Item name="minimum" label={t('payouts.minimum')} {...fieldError(run.error, 'minimum')}>
            <Input prefix="¥" style={{ width: 140 }} inputMode="decimal" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={run.isPending}>{t('payouts.run')}</Button>
        </Form>
        {formError(run.error) && <Alert type="error" showIcon title={formError(run.error)} style={{ marginTop: 12 }} />}
      </Card>
      <CursorList<Payout>
        query={query}
        columns={columns}
        rowKey={(p) => p.id}
        onRow={(p) => setOpen(p.id)}
        empty={t('common.empty')}
        card={(p) => (
          <Flex justify="space-between" align="center">
            <div><Typography.Text strong>{p.period}</Typography.Text> <PayoutStatus p={p} /></div>
            <span className="num">{money(p.total)}</span>
          </Flex>
        )}
      />
      <PayoutDrawer id={open} onClose={() => setOpen(null)} />
    </Page>
  );
}
