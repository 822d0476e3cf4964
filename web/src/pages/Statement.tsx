import { WideTable } from '../components/WideTable';
import { Alert, Button, Card, Col, Descriptions, Row, Tag } from 'antd';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, download, ok, type Schemas } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { dateTime, money, rate } from '../lib/format';

function Summary({ title, s }: { title: string; s: Schemas['AccountSummaryView'] }) {
  const { t } = useTranslation();
  return (
    <Card size="small" title={title}>
      <Descriptions column={1} size="small">
        <Descriptions.Item label={t('money.opening')}>{money(s.opening)}</Descriptions.Item>
        <Descriptions.Item label={t('money.closing')}>
          <strong>{money(s.closing)}</strong>
        </Descriptions.Item>
      </Descriptions>
    </Card>
  );
}

/** A party's statement for a period (the e-mail's link), with its CSV. */
export default function Statement() {
  const { t } = useTranslation();
  const params = useParams();
  const party = Number(params.party);
  const period = params.period ?? '';
  const statement = useQuery({
    queryKey: ['statement', party, period],
    queryFn: () => ok(api.GET('/api/v1/statements/{party_id}/{period}', { params: { path: { party_id: party, period } } })),
    enabled: Number.isSafeInteger(party) && party > 0,
  });
  const csv = useMutation({ mutationFn: () => download(`/api/v1/statements/${party}/${encodeURIComponent(period)}/csv`, `statement-${party}-${period}.csv`) });
  return (
    <Page
      title={`${t('money.statement')} · ${statement.data?.party_name ?? ''} · ${period}`}
      extra={<Button onClick={() => csv.mutate()} loading={csv.isPending}>{t('common.download')}</Button>}
    >
      {csv.error && <Alert type="error" showIcon title={csv.error.message} style={{ marginBottom: 12 }} />}
      <Loaded query={statement}>
        {(s) => (
          <>
            <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
              <Col xs={24} md={12}><Summary title={t('money.payable')} s={s.payable} /></Col>
              <Col xs={24} md={12}><Summary title={t('money.held')} s={s.held} /></Col>
            </Row>
            <WideTable
              size="small"
              rowKey="entry_id"
              pagination={false}
              dataSource={s.lines}

              columns={[
                { title: t('common.date'), dataIndex: 'at', className: 'num', render: (v: string) => dateTime(v) },
                { title: t('money.contract'), dataIndex: 'contract_no', render: (v?: string | null) => v ?? '—' },
                { title: t('contracts.lineNo'), dataIndex: 'line_no', render: (v?: number | null) => v ?? '—' },
                { title: t('money.account'), dataIndex: 'account', render: (v: string) => <Tag>{v === 'held' ? t('money.held') : v === 'payable' ? t('money.payable') : v}</Tag> },
                { title: t('money.rule'), dataIndex: 'rule', render: (v?: number | null) => (v ? `#${v}` : '—') },
                { title: t('money.rate'), dataIndex: 'rate', className: 'num', render: (v?: string | null) => rate(v) },
                { title: t('common.amount'), dataIndex: 'amount', className: 'num', align: 'right', render: (v: string) => money(v) },
              ]}
            />
          </>
        )}
      </Loaded>
    </Page>
  );
}
