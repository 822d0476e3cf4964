import { DatePicker, Flex, Input, Select, Typography } from 'antd';
import dayjs from 'dayjs';
import type { TableColumnsType } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import type { paths } from '../api/schema';
import { CursorList, useCursorList } from '../components/CursorList';
import { OrgPicker } from '../components/OrgPicker';
import { Page } from '../components/Page';
import { OrderStatus } from '../components/Status';
import { date } from '../lib/format';
import { useLocalName, useReference } from '../lib/hooks';

type Order = Schemas['OrderView'];
type Status = Schemas['OrderStatusName'];
type Region = NonNullable<NonNullable<paths['/api/v1/orders']['get']['parameters']['query']>['region']>;

const STATUSES: Status[] = ['new', 'published', 'dispatched', 'in_progress', 'delivered', 'accepted', 'closed', 'cancelled', 'disputed'];

export default function Orders() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const ref = useReference();
  const localName = useLocalName();
  const status = (params.get('status') as Status | null) ?? undefined;
  const region = (params.get('region') as Region | null) ?? undefined;
  const q = params.get('q') ?? undefined;
  const num = (k: string) => (params.get(k) && Number.isSafeInteger(Number(params.get(k))) ? Number(params.get(k)) : undefined);
  const signer_id = num('signer_id');
  const client_id = num('client_id');
  const deliverer_id = num('deliverer_id');
  const due_from = params.get('due_from') ?? undefined;
  const due_to = params.get('due_to') ?? undefined;
  const set = (k: string, v: string | undefined) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const query = useCursorList<Order>(['orders', status, region, q, signer_id, client_id, deliverer_id, due_from, due_to], (cursor) =>
    ok(api.GET('/api/v1/orders', { params: { query: { status, region, q, signer_id, client_id, deliverer_id, due_from, due_to, cursor, limit: 50 } } })),
  );
  const columns: TableColumnsType<Order> = [
    { title: t('orders.orderNo'), dataIndex: 'order_no', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common.client'), render: (_, o) => o.client.name },
    { title: t('common.service'), render: (_, o) => localName(o.service) },
    { title: t('common.region'), render: (_, o) => ref.region(o.region) },
    { title: t('common.signer'), render: (_, o) => o.signer.name },
    { title: t('common.deliverer'), render: (_, o) => o.deliverer?.name ?? '—' },
    { title: t('common.dueOn'), dataIndex: 'due_on', className: 'num', render: (v: string) => date(v) },
    { title: t('common.status'), render: (_, o) => <OrderStatus status={o.status} /> },
  ];
  return (
    <Page title={t('orders.title')}>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input.Search
          allowClear
          defaultValue={q}
          placeholder={t('orders.searchPlaceholder')}
          aria-label={t('common.search')}
          onSearch={(v) => set('q', v.trim() || undefined)}
          style={{ width: 260, maxWidth: '100%' }}
        />
        <Select
          allowClear
          value={status}
          placeholder={t('common.status')}
          aria-label={t('common.status')}
          style={{ width: 160 }}
          onChange={(v?: string) => set('status', v)}
          options={STATUSES.map((s) => ({ value: s, label: t(`orderStatus.${s}`) }))}
        />
        <Select
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          value={region}
          placeholder={t('common.region')}
          aria-label={t('common.region')}
          style={{ width: 160 }}
          onChange={(v?: string) => set('region', v)}
          options={(ref.data?.regions ?? []).map((r) => ({ value: r.code, label: localName(r) }))}
        />
        <OrgPicker allowClear value={signer_id} onChange={(v) => set('signer_id', v ? String(v) : undefined)} placeholder={t('common.signer')} style={{ width: 200 }} />
        <OrgPicker allowClear kind="client" value={client_id} onChange={(v) => set('client_id', v ? String(v) : undefined)} placeholder={t('common.client')} style={{ width: 200 }} />
        <OrgPicker allowClear value={deliverer_id} onChange={(v) => set('deliverer_id', v ? String(v) : undefined)} placeholder={t('common.deliverer')} style={{ width: 200 }} />
        <DatePicker.RangePicker
          aria-label={t('common.dueOn')}
          placeholder={[t('common.dueOn'), t('common.dueOn')]}
          value={due_from && due_to ? [dayjs(due_from), dayjs(due_to)] : null}
          onChange={(r) => {
            const next = new URLSearchParams(params);
            if (r?.[0] && r[1]) {
              next.set('due_from', r[0].format('YYYY-MM-DD'));
              next.set('due_to', r[1].format('YYYY-MM-DD'));
            } else {
              next.delete('due_from');
              next.delete('due_to');
            }
            setParams(next, { replace: true });
          }}
        />
      </Flex>
      <CursorList<Order>
        query={query}
        columns={columns}
        rowKey={(o) => o.id}
        onRow={(o) => navigate(`/orders/${o.id}`)}
        empty={t('common.empty')}
        card={(o) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between" align="center">
              <Typography.Text strong>{o.order_no}</Typography.Text>
              <OrderStatus status={o.status} />
            </Flex>
            <div>{o.client.name}</div>
            <Typography.Text type="secondary">
              {localName(o.service)} · {ref.region(o.region)} · {date(o.due_on)}
            </Typography.Text>
          </Flex>
        )}
      />
    </Page>
  );
}
