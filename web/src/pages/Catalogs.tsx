// The smaller catalogs of the platform admin: outcome kinds (create, retire), agreement templates
// and tier thresholds (as they stand).
import { Alert, App, Button, Card, Drawer, Flex, Form, Input, InputNumber, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Loaded, Page } from '../components/Page';
import { TONE } from '../components/Status';
import { WideTable } from '../components/WideTable';
import { money, rate } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone, useLocalName } from '../lib/hooks';

type Kind = Schemas['OutcomeKindView'];

export function OutcomeKinds() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const localName = useLocalName();
  const [open, setOpen] = useState(false);
  const query = useCursorList<Kind>(['outcome-kinds'], async () => {
    const list = await ok(api.GET('/api/v1/outcome-kinds', {}));
    return { items: list.items, next_cursor: null };
  });
  const create = useMutation({
    mutationFn: (body: Schemas['CreateOutcomeKindRequest']) => ok(api.POST('/api/v1/outcome-kinds', { body })),
    onSuccess: (k) => { void message.success(t('catalog.created', { name: localName(k) })); void qc.invalidateQueries({ queryKey: ['outcome-kinds'] }); setOpen(false); },
  });
  const toggle = useMutation({
    mutationFn: (k: Kind) => ok(api.PATCH('/api/v1/outcome-kinds/{code}', { params: { path: { code: k.code } }, body: { status: k.status === 'active' ? 'retired' : 'active' } })),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['outcome-kinds'] }); void message.success(t('common.saved')); },
  });
  const columns: TableColumnsType<Kind> = [
    { title: t('catalog.code'), dataIndex: 'code', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common.name'), render: (_, k) => localName(k) },
    { title: t('catalog.windowMonths'), dataIndex: 'window_months', className: 'num' },
    { title: t('common.status'), render: (_, k) => <Tag color={k.status === 'active' ? TONE.green : undefined}>{t(`catalog.statuses.${k.status}`)}</Tag> },
    { title: t('common.actions'), render: (_, k) => <Button size="small" onClick={() => toggle.mutate(k)}>{k.status === 'active' ? t('catalog.retire') : t('catalog.activate')}</Button> },
  ];
  return (
    <Page title={t('catalog.outcomeKinds')} extra={<Button type="primary" onClick={() => setOpen(true)}>{t('catalog.newOutcomeKind')}</Button>}>
      {toggle.error && <Alert type="error" showIcon title={toggle.error.message} style={{ marginBottom: 12 }} />}
      <CursorList<Kind> query={query} columns={columns} rowKey={(k) => k.id} empty={t('common.empty')} card={(k) => <Flex justify="space-between"><Typography.Text strong>{localName(k)}</Typography.Text><Tag>{k.code}</Tag></Flex>} />
      <Drawer open={open} onClose={() => setOpen(false)} title={t('catalog.newOutcomeKind')} size={phone ? '100%' : 520} destroyOnHidden>
        <Form<Schemas['CreateOutcomeKindRequest']> layout="vertical" initialValues={{ window_months: 24 }} onFinish={(v) => create.mutate(v)}>
          <Form.Item name="code" label={t('catalog.code')} rules={[{ required: true }]} {...fieldError(create.error, 'code')}><Input placeholder="zhuanjingtexin" /></Form.Item>
          <Form.Item name="name_zh" label={t('admin.nameZh')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_zh')}><Input /></Form.Item>
          <Form.Item name="name_en" label={t('admin.nameEn')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_en')}><Input /></Form.Item>
          <Form.Item name="window_months" label={t('catalog.windowMonths')} {...fieldError(create.error, 'window_months')}><InputNumber min={1} max={120} /></Form.Item>
          {formError(create.error) && <Alert type="error" showIcon title={formError(create.error)} style={{ marginBottom: 12 }} />}
          <Button type="primary" htmlType="submit" block loading={create.isPending}>{t('catalog.newOutcomeKind')}</Button>
        </Form>
      </Drawer>
    </Page>
  );
}

export function Templates() {
  const { t } = useTranslation();
  const localName = useLocalName();
  const list = useQuery({ queryKey: ['agreement-templates'], queryFn: () => ok(api.GET('/api/v1/agreement-templates', {})) });
  return (
    <Page title={t('catalog.templates')}>
      <Loaded query={list}>
        {(l) => (
          <Flex vertical gap={16}>
            {l.items.map((tpl) => (
              <Card key={tpl.code} size="small" title={`${localName(tpl)} · ${tpl.code} · ${t('catalog.version')} ${tpl.version}`}>
                <WideTable
                  label={t('catalog.rules')}
                  size="small"
                  pagination={false}
                  rowKey={(_, i) => String(i)}
                  dataSource={tpl.rules}
                  columns={[
                    { title: '#', render: (_, _r, i) => i + 1, width: 48 },
                    { title: t('money.stream'), dataIndex: 'stream' },
                    { title: t('catalog.beneficiary'), dataIndex: 'beneficiary' },
                    { title: t('catalog.basis'), dataIndex: 'basis' },
                    { title: t('catalog.rate'), dataIndex: 'rate', className: 'num', render: (v?: string | null) => rate(v) },
                    { title: t('catalog.held'), dataIndex: 'held_until_acceptance', render: (v?: boolean | null) => (v ? t('common.yes') : t('common.no')) },
                  ]}
                />
              </Card>
            ))}
          </Flex>
        )}
      </Loaded>
    </Page>
  );
}

export function Thresholds() {
  const { t } = useTranslation();
  const list = useQuery({ queryKey: ['tier-thresholds'], queryFn: () => ok(api.GET('/api/v1/tier-thresholds', {})) });
  return (
    <Page title={t('catalog.thresholds')}>
      <Loaded query={list}>
        {(l) => (
          <WideTable
            label={t('catalog.thresholds')}
            size="middle"
            pagination={false}
            rowKey="tier"
            dataSource={l.items}
            columns={[
              { title: t('admin.tier'), render: (_, r) => <Typography.Text strong>{t(`admin.tiers.${r.tier}`)}</Typography.Text> },
              { title: t('catalog.minRevenue'), className: 'num', align: 'right', render: (_, r) => money(r.min_revenue) },
              { title: t('catalog.minCredentials'), dataIndex: 'min_valid_credentials', className: 'num' },
              { title: t('catalog.minQuality'), dataIndex: 'min_quality', className: 'num', render: (v?: string | null) => v ?? '—' },
              { title: t('catalog.minOnTime'), dataIndex: 'min_on_time_rate', className: 'num', render: (v?: string | null) => rate(v) },
              { title: t('catalog.maxDispute'), dataIndex: 'max_dispute_rate', className: 'num', render: (v?: string | null) => rate(v) },
              { title: t('catalog.minSuccess'), dataIndex: 'min_success_rate', className: 'num', render: (v?: string | null) => rate(v) },
            ]}
          />
        )}
      </Loaded>
    </Page>
  );
}
