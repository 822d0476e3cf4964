import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, App, Button, Col, Drawer, Flex, Form, Input, InputNumber, Row, Select, Space, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { TONE } from '../components/Status';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone, useLocalName, useReference } from '../lib/hooks';

type Service = Schemas['ServiceView'];
type Create = Schemas['CreateServiceRequest'];

function NewService({ onDone }: { onDone: (s: Service) => void }) {
  const { t } = useTranslation();
  const ref = useReference();
  const localName = useLocalName();
  const create = useMutation({ mutationFn: (body: Create) => ok(api.POST('/api/v1/services', { body })), onSuccess: onDone });
  return (
    <Form<Create> layout="vertical" initialValues={{ milestones: [{ due_days: 30 }], required_certifications: [] }} onFinish={(v) => create.mutate(v)}>
      <Row gutter={12}>
        <Col xs={24} sm={8}>
          <Form.Item name="code" label={t('catalog.code')} rules={[{ required: true }]} {...fieldError(create.error, 'code')}><Input placeholder="ERP-IMPL" /></Form.Item>
        </Col>
        <Col xs={24} sm={16}>
          <Form.Item name="category" label={t('catalog.category')} rules={[{ required: true }]} {...fieldError(create.error, 'category')}>
            <Select options={(ref.data?.service_categories ?? []).map((c) => ({ value: c.code, label: localName(c) }))} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item name="name_zh" label={t('admin.nameZh')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_zh')}><Input /></Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item name="name_en" label={t('admin.nameEn')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_en')}><Input /></Form.Item>
        </Col>
      </Row>
      <Form.Item name="required_certifications" label={t('catalog.requiredCerts')} {...fieldError(create.error, 'required_certifications')}>
        <Select mode="tags" tokenSeparators={[',', ' ']} />
      </Form.Item>
      <Form.Item label={t('catalog.milestones')} {...fieldError(create.error, 'milestones')}>
        <Form.List name="milestones">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" wrap>
                  <Form.Item name={[f.name, 'code']} rules={[{ required: true, pattern: /^[a-z0-9_]{2,32}$/ }]}><Input aria-label={t('catalog.code')} placeholder="go_live" style={{ width: 110 }} /></Form.Item>
                  <Form.Item name={[f.name, 'name_zh']} rules={[{ required: true }]}><Input aria-label={t('admin.nameZh')} placeholder={t('admin.nameZh')} style={{ width: 120 }} /></Form.Item>
                  <Form.Item name={[f.name, 'name_en']} rules={[{ required: true }]}><Input aria-label={t('admin.nameEn')} placeholder={t('admin.nameEn')} style={{ width: 120 }} /></Form.Item>
                  <Form.Item name={[f.name, 'due_days']} rules={[{ required: true }]}><InputNumber aria-label={t('catalog.dueDays')} min={1} max={1095} style={{ width: 90 }} /></Form.Item>
                  {fields.length > 1 && <MinusCircleOutlined aria-label={t('common.cancel')} onClick={() => remove(f.name)} />}
                </Space>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ due_days: 60 })}>{t('catalog.addMilestone')}</Button>
            </>
          )}
        </Form.List>
      </Form.Item>
      {formError(create.error) && <Alert type="error" showIcon title={formError(create.error)} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" block loading={create.isPending}>{t('catalog.newService')}</Button>
    </Form>
  );
}

export default function Services() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const localName = useLocalName();
  const ref = useReference();
  const [open, setOpen] = useState(false);
  const query = useCursorList<Service>(['services'], (cursor) => ok(api.GET('/api/v1/services', { params: { query: { cursor, limit: 100 } } })));
  const toggle = useMutation({
    mutationFn: (s: Service) => ok(api.PATCH('/api/v1/services/{id}', { params: { path: { id: s.id } }, body: { status: s.status === 'active' ? 'retired' : 'active' } })),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['services'] }); void message.success(t('common.saved')); },
  });
  const category = (code: string) => localName(ref.data?.service_categories.find((c) => c.code === code)) || code;
  const columns: TableColumnsType<Service> = [
    { title: t('catalog.code'), dataIndex: 'code', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common.name'), render: (_, s) => localName(s) },
    { title: t('catalog.category'), render: (_, s) => category(s.category) },
    { title: t('catalog.requiredCerts'), render: (_, s) => s.required_certifications.map((c) => <Tag key={c}>{c}</Tag>) },
    { title: t('catalog.milestones'), render: (_, s) => s.milestones.map((m) => localName(m)).join(' → ') },
    { title: t('common.status'), render: (_, s) => <Tag color={s.status === 'active' ? TONE.green : undefined}>{t(`catalog.statuses.${s.status}`)}</Tag> },
    { title: t('common.actions'), render: (_, s) => <Button size="small" loading={toggle.isPending && toggle.variables?.id === s.id} onClick={() => toggle.mutate(s)}>{s.status === 'active' ? t('catalog.retire') : t('catalog.activate')}</Button> },
  ];
  return (
    <Page title={t('catalog.services')} extra={<Button type="primary" onClick={() => setOpen(true)}>{t('catalog.newService')}</Button>}>
      {toggle.error && <Alert type="error" showIcon title={toggle.error.message} style={{ marginBottom: 12 }} />}
      <CursorList<Service>
        query={query}
        columns={columns}
        rowKey={(s) => s.id}
        empty={t('common.empty')}
        card={(s) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><Typography.Text strong>{localName(s)}</Typography.Text><Tag>{s.code}</Tag></Flex>
            <Typography.Text type="secondary">{category(s.category)} · {s.milestones.length} {t('catalog.milestones')}</Typography.Text>
          </Flex>
        )}
      />
      <Drawer open={open} onClose={() => setOpen(false)} title={t('catalog.newService')} size={phone ? '100%' : 720} destroyOnHidden>
        <NewService onDone={(s) => { void message.success(t('catalog.created', { name: localName(s) })); void qc.invalidateQueries({ queryKey: ['services'] }); setOpen(false); }} />
      </Drawer>
    </Page>
  );
}
