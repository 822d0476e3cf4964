import { Alert, App, Button, Card, Col, Descriptions, Drawer, Empty, Flex, Form, Input, InputNumber, Row, Select, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Loaded, Page } from '../components/Page';
import { TONE } from '../components/Status';
import { dateTime } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone, useLocalName, useReference } from '../lib/hooks';

type Cert = Schemas['CertificationView'];
type Publish = Schemas['PublishRequirementsRequest'];

/** A certification's requirements (the current version) and publishing the next version. */
function Requirements({ cert }: { cert: Cert }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const current = useQuery({
    queryKey: ['requirements', cert.id],
    queryFn: () => ok(api.GET('/api/v1/certifications/{id}/requirements', { params: { path: { id: cert.id } } })),
    retry: false,
  });
  const publish = useMutation({
    mutationFn: (body: Publish) => ok(api.PUT('/api/v1/certifications/{id}/requirements', { params: { path: { id: cert.id } }, body })),
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['requirements', cert.id] }); void message.success(t('common.saved')); },
  });
  const r = current.data?.current ?? null;
  const none = (current.error instanceof ApiError && current.error.status === 404) || (current.data !== undefined && r === null);
  return (
    <>
      <Card size="small" title={r ? `${t('catalog.requirements')} · ${t('catalog.version')} ${r.version}` : t('catalog.requirements')} style={{ marginBottom: 16 }}>
        {none ? <Empty description={t('catalog.noRequirements')} /> : (
          <Loaded query={current}>
            {() => r && (
              <Descriptions column={1} size="small">
                <Descriptions.Item label={t('catalog.examMinScore')}>{r.exam_min_score ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={t('catalog.trainingHours')}>{r.training_hours ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={t('catalog.deliveryCount')}>{r.delivery_count}</Descriptions.Item>
                <Descriptions.Item label={t('catalog.deliveryServices')}>{r.delivery_services.map((s: string) => <Tag key={s}>{s}</Tag>)}</Descriptions.Item>
                <Descriptions.Item label={t('catalog.minAverageRating')}>{r.min_average_rating ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={t('catalog.validityMonths')}>{r.validity_months}</Descriptions.Item>
                <Descriptions.Item label={t('audit.at')}>{dateTime(r.created_at)}</Descriptions.Item>
              </Descriptions>
            )}
          </Loaded>
        )}
      </Card>
      <Card size="small" title={t('catalog.publish')}>
        <Form<Publish>
          layout="vertical"
          key={r?.version ?? 0}
          initialValues={{ validity_months: r?.validity_months ?? cert.validity_months, exam_min_score: r?.exam_min_score, training_hours: r?.training_hours, delivery_count: r?.delivery_count, delivery_services: r?.delivery_services ?? [], min_average_rating: r?.min_average_rating }}
          onFinish={(v) => publish.mutate({ ...v, min_average_rating: v.min_average_rating || null })}
        >
          <Row gutter={12}>
            <Col span={12}><Form.Item name="exam_min_score" label={t('catalog.examMinScore')} {...fieldError(publish.error, 'exam_min_score')}><InputNumber min={0} max={100} style={{ width: '100%' }} /></Form.Item></Col>
            <Col span={12}><Form.Item name="training_hours" label={t('catalog.trainingHours')} {...fieldError(publish.error, 'training_hours')}><InputNumber min={0} max={1000} style={{ width: '100%' }} /></Form.Item></Col>
            <Col span={12}><Form.Item name="delivery_count" label={t('catalog.deliveryCount')} {...fieldError(publish.error, 'delivery_count')}><InputNumber min={0} max={100} style={{ width: '100%' }} /></Form.Item></Col>
            <Col span={12}><Form.Item name="min_average_rating" label={t('catalog.minAverageRating')} {...fieldError(publish.error, 'min_average_rating')}><Input placeholder="4.0" /></Form.Item></Col>
            <Col span={12}><Form.Item name="validity_months" label={t('catalog.validityMonths')} rules={[{ required: true }]} {...fieldError(publish.error, 'validity_months')}><InputNumber min={1} max={120} style={{ width: '100%' }} /></Form.Item></Col>
            <Col span={12}><Form.Item name="delivery_services" label={t('catalog.deliveryServices')} {...fieldError(publish.error, 'delivery_services')}><Select mode="tags" /></Form.Item></Col>
          </Row>
          {formError(publish.error) && <Alert type="error" showIcon title={formError(publish.error)} style={{ marginBottom: 12 }} />}
          <Button type="primary" htmlType="submit" loading={publish.isPending}>{t('catalog.publish')}</Button>
        </Form>
      </Card>
    </>
  );
}

function NewCertification({ onDone }: { onDone: (c: Cert) => void }) {
  const { t } = useTranslation();
  const ref = useReference();
  const localName = useLocalName();
  const create = useMutation({ mutationFn: (body: Schemas['CreateCertificationRequest']) => ok(api.POST('/api/v1/certifications', { body })), onSuccess: onDone });
  return (
    <Form<Schemas['CreateCertificationRequest']> layout="vertical" initialValues={{ validity_months: 24 }} onFinish={(v) => create.mutate(v)}>
      <Form.Item name="code" label={t('catalog.code')} rules={[{ required: true }]} {...fieldError(create.error, 'code')}><Input placeholder="ERP-L2" /></Form.Item>
      <Form.Item name="name_zh" label={t('admin.nameZh')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_zh')}><Input /></Form.Item>
      <Form.Item name="name_en" label={t('admin.nameEn')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'name_en')}><Input /></Form.Item>
      <Form.Item name="category" label={t('catalog.category')} rules={[{ required: true }]} {...fieldError(create.error, 'category')}>
        <Select options={(ref.data?.service_categories ?? []).map((c) => ({ value: c.code, label: localName(c) }))} />
      </Form.Item>
      <Form.Item name="validity_months" label={t('catalog.validityMonths')} rules={[{ required: true }]} {...fieldError(create.error, 'validity_months')}><InputNumber min={1} max={120} /></Form.Item>
      {formError(create.error) && <Alert type="error" showIcon title={formError(create.error)} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" block loading={create.isPending}>{t('catalog.newCertification')}</Button>
    </Form>
  );
}

export default function Certifications() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const localName = useLocalName();
  const [open, setOpen] = useState<Cert | 'new' | null>(null);
  const query = useCursorList<Cert>(['certifications'], (cursor) => ok(api.GET('/api/v1/certifications', { params: { query: { cursor, limit: 100 } } })));
  const columns: TableColumnsType<Cert> = [
    { title: t('catalog.code'), dataIndex: 'code', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common.name'), render: (_, c) => localName(c) },
    { title: t('catalog.validityMonths'), dataIndex: 'validity_months', className: 'num' },
    { title: t('common.status'), render: (_, c) => <Tag color={c.status === 'active' ? TONE.green : undefined}>{t(`catalog.statuses.${c.status}`)}</Tag> },
  ];
  const cert = open !== null && open !== 'new' ? open : null;
  return (
    <Page title={t('catalog.certifications')} extra={<Button type="primary" onClick={() => setOpen('new')}>{t('catalog.newCertification')}</Button>}>
      <CursorList<Cert>
        query={query}
        columns={columns}
        rowKey={(c) => c.id}
        onRow={(c) => setOpen(c)}
        empty={t('common.empty')}
        card={(c) => (<Flex justify="space-between"><Typography.Text strong>{c.code} · {localName(c)}</Typography.Text><Tag>{c.validity_months}</Tag></Flex>)}
      />
      <Drawer open={open !== null} onClose={() => setOpen(null)} title={cert ? `${cert.code} · ${localName(cert)}` : t('catalog.newCertification')} size={phone ? '100%' : 640} destroyOnHidden>
        {cert ? <Requirements cert={cert} /> : (
          <NewCertification onDone={(c) => { void message.success(t('catalog.created', { name: localName(c) })); void qc.invalidateQueries({ queryKey: ['certifications'] }); setOpen(c); }} />
        )}
      </Drawer>
    </Page>
  );
}
