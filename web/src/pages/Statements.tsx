import { Flex, Input, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, ok } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { WideTable } from '../components/WideTable';
import { money } from '../lib/format';

/** Every party's statement of a period, each opening its lines and CSV. */
export default function Statements() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const period = params.get('period') ?? dayjs().format('YYYY-MM');
  const list = useQuery({ queryKey: ['statements', period], queryFn: () => ok(api.GET('/api/v1/statements', { params: { query: { period } } })) });
  return (
    <Page title={t('statements.title')}>
      <Flex gap={8} style={{ marginBottom: 16 }}>
        <Input.Search defaultValue={period} aria-label={t('money.period')} placeholder="YYYY-MM" style={{ width: 160 }} onSearch={(v) => /^\d{4}-\d{2}$/.test(v.trim()) && setParams({ period: v.trim() })} />
      </Flex>
      <Loaded query={list}>
        {(l) => (
          <WideTable
            label={t('statements.title')}
            size="middle"
            rowKey="party_id"
            pagination={false}
            dataSource={l.items}
            columns={[
              { title: t('statements.party'), render: (_, s) => <Link to={`/statements/${s.party_id}/${s.period}`}><Typography.Text strong>{s.party_name}</Typography.Text></Link> },
              { title: t('statements.kind'), render: (_, s) => <Tag>{t(`admin.kinds.${s.party_kind}`, { defaultValue: s.party_kind })}</Tag> },
              { title: t('statements.closing'), className: 'num', align: 'right', render: (_, s) => money(s.payable.closing) },
              { title: t('statements.held'), className: 'num', align: 'right', render: (_, s) => money(s.held.closing) },
            ]}
          />
        )}
      </Loaded>
    </Page>
  );
}
