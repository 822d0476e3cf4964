import { TONE } from '../components/Status';
import { Alert, App, Button, Flex, Input, Modal, Segmented, Space, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { date, dateTime } from '../lib/format';
import { useLocalName } from '../lib/hooks';

type Evidence = Schemas['EvidenceView'];
type Status = Schemas['EvidenceStatusName'];

/** Ops' queue of exam results and training hours to verify or reject. */
export default function EvidencePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const localName = useLocalName();
  const [status, setStatus] = useState<Status>('submitted');
  const [rejecting, setRejecting] = useState<Evidence | null>(null);
  const [note, setNote] = useState('');
  const query = useCursorList<Evidence>(['evidence', status], (cursor) =>
    ok(api.GET('/api/v1/evidence', { params: { query: { status, cursor, limit: 50 } } })),
  );
  const done = () => {
    void qc.invalidateQueries({ queryKey: ['evidence'] });
    void qc.invalidateQueries({ queryKey: ['today'] });
  };
  const verify = useMutation({
    mutationFn: (id: number) => ok(api.POST('/api/v1/evidence/{id}/verify', { params: { path: { id } }, body: {} })),
    onSuccess: () => {
      void message.success(t('reviews.verified'));
      done();
    },
  });
  const reject = useMutation({
    mutationFn: (v: { id: number; note: string }) => ok(api.POST('/api/v1/evidence/{id}/reject', { params: { path: { id: v.id } }, body: { note: v.note } })),
    onSuccess: () => {
      void message.success(t('reviews.rejected'));
      setRejecting(null);
      setNote('');
      done();
    },
  });
  const what = (e: Evidence) =>
    e.kind === 'exam' ? `${t('reviews.examScore')} ${e.exam_score ?? '—'}` : `${t('reviews.trainingHours')} ${e.training_hours ?? '—'}`;
  const buttons = (e: Evidence) =>
    e.status === 'submitted' ? (
      <Space>
        <Button type="primary" size="small" loading={verify.isPending && verify.variables === e.id} onClick={(ev) => { ev.stopPropagation(); verify.mutate(e.id); }}>
          {t('reviews.verify')}
        </Button>
        <Button danger size="small" onClick={(ev) => { ev.stopPropagation(); setRejecting(e); }}>
          {t('reviews.reject')}
        </Button>
      </Space>
    ) : (
      <Tag color={e.status === 'verified' ? TONE.green : TONE.red}>{e.status === 'verified' ? t('reviews.verified') : t('reviews.rejected')}</Tag>
    );
  const columns: TableColumnsType<Evidence> = [
    { title: t('reviews.person'), render: (_, e) => <Typography.Text strong>{e.user_name}</Typography.Text> },
    { title: t('common.deliverer'), dataIndex: 'org_name' },
    { title: t('reviews.certification'), render: (_, e) => `${e.certification_code} · ${localName({ name_zh: e.certification_name_zh, name_en: e.certification_name_en })}` },
    { title: t('reviews.kind'), render: (_, e) => `${e.title} — ${what(e)}` },
    { title: t('common.date'), dataIndex: 'taken_on', className: 'num', render: (v: string) => date(v) },
    { title: t('reviews.submittedAt'), dataIndex: 'submitted_at', className: 'num', render: (v: string) => dateTime(v) },
    { title: t('common.actions'), render: (_, e) => buttons(e) },
  ];
  return (
    <Page title={t('reviews.evidenceTitle')}>
      <Segmented<Status>
        style={{ marginBottom: 16 }}
        value={status}
        onChange={setStatus}
        options={[
          { value: 'submitted', label: t('today.evidence') },
          { value: 'verified', label: t('reviews.verified') },
          { value: 'rejected', label: t('reviews.rejected') },
        ]}
      />
      {(verify.error ?? reject.error) && <Alert type="error" showIcon title={(verify.error ?? reject.error)?.message} style={{ marginBottom: 12 }} />}
      <CursorList<Evidence>
        query={query}
        columns={columns}
        rowKey={(e) => e.id}
        empty={t('common.empty')}
        card={(e) => (
          <Flex vertical gap={6}>
            <Flex justify="space-between">
              <Typography.Text strong>{e.user_name}</Typography.Text>
              <Typography.Text type="secondary">{e.org_name}</Typography.Text>
            </Flex>
            <div>{e.certification_code} · {localName({ name_zh: e.certification_name_zh, name_en: e.certification_name_en })}</div>
            <Typography.Text type="secondary">{e.title} — {what(e)} · {date(e.taken_on)}</Typography.Text>
            {buttons(e)}
          </Flex>
        )}
      />
      <Modal
        open={rejecting !== null}
        title={t('reviews.reject')}
        onCancel={() => setRejecting(null)}
        okButtonProps={{ danger: true, disabled: !note.trim() }}
        okText={t('reviews.reject')}
        cancelText={t('common.cancel')}
        confirmLoading={reject.isPending}
        onOk={() => rejecting && reject.mutate({ id: rejecting.id, note: note.trim() })}
      >
        <Input.TextArea rows={3} value={note} onChange={(e) => setNote(e.target.value)} placeholder={t('reviews.rejectNote')} aria-label={t('reviews.rejectNote')} />
      </Modal>
    </Page>
  );
}
