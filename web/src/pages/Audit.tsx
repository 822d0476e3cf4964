import { Flex, Input, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { dateTime } from '../lib/format';

type Event = Schemas['AuditEventView'];

/** Who changed what, when: every change to money, status, roles or policy. */
export default function Audit() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const kind = params.get('resource_kind') ?? undefined;
  const id = params.get('resource_id') ?? undefined;
  const query = useCursorList<Event>(['audit', kind, id], (cursor) =>
    ok(api.GET('/api/v1/audit-events', { params: { query: { resource_kind: kind, resource_id: id, cursor, limit: 50 } } })),
  );
  const set = (k: string, v?: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const columns: TableColumnsType<Event> = [
    { title: t('audit.at'), dataIndex: 'at', className: 'num', render: (v: string) => dateTime(v) },
    { title: t('audit.actor'), dataIndex: 'actor' },
    { title: t('audit.action'), dataIndex: 'action', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    { title: t('audit.resource'), render: (_, e) => `${e.resource_kind} #${e.resource_id}` },
    { title: t('common.requestId'), dataIndex: 'request_id', render: (v?: string | null) => v ?? '—' },
  ];
  return (
    <Page title={t('audit.title')}>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input.Search allowClear defaultValue={kind} placeholder={t('audit.resourceKind')} aria-label={t('audit.resourceKind')} onSearch={(v) => set('resource_kind', v.trim() || undefined)} style={{ width: 200 }} />
        <Input.Search allowClear defaultValue={id} placeholder={t('audit.resourceId')} aria-label={t('audit.resourceId')} onSearch={(v) => set('resource_id', v.trim() || undefined)} style={{ width: 160 }} />
      </Flex>
      <CursorList<Event>
        query={query}
        columns={columns}
        rowKey={(e) => e.id}
        empty={t('common.empty')}
        card={(e) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between"><Typography.Text code>{e.action}</Typography.Text><Typography.Text type="secondary">{dateTime(e.at)}</Typography.Text></Flex>
            <div>{e.actor} · {e.resource_kind} #{e.resource_id}</div>
          </Flex>
        )}
      />
    </Page>
  );
}
