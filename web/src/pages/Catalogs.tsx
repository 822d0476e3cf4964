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
import { percentToRate, rate } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone, useLocalName } from '../lib/hooks';

type Kind = Schemas['OutcomeKindView'];

/** A rate as typed in percent ("40") and back ("0.40"). */
const percent = (v?: string | null) => (v ? rate(v).replace('%', '') : '');
const fraction = (v?: string) => (v && v.trim() ? percentToRate(v) : null);


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

type Template = Schemas['AgreementTemplateView'];

/** One template: its rules as a table, each rule's rate editable in percent; saved as a new version. */
function TemplateCard({ tpl }: { tpl: Template }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const localName = useLocalName();
  const [rates, setRates] = useState<string[]>(() => tpl.rules.map((r) => percent(r.rate)));
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PUT('/api/v1/agreement-templates/{code}', {
          params: { path: { code: tpl.code } },
          body: {
            name_zh: tpl.name_zh,
            name_en: tpl.name_en,
            rules: tpl.rules.map((r, i) => ({ ...r, rate: r.rate == null && !rates[i] ? null : fraction(rates[i]) })),
            tiers: tpl.tiers,
          },
        }),
      ),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['agreement-templates'] }); void message.success(t('common.saved')); },
  });
  return (
    <Card size="small" title={`${localName(tpl)} · ${tpl.code} · ${t('catalog.version')} ${tpl.version}`} extra={<Button size="small" type="primary" loading={save.isPending} onClick={() => save.mutate()}>{t('common.save')}</Button>}>
      {save.error && <Alert type="error" showIcon title={save.error.message} style={{ marginBottom: 12 }} />}
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
          {
            title: `${t('catalog.rate')} (%)`,
            render: (_, r, i) =>
              r.rate == null ? '—' : (
                <Input
                  aria-label={`${t('catalog.rate')} #${i + 1}`}
                  value={rates[i]}
                  suffix="%"
                  style={{ width: 110 }}
                  onChange={(e) => setRates((old) => old.map((x, j) => (j === i ? e.target.value : x)))}
                />
              ),
          },
          { title: t('catalog.held'), dataIndex: 'held_until_acceptance', render: (v?: boolean | null) => (v ? t('common.yes') : t('common.no')) },
        ]}
      />
    </Card>
  );
}

export function Templates() {
  const { t } = useTranslation();
  const list = useQuery({ queryKey: ['agreement-templates'], queryFn: () => ok(api.GET('/api/v1/agreement-templates', {})) });
  return (
    <Page title={t('catalog.templates')}>
      <Loaded query={list}>
        {(l) => (
          <Flex vertical gap={16}>
            {l.items.map((tpl) => <TemplateCard key={`${tpl.code}-${tpl.version}`} tpl={tpl} />)}
          </Flex>
        )}
      </Loaded>
    </Page>
  );
}

type ThresholdForm = {
  items: {
    tier: Schemas['TierName'];
    min_revenue: string;
    min_valid_credentials: number;
    min_quality?: string | null;
    on_time?: string;
    dispute?: string;
    success?: string;
  }[];
};


/** The tier thresholds, edited as a person reads them: amounts in yuan, rates in percent. */
export function Thresholds() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['tier-thresholds'], queryFn: () => ok(api.GET('/api/v1/tier-thresholds', {})) });
  const save = useMutation({
    mutationFn: (v: ThresholdForm) =>
      ok(
        api.PUT('/api/v1/tier-thresholds', {
          body: {
            items: v.items.map((r) => ({
              tier: r.tier,
              min_revenue: r.min_revenue.trim(),
              min_valid_credentials: r.min_valid_credentials,
              min_quality: r.min_quality?.trim() || null,
              min_on_time_rate: fraction(r.on_time),
              max_dispute_rate: fraction(r.dispute),
              min_success_rate: fraction(r.success),
            })),
          },
        }),
      ),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['tier-thresholds'] }); void message.success(t('common.saved')); },
  });
  return (
    <Page title={t('catalog.thresholds')}>
      <Loaded query={list}>
        {(l) => (
          <Form<ThresholdForm>
            layout="vertical"
            initialValues={{
              items: l.items.map((r) => ({
                tier: r.tier,
                min_revenue: r.min_revenue,
                min_valid_credentials: r.min_valid_credentials,
                min_quality: r.min_quality,
                on_time: percent(r.min_on_time_rate),
                dispute: percent(r.max_dispute_rate),
                success: percent(r.min_success_rate),
              })),
            }}
            onFinish={(v) => save.mutate({ items: v.items.map((r, i) => ({ ...r, tier: l.items[i]?.tier ?? r.tier })) })}
          >
            <Form.List name="items">
              {(fields) =>
                fields.map((f) => {
                  const tier = l.items[f.name]?.tier;
                  return (
                    <Card key={f.key} size="small" title={tier ? t(`admin.tiers.${tier}`) : ''} style={{ marginBottom: 12 }}>
                      <Flex gap={12} wrap>
                        <Form.Item name={[f.name, 'min_revenue']} label={t('catalog.minRevenue')} rules={[{ required: true, pattern: /^\d+(\.\d{1,2})?$/ }]}><Input prefix="¥" style={{ width: 160 }} /></Form.Item>
                        <Form.Item name={[f.name, 'min_valid_credentials']} label={t('catalog.minCredentials')} rules={[{ required: true }]}><InputNumber min={0} style={{ width: 120 }} /></Form.Item>
                        <Form.Item name={[f.name, 'min_quality']} label={t('catalog.minQuality')}><Input style={{ width: 100 }} placeholder="4.00" /></Form.Item>
                        <Form.Item name={[f.name, 'on_time']} label={`${t('catalog.minOnTime')} (%)`}><Input suffix="%" style={{ width: 110 }} /></Form.Item>
                        <Form.Item name={[f.name, 'dispute']} label={`${t('catalog.maxDispute')} (%)`}><Input suffix="%" style={{ width: 110 }} /></Form.Item>
                        <Form.Item name={[f.name, 'success']} label={`${t('catalog.minSuccess')} (%)`}><Input suffix="%" style={{ width: 110 }} /></Form.Item>
                      </Flex>
                    </Card>
                  );
                })
              }
            </Form.List>
            {save.error && <Alert type="error" showIcon title={save.error.message} style={{ marginBottom: 12 }} />}
            <Button type="primary" htmlType="submit" loading={save.isPending}>{t('common.save')}</Button>
          </Form>
        )}
      </Loaded>
    </Page>
  );
}
