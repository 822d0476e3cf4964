import { Alert, App, Button, Flex, Input, Modal, Segmented, Space, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { TONE } from '../components/Status';
import { date, dateTime } from '../lib/format';
import { useLocalName } from '../lib/hooks';

type Outcome = Schemas['OutcomeView'];
type Status = Schemas['OutcomeStatusName'];

/** Ops' queue of clients' outcome milestones (高新技术企业, 专精特新, …) to verify or reject. */
export default function Outcomes() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const localName = useLocalName();
  const [status, setStatus] = useState<Status>('reported');
  const [rejecting, setRejecting] = useState<Outcome | null>(null);
  const [note, setNote] = useState('');
  const query = useCursorList<Outcome>(['outcomes', status], (cursor) => ok(api.GET('/api/v1/outcomes', { params: { query: { status, cursor, limit: 50 } } })));
  const done = () => {
    void qc.invalidateQueries({ queryKey: ['outcomes'] });
    void qc.invalidateQueries({ queryKey: ['today'] });
  };
  const verify = useMutation({
    mutationFn: (id: number) => ok(api.POST('/api/v1/outcomes/{id}/verify', { params: { path: { id } }, body: {} })),
    onSuccess: () => { void message.success(t('reviews.verified')); done(); },
  });
  const reject = useMutation({
    mutationFn: (v: { id: number; note: string }) => ok(api.POST('/api/v1/outcomes/{id}/reject', { params: { path: { id: v.id } }, body: { note: v.note } })),
    onSuccess: () => { void message.success(t('reviews.rejected')); setRejecting(null); setNote(''); done(); },
  });
  const kind = (o: Outcome) => localName({ name_zh: o.kind_name_zh, name_en: o.kind_name_en });
  const buttons = (o: Outcome) =>
    o.status === 'reported' ? (
      <Space>
        <Button type="primary" size="small" loading={verify.isPending && verify.variables === o.id} onClick={() => verify.mutate(o.id)}>{t('outcomes.verify')}</Button>
        <Button danger size="small" onClick={() => setRejecting(o)}>{t('outcomes.reject')}</Button>
      </Space>
    ) : (
      <Tag color={o.status === 'verified' ? TONE.green : TONE.red}>{o.status === 'verified' ? t('reviews.verified') : t('reviews.rejected')}</Tag>
    );
  const columns: TableColumnsType<Outcome> = [
    { title: t('common.client'), render: (_, o) => <Typography.Text strong>{o.client_name}</Typography.Text> },
    { title: t('outcomes.kind'), render: (_, o) => kind(o) },
    { title: t('common.name'), dataIndex: 'title' },
    { title: t('outcomes.achievedOn'), dataIndex: 'achieved_on', className: 'num', render: (v: string) => date(v) },
    { title: t('outcomes.inWindow'), render: (_, o) => (o.in_window ? t('common.yes') : <Tag color={TONE.orange}>{t('common.no')}</Tag>) },
    { title: t('reviews.submittedAt'), dataIndex: 'reported_at', className: 'num', render: (v: string) => dateTime(v) },
    { title: t('common.actions'), render: (_, o) => buttons(o) },
  ];
  return (
    <Page title={t('outcomes.title')}>
      <Segmented<Status>
        style={{ marginBottom: 16 }}
        value={status}
        onChange={setStatus}
        options={[{ value: 'reported', label: t('today.outcomes') }, { value: 'verified', label: t('reviews.verified') }, { value: 'rejected', label: t('reviews.rejected') }]}
      />
      {(verify.error ?? reject.error) && <Alert type="error" showIcon title={(verify.error ?? reject.error)?.message} style={{ marginBottom: 12 }} />}
      <CursorList<Outcome>
        query={query}
        columns={columns}
        rowKey={(o) => o.id}
        empty={t('common.empty')}
        card={(o) => (
          <Flex vertical gap={6}>
            <Flex justify="space-between"><Typography.Text strong>{o.client_name}</Typography.Text><Typography.Text type="secondary">{date(o.achieved_on)}</Typography.Text></Flex>
            <div>{kind(o)} · {o.title}</div>
            {buttons(o)}
          </Flex>
        )}
      />
      <Modal open={rejecting !== null} title={t('outcomes.reject')} onCancel={() => setRejecting(null)} okButtonProps={{ danger: true, disabled: !note.trim() }} okText={t('outcomes.reject')} cancelText={t('common.cancel')} confirmLoading={reject.isPending} onOk={() => rejecting && reject.mutate({ id: rejecting.id, note: note.trim() })}>
        <Input.TextArea rows={3} value={note} onChange={(e) => setNote(e.target.value)} placeholder={t('reviews.rejectNote')} aria-label={t('reviews.rejectNote')} />
      </Modal>
    </Page>
  );
}
