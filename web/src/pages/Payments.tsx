import { Alert, Button, Card, Col, DatePicker, Drawer, Form, Input, InputNumber, Result, Row, Select, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { fieldError } from '../lib/forms';
import { api, ApiError, idempotencyKey, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { EntriesTable } from '../components/MoneyTable';
import { Page } from '../components/Page';
import { date, money } from '../lib/format';
import { useIsPhone, useLocalName } from '../lib/hooks';

type Payment = Schemas['PaymentView'];
type Form = { contract_id: number; line_no: number; stream: Schemas['StreamName']; year?: number; amount: string; received_on: dayjs.Dayjs; note?: string };


/** Record a payment or a refund; the form holds one Idempotency-Key, so a double click records once. */
function RecordPayment({ onDone }: { onDone: (p: Payment) => void }) {
  const { t } = useTranslation();
  const localName = useLocalName();
  const qc = useQueryClient();
  const [form] = Form.useForm<Form>();
  const [key] = useState(idempotencyKey);
  const [search, setSearch] = useState<string>();
  const contractId = Form.useWatch('contract_id', form);
  const contracts = useQuery({
    queryKey: ['contracts', 'pick', search],
    queryFn: () => ok(api.GET('/api/v1/contracts', { params: { query: { q: search, limit: 20 } } })),
  });
  const chosen = contracts.data?.items.find((c) => c.id === contractId);
  const record = useMutation({
    mutationFn: (v: Form) =>
      ok(
        api.POST('/api/v1/payments', {
          params: { header: { 'Idempotency-Key': key } },
          body: {
            contract_id: v.contract_id,
            line_no: v.line_no,
            stream: v.stream,
            year: v.stream === 'maintenance' ? (v.year ?? null) : null,
            amount: v.amount.trim(),
            received_on: v.received_on.format('YYYY-MM-DD'),
            note: v.note?.trim() || null,
          },
        }),
      ),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: ['payments'] });
      void qc.invalidateQueries({ queryKey: ['contract-money', p.contract_id] });
      onDone(p);
    },
  });
  const stream = Form.useWatch('stream', form);
  return (
    <Form<Form> form={form} layout="vertical" initialValues={{ stream: 'first_year', line_no: 1, received_on: dayjs() }} onFinish={(v) => record.mutate(v)}>
      <Form.Item name="contract_id" label={t('money.contract')} rules={[{ required: true }]} {...fieldError(record.error, 'contract_id')}>
        <Select
          showSearch={{ filterOption: false, onSearch: (v) => setSearch(v.trim() || undefined) }}
          loading={contracts.isFetching}
          options={(contracts.data?.items ?? []).map((c) => ({ value: c.id, label: `${c.contract_no} · ${c.client.name}` }))}
        />
      </Form.Item>
      <Row gutter={12}>
        <Col xs={24} sm={12}>
          <Form.Item name="line_no" label={t('money.line')} rules={[{ required: true }]} {...fieldError(record.error, 'line_no')}>
            <Select options={(chosen?.lines ?? [{ line_no: 1, service: undefined, amount: '' }]).map((l) => ({ value: l.line_no, label: `${l.line_no}${l.service ? ' · ' + localName(l.service) : ''}${l.amount ? ' · ' + money(l.amount) : ''}` }))} />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item name="stream" label={t('money.stream')} rules={[{ required: true }]}>
            <Select options={(['first_year', 'maintenance'] as const).map((s) => ({ value: s, label: t(`stream.${s}`) }))} />
          </Form.Item>
        </Col>
        {stream === 'maintenance' && (
          <Col xs={24} sm={12}>
            <Form.Item name="year" label={t('money.year')} rules={[{ required: true }]} {...fieldError(record.error, 'year')}>
              <InputNumber min={2} max={30} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        )}
        <Col xs={24} sm={12}>
          <Form.Item name="amount" label={t('common.amount')} rules={[{ required: true, pattern: /^-?\d+(\.\d{1,2})?$/ }]} extra={t('money.refundHint')} {...fieldError(record.error, 'amount')}>
            <Input prefix="¥" inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item name="received_on" label={t('money.receivedOn')} rules={[{ required: true }]} {...fieldError(record.error, 'received_on')}>
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="note" label={t('common.note')}>
        <Input />
      </Form.Item>
      {record.error && !(record.error instanceof ApiError && record.error.field) && <Alert type="error" showIcon title={record.error.message} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" loading={record.isPending} block>
        {t('money.record')}
      </Button>
    </Form>
  );
}

export default function Payments() {
  const { t } = useTranslation();
  const phone = useIsPhone();
  const [open, setOpen] = useState(false);
  const [formKey, setFormKey] = useState(0);
  const [recorded, setRecorded] = useState<Payment | null>(null);
  const query = useCursorList<Payment>(['payments'], (cursor) => ok(api.GET('/api/v1/payments', { params: { query: { cursor, limit: 50 } } })));
  const columns: TableColumnsType<Payment> = [
    { title: t('money.receivedOn'), dataIndex: 'received_on', className: 'num', render: (v: string) => date(v) },
    { title: t('money.contract'), render: (_, p) => <Link to={`/contracts/${p.contract_id}`}>{p.split?.[0]?.contract_no ?? `#${p.contract_id}`}</Link> },
    { title: t('contracts.lineNo'), dataIndex: 'line_no' },
    { title: t('money.stream'), render: (_, p) => `${t(`stream.${p.stream}`)}${p.stream === 'maintenance' ? ` ${p.year}` : ''}` },
    { title: t('common.amount'), dataIndex: 'amount', className: 'num', align: 'right', render: (v: string) => money(v) },
    { title: t('common.note'), dataIndex: 'note', render: (v?: string | null) => v ?? '' },
  ];
  const start = () => {
    setRecorded(null);
    setFormKey((k) => k + 1);
    setOpen(true);
  };
  return (
    <Page title={t('nav.payments')} extra={<Button type="primary" onClick={start}>{t('money.record')}</Button>}>
      <CursorList<Payment>
        query={query}
        columns={columns}
        rowKey={(p) => p.id}
        onRow={(p) => { setRecorded(p); setOpen(true); }}
        empty={t('common.empty')}
        card={(p) => (
          <Row justify="space-between">
            <Col>
              <Typography.Text strong>{p.split?.[0]?.contract_no ?? `#${p.contract_id}`}</Typography.Text>
              <div>
                <Typography.Text type="secondary">{date(p.received_on)} · {t(`stream.${p.stream}`)}</Typography.Text>
              </div>
            </Col>
            <Col className="num">{money(p.amount)}</Col>
          </Row>
        )}
      />
      <Drawer open={open} onClose={() => setOpen(false)} title={recorded ? t('money.split') : t('money.recordTitle')} size={phone ? '100%' : 720} destroyOnHidden>
        {recorded ? (
          <>
            <Result status="success" title={`${money(recorded.amount)} · ${recorded.split?.[0]?.contract_no ?? ''}`} subTitle={`${t(`stream.${recorded.stream}`)} · ${date(recorded.received_on)}`} style={{ padding: 16 }} />
            <Card size="small" title={t('money.split')}>
              <EntriesTable entries={recorded.split ?? []} />
            </Card>
          </>
        ) : (
          <RecordPayment key={formKey} onDone={setRecorded} />
        )}
      </Drawer>
    </Page>
  );
}
