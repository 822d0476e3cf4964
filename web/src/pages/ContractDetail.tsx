import { WideTable } from '../components/WideTable';
import { Card, Col, Descriptions, Drawer, Row, Space, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { EntriesTable } from '../components/MoneyTable';
import { Loaded, Page } from '../components/Page';
import { OrderStatus } from '../components/Status';
import { date, money, rate } from '../lib/format';
import { useIsPhone, useLocalName } from '../lib/hooks';
import { can, useMe } from '../lib/session';

type Share = Schemas['ShareMoneyView'];

/** The entries behind one party's share of one contract ("every cent explained"). */
function EntriesDrawer({ contractId, share, onClose }: { contractId: number; share: Share | null; onClose: () => void }) {
  const { t } = useTranslation();
  const phone = useIsPhone();
  const entries = useQuery({
    queryKey: ['entries', contractId, share?.party_id],
    queryFn: () => ok(api.GET('/api/v1/ledger/entries', { params: { query: { contract_id: contractId, party_id: share?.party_id, limit: 200 } } })),
    enabled: share !== null,
  });
  const ids = new Set(share?.entry_ids ?? []);
  return (
    <Drawer open={share !== null} onClose={onClose} title={`${t('money.entries')} · ${share?.party_name ?? ''}`} size={phone ? '100%' : 760}>
      <Loaded query={entries}>{(page) => <EntriesTable entries={page.items.filter((e) => ids.size === 0 || ids.has(e.id))} />}</Loaded>
    </Drawer>
  );
}

function MoneyCard({ contractId }: { contractId: number }) {
  const { t } = useTranslation();
  const [share, setShare] = useState<Share | null>(null);
  const view = useQuery({
    queryKey: ['contract-money', contractId],
    queryFn: () => ok(api.GET('/api/v1/contracts/{id}/money', { params: { path: { id: contractId } } })),
  });
  const cell = (s: Share, v: string) => (
    <Typography.Link onClick={() => setShare(s)} className="num">
      {money(v)}
    </Typography.Link>
  );
  return (
    <Card title={t('contracts.money')} style={{ marginTop: 16 }}>
      <Loaded query={view}>
        {(m) => (
          <>
            {m.lines.flatMap((line) =>
              line.streams.map((s) => (
                <div key={`${line.line_no}-${s.stream}`} style={{ marginBottom: 16 }}>
                  <Space style={{ marginBottom: 8 }}>
                    <Tag>
                      {t('contracts.lineNo')} {line.line_no}
                    </Tag>
                    <Typography.Text strong>{t(`stream.${s.stream}`)}</Typography.Text>
                    <Typography.Text>
                      {t('money.paid')} {money(s.paid)}
                    </Typography.Text>
                  </Space>
                  <WideTable
                    size="small"
                    pagination={false}
                    rowKey="party_id"
                    dataSource={s.shares}

                    columns={[
                      { title: t('money.party'), dataIndex: 'party_name' },
                      { title: t('money.rate'), dataIndex: 'rate', className: 'num', render: (v?: string | null) => rate(v) },
                      { title: t('money.allocated'), align: 'right', render: (_, x) => cell(x, x.allocated) },
                      { title: t('balances.vendorRevenue'), align: 'right', render: (_, x) => (x.revenue === '0.00' ? '' : cell(x, x.revenue)) },
                      { title: t('money.payable'), align: 'right', render: (_, x) => cell(x, x.payable) },
                      { title: t('money.held'), align: 'right', render: (_, x) => cell(x, x.held) },
                      { title: t('money.released'), align: 'right', render: (_, x) => cell(x, x.released) },
                      { title: t('money.clawedBack'), align: 'right', render: (_, x) => cell(x, x.clawed_back) },
                    ]}
                  />
                </div>
              )),
            )}
            <EntriesDrawer contractId={contractId} share={share} onClose={() => setShare(null)} />
          </>
        )}
      </Loaded>
    </Card>
  );
}

export default function ContractDetail() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const me = useMe();
  const localName = useLocalName();
  const contract = useQuery({
    queryKey: ['contract', id],
    queryFn: () => ok(api.GET('/api/v1/contracts/{id}', { params: { path: { id } } })),
    enabled: Number.isSafeInteger(id) && id > 0,
  });
  const orders = useQuery({
    queryKey: ['orders', 'contract', id],
    queryFn: () => ok(api.GET('/api/v1/orders', { params: { query: { contract_id: id, limit: 200 } } })),
    enabled: Number.isSafeInteger(id) && id > 0,
  });
  const seesMoney = can(me.data, 'ledger', 'read');
  return (
    <Page title={contract.data?.contract_no ?? t('contracts.title')} crumbs={[{ title: t('contracts.title'), to: '/contracts' }, { title: contract.data?.contract_no ?? String(id) }]}>
      <Loaded query={contract}>
        {(c) => (
          <Row gutter={[16, 16]}>
            <Col xs={24}>
              <Card>
                <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} size="small">
                  <Descriptions.Item label={t('common.client')}>{c.client.name}</Descriptions.Item>
                  <Descriptions.Item label={t('common.signer')}>{c.signer.name}</Descriptions.Item>
                  <Descriptions.Item label={t('contracts.signedOn')}>{date(c.signed_on)}</Descriptions.Item>
                  <Descriptions.Item label={t('contracts.firstYear')}>{money(c.first_year_amount)}</Descriptions.Item>
                  <Descriptions.Item label={t('contracts.maintenance')}>{money(c.annual_maintenance_fee)}</Descriptions.Item>
                  <Descriptions.Item label={t('contracts.term')}>{t('contracts.years', { n: c.term_years })}</Descriptions.Item>
                </Descriptions>
              </Card>
              <Card title={t('contracts.lines')} style={{ marginTop: 16 }}>
                <WideTable
                  size="small"
                  rowKey="line_no"
                  pagination={false}
                  dataSource={c.lines}

                  columns={[
                    { title: t('contracts.lineNo'), dataIndex: 'line_no', width: 64 },
                    { title: t('common.service'), render: (_, l) => localName(l.service) },
                    { title: t('common.amount'), dataIndex: 'amount', className: 'num', align: 'right', render: (v: string) => money(v) },
                    {
                      title: t('contracts.orders'),
                      render: (_, l) => {
                        const o = orders.data?.items.find((x) => x.id === l.order_id);
                        return o ? (
                          <Space>
                            <Link to={`/orders/${o.id}`}>{o.order_no}</Link>
                            <OrderStatus status={o.status} />
                          </Space>
                        ) : (
                          '—'
                        );
                      },
                    },
                  ]}
                />
              </Card>
              {seesMoney && <MoneyCard contractId={c.id} />}
            </Col>
          </Row>
        )}
      </Loaded>
    </Page>
  );
}
