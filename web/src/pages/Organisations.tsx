import { Alert, App, Button, Col, Drawer, Flex, Form, Input, InputNumber, Row, Select, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { TONE } from '../components/Status';
import { percentToRate, rate } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone, useLocalName, useReference } from '../lib/hooks';

type Org = Schemas['OrganisationView'];
type Kind = Schemas['OrgKindName'];
type Create = Schemas['CreateOrganisationRequest'];
const KINDS: Kind[] = ['vendor', 'direct_team', 'equity_partner', 'subcontract_partner', 'client'];

function NewOrganisation({ onDone }: { onDone: (o: Org) => void }) {
  const { t } = useTranslation();
  const ref = useReference();
  const localName = useLocalName();
  const [form] = Form.useForm<Create & { stake_percent?: string }>();
  const kind = Form.useWatch('kind', form);
  const create = useMutation({
    mutationFn: (v: Create & { stake_percent?: string }) => {
      const { stake_percent, ...body } = v;
      return ok(
        api.POST('/api/v1/organisations', {
          body: { ...body, equity_stake: stake_percent ? percentToRate(stake_percent) : null, name_en: body.name_en || null, credit_code: body.credit_code || null },
        }),
      );
    },
    onSuccess: onDone,
  });
  const options = (list: 'regions' | 'industries' | 'service_categories') => (ref.data?.[list] ?? []).map((r) => ({ value: r.code, label: localName(r) }));
  const partner = kind === 'equity_partner' || kind === 'subcontract_partner' || kind === 'direct_team';
  return (
    <Form form={form} layout="vertical" initialValues={{ kind: 'subcontract_partner', regions: [], industries: [], categories: [] }} onFinish={(v) => create.mutate(v)}>
      <Form.Item name="kind" label={t('admin.kind')} rules={[{ required: true }]}>
        <Select options={KINDS.filter((k) => k !== 'vendor').map((k) => ({ value: k, label: t(`admin.kinds.${k}`) }))} />
      </Form.Item>
      <Form.Item name="name_zh" label={t('admin.nameZh')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_zh')}>
        <Input />
      </Form.Item>
      <Form.Item name="name_en" label={t('admin.nameEn')} {...fieldError(create.error, 'name_en')}>
        <Input />
      </Form.Item>
      <Form.Item name="credit_code" label={t('admin.creditCode')} {...fieldError(create.error, 'credit_code')}>
        <Input maxLength={18} />
      </Form.Item>
      <Form.Item name="regions" label={t('admin.regions')} {...fieldError(create.error, 'regions')}>
        <Select mode="multiple" options={options('regions')} optionFilterProp="label" />
      </Form.Item>
      <Form.Item name="industries" label={t('admin.industries')} {...fieldError(create.error, 'industries')}>
        <Select mode="multiple" options={options('industries')} optionFilterProp="label" />
      </Form.Item>
      {partner && (
        <>
          <Form.Item name="categories" label={t('admin.categories')} {...fieldError(create.error, 'categories')}>
            <Select mode="multiple" options={options('service_categories')} optionFilterProp="label" />
          </Form.Item>
          <Row gutter={12}>
            <Col span={12}>
              <Form.Item name="capacity" label={t('admin.capacity')} {...fieldError(create.error, 'capacity')}>
                <InputNumber min={0} max={10000} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            {kind === 'equity_partner' && (
              <Col span={12}>
                <Form.Item name="stake_percent" label={`${t('admin.stake')} (%)`} {...fieldError(create.error, 'equity_stake')}>
                  <Input inputMode="decimal" suffix="%" />
                </Form.Item>
              </Col>
            )}
          </Row>
        </>
      )}
      <Row gutter={12}>
        <Col xs={24} sm={12}>
          <Form.Item name="contact_name" label={t('admin.contact')}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item name="contact_email" label={t('admin.contactEmail')} {...fieldError(create.error, 'contact_email')}>
            <Input inputMode="email" />
          </Form.Item>
        </Col>
      </Row>
      {formError(create.error) && <Alert type="error" showIcon title={formError(create.error)} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" block loading={create.isPending}>
        {t('admin.newOrg')}
      </Button>
    </Form>
  );
}

export default function Organisations() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const ref = useReference();
  const [params, setParams] = useSearchParams();
  const [open, setOpen] = useState(false);
  const kind = (params.get('kind') as Kind | null) ?? undefined;
  const q = params.get('q') ?? undefined;
  const query = useCursorList<Org>(['organisations', kind, q], (cursor) => ok(api.GET('/api/v1/organisations', { params: { query: { kind, q, cursor, limit: 50 } } })));
  const columns: TableColumnsType<Org> = [
    { title: t('common.name'), render: (_, o) => <><Typography.Text strong>{o.name_zh}</Typography.Text>{o.name_en && <div><Typography.Text type="secondary">{o.name_en}</Typography.Text></div>}</> },
    { title: t('admin.kind'), render: (_, o) => t(`admin.kinds.${o.kind}`) },
    { title: t('admin.regions'), render: (_, o) => o.regions.map((r) => ref.region(r)).join('、') || '—' },
    { title: t('admin.capacity'), dataIndex: 'capacity', className: 'num', render: (v?: number | null) => v ?? '—' },
    { title: t('admin.stake'), dataIndex: 'equity_stake', className: 'num', render: (v?: string | null) => rate(v) },
    { title: t('admin.tier'), render: (_, o) => (o.tier ? t(`admin.tiers.${o.tier}`) : '—') },
    { title: t('common.status'), render: (_, o) => <Tag color={o.status === 'active' ? TONE.green : undefined}>{t(`admin.orgStatus.${o.status}`)}</Tag> },
  ];
  const set = (k: string, v?: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  return (
    <Page title={t('admin.orgTitle')} extra={<Button type="primary" onClick={() => setOpen(true)}>{t('admin.newOrg')}</Button>}>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input.Search allowClear defaultValue={q} placeholder={t('common.search')} aria-label={t('common.search')} onSearch={(v) => set('q', v.trim() || undefined)} style={{ width: 240, maxWidth: '100%' }} />
        <Select allowClear value={kind} placeholder={t('admin.kind')} aria-label={t('admin.kind')} style={{ width: 180 }} onChange={(v?: string) => set('kind', v)} options={KINDS.map((k) => ({ value: k, label: t(`admin.kinds.${k}`) }))} />
      </Flex>
      <CursorList<Org>
        query={query}
        columns={columns}
        rowKey={(o) => o.id}
        empty={t('common.empty')}
        card={(o) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><Typography.Text strong>{o.name_zh}</Typography.Text><Tag>{t(`admin.kinds.${o.kind}`)}</Tag></Flex>
            <Typography.Text type="secondary">{o.regions.map((r) => ref.region(r)).join('、') || '—'}</Typography.Text>
          </Flex>
        )}
      />
      <Drawer open={open} onClose={() => setOpen(false)} title={t('admin.newOrg')} size={phone ? '100%' : 560} destroyOnHidden>
        <NewOrganisation
          onDone={(o) => {
            void message.success(t('admin.created', { name: o.name_zh }));
            void qc.invalidateQueries({ queryKey: ['organisations'] });
            setOpen(false);
          }}
        />
      </Drawer>
    </Page>
  );
}
