import { WideTable } from '../components/WideTable';
import {
  Alert, App, Button, Card, Col, DatePicker, Descriptions, Drawer, Empty, Flex, Form, Input, List, Modal, Popconfirm,
  Radio, Rate, Row, Select, Space, Tag, Timeline, Typography,
} from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { fieldError } from '../lib/forms';
import { api, ApiError, ok, type Schemas } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { ScoreBars } from '../components/ScoreBars';
import { OrderStatus, TONE } from '../components/Status';
import { date, dateTime, money, percentToRate, rate } from '../lib/format';
import { useIsPhone, useLocalName, useReference } from '../lib/hooks';
import { can, useMe } from '../lib/session';

type Order = Schemas['OrderView'];


function useOrderMutation<V>(id: number, fn: (v: V) => Promise<unknown>, done?: () => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['order', id] });
      void qc.invalidateQueries({ queryKey: ['orders'] });
      void qc.invalidateQueries({ queryKey: ['today'] });
      done?.();
    },
  });
}

function DispatchDrawer({ order, open, onClose }: { order: Order; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const [share, setShare] = useState('');
  const recs = useQuery({
    queryKey: ['recommendations', order.id],
    queryFn: () => ok(api.GET('/api/v1/orders/{id}/recommendations', { params: { path: { id: order.id } } })),
    enabled: open,
  });
  const dispatch = useOrderMutation(
    order.id,
    (v: { deliverer: Schemas['OrgRefView'] }) => {
      const own = v.deliverer.id === order.signer.id || v.deliverer.kind === 'direct_team';
      const execution_share = own || !share ? null : percentToRate(share);
      return ok(
        api.POST('/api/v1/orders/{id}/dispatch', {
          params: { path: { id: order.id } },
          body: { deliverer_id: v.deliverer.id, execution_share },
        }),
      );
    },
    onClose,
  );
  return (
    <Drawer title={t('orders.dispatchTitle')} open={open} onClose={onClose} size={phone ? '100%' : 640}>
      <Form layout="vertical">
        <Form.Item label={`${t('orders.share')} (%)`} htmlFor="dispatch-share" extra={t('orders.chooseTerms')} {...fieldError(dispatch.error, 'execution_share')}>
          <Input id="dispatch-share" value={share} onChange={(e) => setShare(e.target.value)} inputMode="decimal" suffix="%" style={{ maxWidth: 200 }} />
        </Form.Item>
      </Form>
      {dispatch.error && !(dispatch.error instanceof ApiError && dispatch.error.field) && (
        <Alert type="error" showIcon title={dispatch.error.message} style={{ marginBottom: 12 }} />
      )}
      <Loaded query={recs}>
        {(r) => (
          <>
            <Typography.Title level={5}>{t('orders.ranked')}</Typography.Title>
            {r.ranked.length === 0 && <Empty description={t('common.empty')} />}
            <List
              dataSource={r.ranked}
              rowKey={(c) => c.organisation.id}
              renderItem={(c, i) => (
                <List.Item style={{ padding: '0 0 12px', border: 'none' }}>
                <Card size="small" style={{ width: '100%' }} data-testid="candidate">
                  <Flex justify="space-between" align="center" gap={8} wrap>
                    <Typography.Text strong>
                      {i + 1}. {c.organisation.name}
                    </Typography.Text>
                    <Space>
                      <Tag color={TONE.blue}>
                        {t('orders.score')} {c.score}
                      </Tag>
                      <Button
                        type="primary"
                        size="small"
                        loading={dispatch.isPending && dispatch.variables?.deliverer.id === c.organisation.id}
                        disabled={dispatch.isPending}
                        onClick={() =>
                          dispatch.mutate(
                            { deliverer: c.organisation },
                            { onSuccess: () => void message.success(t('orders.dispatched', { name: c.organisation.name })) },
                          )
                        }
                      >
                        {t('orders.dispatch')}
                      </Button>
                    </Space>
                  </Flex>
                  <ScoreBars parts={c.parts} weights={r.weights} />
                  {c.reasons.length > 0 && (
                    <Typography.Paragraph type="secondary" style={{ margin: '6px 0 0', fontSize: 12 }}>
                      {c.reasons.join(' · ')}
                    </Typography.Paragraph>
                  )}
                </Card>
                </List.Item>
              )}
            />
            {r.ineligible.length > 0 && (
              <>
                <Typography.Title level={5}>{t('orders.ineligible')}</Typography.Title>
                <List
                  size="small"
                  dataSource={r.ineligible}
                  rowKey={(c) => c.organisation.id}
                  renderItem={(c) => (
                    <List.Item>
                      <List.Item.Meta title={c.organisation.name} description={c.reasons.map((x) => t(`ineligibleReason.${x.code}`, { defaultValue: x.message })).join(' · ')} />
                    </List.Item>
                  )}
                />
              </>
            )}
          </>
        )}
      </Loaded>
    </Drawer>
  );
}

type PublishForm = {
  mode: Schemas['ModeName'];
  reason: Schemas['ReasonName'];
  claim_deadline: dayjs.Dayjs;
  share?: string;
  fixed_fee?: string;
  min_quality?: string;
};

function PublishModal({ order, open, onClose }: { order: Order; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<PublishForm>();
  const publish = useOrderMutation(
    order.id,
    (v: PublishForm) =>
      ok(
        api.POST('/api/v1/orders/{id}/subcontract', {
          params: { path: { id: order.id } },
          body: {
            mode: v.mode,
            reason: v.reason,
            claim_deadline: v.claim_deadline.toISOString(),
            execution_share: v.share ? percentToRate(v.share) : null,
            fixed_fee: v.fixed_fee || null,
            min_quality: v.min_quality || null,
          },
        }),
      ),
    () => {
      void message.success(t('orders.published_ok'));
      onClose();
    },
  );
  return (
    <Modal
      title={t('orders.publish')}
      open={open}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('orders.publish')}
      cancelText={t('common.cancel')}
      confirmLoading={publish.isPending}
      destroyOnHidden
    >
      <Form<PublishForm>
        form={form}
        layout="vertical"
        initialValues={{ mode: 'first_claim', reason: 'cant_do', claim_deadline: dayjs().add(3, 'day').hour(18).minute(0) }}
        onFinish={(v) => publish.mutate(v)}
      >
        <Form.Item name="mode" label={t('orders.mode')} rules={[{ required: true }]}>
          <Radio.Group optionType="button" options={(['first_claim', 'tender'] as const).map((m) => ({ value: m, label: t(`mode.${m}`) }))} />
        </Form.Item>
        <Form.Item name="reason" label={t('orders.reason')} rules={[{ required: true }]}>
          <Select options={(['wont_do', 'cant_do_well', 'cant_do'] as const).map((r) => ({ value: r, label: t(`reason.${r}`) }))} />
        </Form.Item>
        <Form.Item name="claim_deadline" label={t('orders.claimDeadline')} rules={[{ required: true }]} {...fieldError(publish.error, 'claim_deadline')}>
          <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} />
        </Form.Item>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name="share" label={`${t('orders.share')} (%)`} {...fieldError(publish.error, 'execution_share')}>
              <Input inputMode="decimal" suffix="%" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="fixed_fee" label={t('orders.fixedFee')} {...fieldError(publish.error, 'fixed_fee')}>
              <Input inputMode="decimal" prefix="¥" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="min_quality" label={t('orders.minQuality')} {...fieldError(publish.error, 'min_quality')}>
          <Input inputMode="decimal" placeholder="3.80" style={{ maxWidth: 160 }} />
        </Form.Item>
        {publish.error && !(publish.error instanceof ApiError && publish.error.field) && (
          <Alert type="error" showIcon title={publish.error.message} />
        )}
      </Form>
    </Modal>
  );
}

function ResolveModal({ order, open, onClose }: { order: Order; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ resolution: Schemas['ResolutionName']; note: string }>();
  const resolve = useOrderMutation(
    order.id,
    (v: { resolution: Schemas['ResolutionName']; note: string }) =>
      ok(api.POST('/api/v1/orders/{id}/resolve', { params: { path: { id: order.id } }, body: v })),
    onClose,
  );
  return (
    <Modal title={t('orders.resolve')} open={open} onCancel={onClose} onOk={() => form.submit()} confirmLoading={resolve.isPending} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={{ resolution: 'rework' }} onFinish={(v) => resolve.mutate(v)}>
        <Form.Item name="resolution" label={t('orders.resolveTo')}>
          <Radio.Group
            options={[
              { value: 'accept', label: t('orders.resolveAccept') },
              { value: 'rework', label: t('orders.resolveRework') },
            ]}
          />
        </Form.Item>
        <Form.Item name="note" label={t('common.note')} rules={[{ required: true, whitespace: true }]} {...fieldError(resolve.error, 'note')}>
          <Input.TextArea rows={3} />
        </Form.Item>
        {resolve.error && <Alert type="error" showIcon title={resolve.error.message} />}
      </Form>
    </Modal>
  );
}

export default function OrderDetail() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const me = useMe();
  const ref = useReference();
  const localName = useLocalName();
  const [drawer, setDrawer] = useState<'dispatch' | 'publish' | 'resolve' | null>(null);
  const order = useQuery({
    queryKey: ['order', id],
    queryFn: () => ok(api.GET('/api/v1/orders/{id}', { params: { path: { id } } })),
    enabled: Number.isSafeInteger(id) && id > 0,
  });
  const cancel = useOrderMutation(id, (reason: string) =>
    ok(api.POST('/api/v1/orders/{id}/cancel', { params: { path: { id } }, body: { reason } })),
  );
  const dispatches = can(me.data, 'order', 'dispatch');
  const resolves = can(me.data, 'order', 'resolve');
  const o = order.data;
  const actions = o && (dispatches || resolves) && (
    <>
      {o.status === 'new' && dispatches && (
        <>
          <Button type="primary" onClick={() => setDrawer('dispatch')}>
            {t('orders.dispatch')}
          </Button>
          <Button onClick={() => setDrawer('publish')}>{t('orders.publish')}</Button>
        </>
      )}
      {o.status === 'disputed' && resolves && (
        <Button type="primary" onClick={() => setDrawer('resolve')}>
          {t('orders.resolve')}
        </Button>
      )}
      {dispatches && ['new', 'published', 'dispatched', 'in_progress'].includes(o.status) && (
        <Popconfirm title={t('orders.cancelConfirm')} onConfirm={() => cancel.mutate(t('orders.cancelOrder'))} okText={t('common.confirm')} cancelText={t('common.cancel')}>
          <Button danger loading={cancel.isPending}>
            {t('orders.cancelOrder')}
          </Button>
        </Popconfirm>
      )}
    </>
  );
  return (
    <Page
      title={o ? <Space>{o.order_no}<OrderStatus status={o.status} /></Space> : t('orders.title')}
      crumbs={[{ title: t('orders.title'), to: '/orders' }, { title: o?.order_no ?? String(id) }]}
      extra={actions}
    >
      {cancel.error && <Alert type="error" showIcon title={cancel.error.message} style={{ marginBottom: 12 }} />}
      <Loaded query={order}>
        {(o) => (
          <Row gutter={[16, 16]}>
            <Col xs={24} xl={16}>
              <Card>
                <Descriptions column={{ xs: 1, sm: 2 }} size="small">
                  <Descriptions.Item label={t('common.client')}>{o.client.name}</Descriptions.Item>
                  <Descriptions.Item label={t('common.service')}>{localName(o.service)}</Descriptions.Item>
                  <Descriptions.Item label={t('common.region')}>{ref.region(o.region)}</Descriptions.Item>
                  <Descriptions.Item label={t('common.industry')}>{ref.industry(o.industry)}</Descriptions.Item>
                  <Descriptions.Item label={t('common.signer')}>{o.signer.name}</Descriptions.Item>
                  <Descriptions.Item label={t('common.deliverer')}>{o.deliverer?.name ?? '—'}</Descriptions.Item>
                  <Descriptions.Item label={t('contracts.contractNo')}>
                    {/* An order's number is its contract's number and its line: HT2026000001-2. */}
                    <Link to={`/contracts/${o.contract_id}`}>{o.order_no.replace(/-\d+$/, '')}</Link>
                  </Descriptions.Item>
                  <Descriptions.Item label={t('common.dueOn')}>{date(o.due_on)}</Descriptions.Item>
                  {o.assign_by && <Descriptions.Item label={t('orders.assignBy')}>{dateTime(o.assign_by)}</Descriptions.Item>}
                  {(o.execution?.share || o.execution?.fixed_fee) && (
                    <Descriptions.Item label={t('orders.execution')}>
                      {o.execution.share ? rate(o.execution.share) : money(o.execution.fixed_fee)}
                    </Descriptions.Item>
                  )}
                  {o.subcontract && (
                    <Descriptions.Item label={t('orders.subcontract')}>
                      {t(`mode.${o.subcontract.mode}`)} · {t(`reason.${o.subcontract.reason}`)} · {t('orders.claimDeadline')} {dateTime(o.subcontract.claim_deadline)}
                    </Descriptions.Item>
                  )}
                  {o.note && <Descriptions.Item label={t('common.note')}>{o.note}</Descriptions.Item>}
                </Descriptions>
              </Card>
              <Card title={t('orders.milestones')} style={{ marginTop: 16 }}>
                <WideTable
                  size="small"
                  pagination={false}
                  rowKey="id"
                  dataSource={o.milestones}

                  columns={[
                    { title: '#', dataIndex: 'seq', width: 48 },
                    { title: t('common.name'), render: (_, m) => localName(m) },
                    { title: t('common.dueOn'), dataIndex: 'due_on', className: 'num', render: (v: string) => date(v) },
                    {
                      title: t('common.status'),
                      render: (_, m) =>
                        m.done_at ? <Tag color={TONE.green}>{t('common.done')} {date(m.done_at)}</Tag> : m.overdue ? <Tag color={TONE.red}>{t('common.overdue')}</Tag> : <Tag>{m.status}</Tag>,
                    },
                  ]}
                />
              </Card>
            </Col>
            <Col xs={24} xl={8}>
              <Card title={t('orders.timeline')}>
                <Timeline
                  items={[
                    { content: `${t('orders.dispatchedAt')} ${dateTime(o.dispatched_at)}`, color: o.dispatched_at ? 'green' : 'gray' },
                    { content: `${t('orders.deliveredAt')} ${dateTime(o.delivered_at)}`, color: o.delivered_at ? 'green' : 'gray' },
                    { content: `${t('orders.acceptedAt')} ${dateTime(o.accepted_at)}`, color: o.accepted_at ? 'green' : 'gray' },
                  ]}
                />
              </Card>
              <Card title={t('orders.implementers')} style={{ marginTop: 16 }}>
                {o.implementers.length === 0 ? <Typography.Text type="secondary">—</Typography.Text> : o.implementers.map((p) => <Tag key={p.id}>{p.name}</Tag>)}
              </Card>
              <Card title={t('orders.rating')} style={{ marginTop: 16 }}>
                {o.rating ? (
                  <>
                    <Rate disabled value={o.rating.overall} aria-label={t('orders.overall')} />
                    {o.rating.comment && <Typography.Paragraph style={{ marginTop: 8 }}>{o.rating.comment}</Typography.Paragraph>}
                    {o.rating.reply && <Typography.Paragraph type="secondary">{t('orders.reply')}: {o.rating.reply}</Typography.Paragraph>}
                  </>
                ) : (
                  <Typography.Text type="secondary">{t('orders.noRating')}</Typography.Text>
                )}
              </Card>
            </Col>
            <DispatchDrawer order={o} open={drawer === 'dispatch'} onClose={() => setDrawer(null)} />
            <PublishModal order={o} open={drawer === 'publish'} onClose={() => setDrawer(null)} />
            <ResolveModal order={o} open={drawer === 'resolve'} onClose={() => setDrawer(null)} />
          </Row>
        )}
      </Loaded>
    </Page>
  );
}
