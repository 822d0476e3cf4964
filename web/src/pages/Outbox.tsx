import { Alert, App, Button, Flex, Segmented, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { TONE } from '../components/Status';
import { dateTime } from '../lib/format';

type Note = Schemas['NotificationView'];
type Status = Schemas['NotificationStatus'];

const COLOUR: Record<Status, string | undefined> = { pending: TONE.blue, sending: TONE.cyan, sent: TONE.green, dead: TONE.red };

/** The e-mail outbox: what was sent, what waits, what failed — and sending a failed one again. */
export default function Outbox() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [status, setStatus] = useState<Status | 'all'>('dead');
  const query = useCursorList<Note>(['outbox', status], (cursor) =>
    ok(api.GET('/api/v1/notifications', { params: { query: { status: status === 'all' ? undefined : status, cursor, limit: 50 } } })),
  );
  const retry = useMutation({
    mutationFn: (id: number) => ok(api.POST('/api/v1/notifications/{id}/retry', { params: { path: { id } } })),
    onSuccess: () => { void message.success(t('outbox.retried')); void qc.invalidateQueries({ queryKey: ['outbox'] }); },
  });
  const columns: TableColumnsType<Note> = [
    { title: t('outbox.recipient'), dataIndex: 'recipient_email' },
    { title: t('outbox.template'), dataIndex: 'template', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    { title: t('common.status'), render: (_, n) => <Tag color={COLOUR[n.status as Status]}>{t(`outbox.statuses.${n.status}`, { defaultValue: n.status })}</Tag> },
    { title: t('outbox.attempts'), dataIndex: 'attempts', className: 'num' },
    { title: t('outbox.lastError'), dataIndex: 'last_error', render: (v?: string | null) => v ?? '—' },
    { title: t('outbox.sentAt'), dataIndex: 'sent_at', className: 'num', render: (v?: string | null) => dateTime(v) },
    { title: t('common.actions'), render: (_, n) => n.status === 'dead' && <Button size="small" loading={retry.isPending && retry.variables === n.id} onClick={() => retry.mutate(n.id)}>{t('outbox.retry')}</Button> },
  ];
  return (
    <Page title={t('outbox.title')}>
      <Segmented<Status | 'all'>
        style={{ marginBottom: 16 }}
        value={status}
        onChange={setStatus}
        options={[
          { value: 'dead', label: t('outbox.statuses.dead') },
          { value: 'pending', label: t('outbox.statuses.pending') },
          { value: 'sent', label: t('outbox.statuses.sent') },
          { value: 'all', label: t('common.all') },
        ]}
      />
      {retry.error && <Alert type="error" showIcon title={retry.error.message} style={{ marginBottom: 12 }} />}
      <CursorList<Note>
        query={query}
        columns={columns}
        rowKey={(n) => n.id}
        empty={t('common.empty')}
        card={(n) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><span>{n.recipient_email}</span><Tag color={COLOUR[n.status as Status]}>{t(`outbox.statuses.${n.status}`, { defaultValue: n.status })}</Tag></Flex>
            <Typography.Text type="secondary">{n.template} · {dateTime(n.created_at)}</Typography.Text>
            {n.status === 'dead' && <Button size="small" onClick={() => retry.mutate(n.id)}>{t('outbox.retry')}</Button>}
          </Flex>
        )}
      />
    </Page>
  );
}
