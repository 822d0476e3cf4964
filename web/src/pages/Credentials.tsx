import { Alert, App, Button, DatePicker, Drawer, Flex, Form, Input, Modal, Segmented, Select, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import type { TableColumnsType } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { TONE } from '../components/Status';
import { date } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone, useLocalName } from '../lib/hooks';

type Cred = Schemas['CredentialView'];
type Status = Schemas['CredentialStatusName'];
const COLOUR: Record<Status, string | undefined> = { in_progress: TONE.blue, earned: TONE.green, expiring: TONE.amber, expired: undefined, revoked: TONE.red };

type NewCredential = { user_id: number; certification: string; issued_on?: dayjs.Dayjs };

/** Record a credential an implementer holds (issued elsewhere, or earned before the park). */
function RecordCredential({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const localName = useLocalName();
  const [q, setQ] = useState<string>();
  const people = useQuery({ queryKey: ['users', 'implementers', q], queryFn: () => ok(api.GET('/api/v1/users', { params: { query: { role: 'implementer', q, limit: 20 } } })) });
  const certs = useQuery({ queryKey: ['certifications'], queryFn: () => ok(api.GET('/api/v1/certifications', { params: { query: { limit: 100 } } })), staleTime: 300_000 });
  const record = useMutation({
    mutationFn: (v: NewCredential) => ok(api.POST('/api/v1/credentials', { body: { user_id: v.user_id, certification: v.certification, issued_on: v.issued_on?.format('YYYY-MM-DD') ?? null } })),
    onSuccess: onDone,
  });
  return (
    <Form<NewCredential> layout="vertical" initialValues={{ issued_on: dayjs() }} onFinish={(v) => record.mutate(v)}>
      <Form.Item name="user_id" label={t('creds.holder')} rules={[{ required: true }]} {...fieldError(record.error, 'user_id')}>
        <Select
          showSearch={{ filterOption: false, onSearch: (v) => setQ(v.trim() || undefined) }}
          loading={people.isFetching}
          options={(people.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.display_name} · ${u.org_name}` }))}
        />
      </Form.Item>
      <Form.Item name="certification" label={t('creds.certification')} rules={[{ required: true }]} {...fieldError(record.error, 'certification')}>
        <Select showSearch={{ optionFilterProp: 'label' }} options={(certs.data?.items ?? []).map((c) => ({ value: c.code, label: `${c.code} · ${localName(c)}` }))} />
      </Form.Item>
      <Form.Item name="issued_on" label={t('creds.issuedOn')} {...fieldError(record.error, 'issued_on')}>
        <DatePicker style={{ width: '100%' }} />
      </Form.Item>
      {formError(record.error) && <Alert type="error" showIcon title={formError(record.error)} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" block loading={record.isPending}>{t('creds.record')}</Button>
    </Form>
  );
}

/** Credentials by state — expiring soon first — and revoking one with its reason. */
export default function Credentials() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const localName = useLocalName();
  const [status, setStatus] = useState<Status>('expiring');
  const [revoking, setRevoking] = useState<Cred | null>(null);
  const [reason, setReason] = useState('');
  const [recording, setRecording] = useState(false);
  const phone = useIsPhone();
  const query = useCursorList<Cred>(['credentials', status], (cursor) => ok(api.GET('/api/v1/credentials', { params: { query: { status, cursor, limit: 50 } } })));
  const revoke = useMutation({
    mutationFn: (v: { id: number; reason: string }) => ok(api.PATCH('/api/v1/credentials/{id}', { params: { path: { id: v.id } }, body: { status: 'revoked', revoked_reason: v.reason } })),
    onSuccess: () => { void message.success(t('creds.revoked')); setRevoking(null); setReason(''); void qc.invalidateQueries({ queryKey: ['credentials'] }); },
  });
  const cert = (c: Cred) => `${c.certification_code} · ${localName({ name_zh: c.certification_name_zh, name_en: c.certification_name_en })}`;
  const columns: TableColumnsType<Cred> = [
    { title: t('creds.holder'), render: (_, c) => <Link to={`/credentials/${c.id}`}>{c.holder_name}</Link> },
    { title: t('creds.certification'), render: (_, c) => cert(c) },
    { title: t('common.status'), render: (_, c) => <Tag color={COLOUR[c.status]}>{t(`creds.statuses.${c.status}`)}</Tag> },
    { title: t('creds.issuedOn'), dataIndex: 'issued_on', className: 'num', render: (v?: string | null) => date(v) },
    { title: t('creds.expiresOn'), dataIndex: 'expires_on', className: 'num', render: (v?: string | null) => date(v) },
    { title: t('common.actions'), render: (_, c) => c.status !== 'revoked' && <Button danger size="small" onClick={() => setRevoking(c)}>{t('creds.revoke')}</Button> },
  ];
  return (
    <Page title={t('creds.title')} extra={<Button type="primary" onClick={() => setRecording(true)}>{t('creds.record')}</Button>}>
      <Segmented<Status>
        style={{ marginBottom: 16 }}
        value={status}
        onChange={setStatus}
        options={(['expiring', 'expired', 'earned', 'in_progress', 'revoked'] as const).map((s) => ({ value: s, label: t(`creds.statuses.${s}`) }))}
      />
      {revoke.error && <Alert type="error" showIcon title={revoke.error.message} style={{ marginBottom: 12 }} />}
      <CursorList<Cred>
        query={query}
        columns={columns}
        rowKey={(c) => c.id}
        empty={t('common.empty')}
        card={(c) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><Link to={`/credentials/${c.id}`}>{c.holder_name}</Link><Tag color={COLOUR[c.status]}>{t(`creds.statuses.${c.status}`)}</Tag></Flex>
            <Typography.Text type="secondary">{cert(c)} · {date(c.expires_on)}</Typography.Text>
          </Flex>
        )}
      />
      <Drawer open={recording} onClose={() => setRecording(false)} title={t('creds.record')} size={phone ? '100%' : 520} destroyOnHidden>
        <RecordCredential onDone={() => { void message.success(t('creds.recorded')); setRecording(false); void qc.invalidateQueries({ queryKey: ['credentials'] }); }} />
      </Drawer>
      <Modal open={revoking !== null} title={`${t('creds.revoke')} · ${revoking?.holder_name ?? ''}`} onCancel={() => setRevoking(null)} okButtonProps={{ danger: true, disabled: !reason.trim() }} okText={t('creds.revoke')} cancelText={t('common.cancel')} confirmLoading={revoke.isPending} onOk={() => revoking && revoke.mutate({ id: revoking.id, reason: reason.trim() })}>
        <Input.TextArea rows={3} value={reason} onChange={(e) => setReason(e.target.value)} placeholder={t('creds.revokeReason')} aria-label={t('creds.revokeReason')} />
      </Modal>
    </Page>
  );
}
