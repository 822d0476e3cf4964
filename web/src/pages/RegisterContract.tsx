import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Col, DatePicker, Form, Input, InputNumber, Row, Select, Space } from 'antd';
import { useMutation, useQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useTranslation } from 'react-i18next';
import { api, idempotencyKey, ok, type Schemas } from '../api/client';
import { OrgPicker } from '../components/OrgPicker';
import { fieldError, formError } from '../lib/forms';
import { useLocalName } from '../lib/hooks';
import { useState } from 'react';

type Values = {
  signer_id: number;
  client_id: number;
  signed_on: dayjs.Dayjs;
  term_years: number;
  first_year_amount: string;
  annual_maintenance_fee: string;
  lines: { service: string; amount: string }[];
};

const AMOUNT = /^\d+(\.\d{1,2})?$/;

/** Register a signed contract: signer, client, term, amounts and one line per service sold. */
export function RegisterContract({ onDone }: { onDone: (c: Schemas['ContractView']) => void }) {
  const { t } = useTranslation();
  const localName = useLocalName();
  const [key] = useState(idempotencyKey);
  const services = useQuery({ queryKey: ['services', 'active'], queryFn: () => ok(api.GET('/api/v1/services', { params: { query: { limit: 200 } } })), staleTime: 300_000 });
  const register = useMutation({
    mutationFn: (v: Values) =>
      ok(
        api.POST('/api/v1/contracts', {
          params: { header: { 'Idempotency-Key': key } },
          body: {
            signer_id: v.signer_id,
            client_id: v.client_id,
            signed_on: v.signed_on.format('YYYY-MM-DD'),
            term_years: v.term_years,
            first_year_amount: v.first_year_amount.trim(),
            annual_maintenance_fee: v.annual_maintenance_fee.trim(),
            lines: v.lines.map((l) => ({ service: l.service, amount: l.amount.trim() })),
          },
        }),
      ),
    onSuccess: onDone,
  });
  return (
    <Form<Values>
      layout="vertical"
      initialValues={{ signed_on: dayjs(), term_years: 3, annual_maintenance_fee: '0.00', lines: [{ service: undefined, amount: '' }] }}
      onFinish={(v) => register.mutate(v)}
    >
      <Row gutter={12}>
        <Col xs={24} sm={12}>
          <Form.Item name="signer_id" label={t('common.signer')} rules={[{ required: true }]} {...fieldError(register.error, 'signer_id')}>
            <OrgPicker id="signer_id" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item name="client_id" label={t('common.client')} rules={[{ required: true }]} {...fieldError(register.error, 'client_id')}>
            <OrgPicker id="client_id" kind="client" />
          </Form.Item>
        </Col>
        <Col xs={12} sm={8}>
          <Form.Item name="signed_on" label={t('contracts.signedOn')} rules={[{ required: true }]} {...fieldError(register.error, 'signed_on')}>
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} sm={4}>
          <Form.Item name="term_years" label={t('contracts.term')} rules={[{ required: true }]} {...fieldError(register.error, 'term_years')}>
            <InputNumber min={1} max={10} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} sm={6}>
          <Form.Item name="first_year_amount" label={t('contracts.firstYear')} rules={[{ required: true, pattern: AMOUNT, message: t('contracts.amountRule') }]} {...fieldError(register.error, 'first_year_amount')}>
            <Input prefix="¥" inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={12} sm={6}>
          <Form.Item name="annual_maintenance_fee" label={t('contracts.maintenance')} rules={[{ required: true, pattern: AMOUNT, message: t('contracts.amountRule') }]} {...fieldError(register.error, 'annual_maintenance_fee')}>
            <Input prefix="¥" inputMode="decimal" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item label={t('contracts.lines')} extra={t('contracts.linesHint')} {...fieldError(register.error, 'lines')}>
        <Form.List name="lines">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" style={{ display: 'flex', flexWrap: 'wrap' }}>
                  <Form.Item name={[f.name, 'service']} rules={[{ required: true, message: t('contracts.serviceRule') }]} style={{ minWidth: 220 }}>
                    <Select
                      showSearch={{ optionFilterProp: 'label' }}
                      aria-label={t('common.service')}
                      placeholder={t('common.service')}
                      loading={services.isPending}
                      options={(services.data?.items ?? []).map((s) => ({ value: s.code, label: localName(s) }))}
                    />
                  </Form.Item>
                  <Form.Item name={[f.name, 'amount']} rules={[{ required: true, pattern: AMOUNT, message: t('contracts.amountRule') }]}>
                    <Input prefix="¥" inputMode="decimal" aria-label={t('common.amount')} placeholder={t('common.amount')} style={{ width: 160 }} />
                  </Form.Item>
                  {fields.length > 1 && <MinusCircleOutlined aria-label={t('common.cancel')} onClick={() => remove(f.name)} />}
                </Space>
              ))}
              <Button type="dashed" onClick={() => add({ amount: '' })} icon={<PlusOutlined />}>
                {t('contracts.addLine')}
              </Button>
            </>
          )}
        </Form.List>
      </Form.Item>
      {formError(register.error) && <Alert type="error" showIcon title={formError(register.error)} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" block loading={register.isPending}>
        {t('contracts.register')}
      </Button>
    </Form>
  );
}
