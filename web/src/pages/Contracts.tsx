import { App, Button, Drawer, Flex, Input, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { Page } from '../components/Page';
import { date, money } from '../lib/format';
import { useIsPhone } from '../lib/hooks';
import { can, useMe } from '../lib/session';
import { RegisterContract } from './RegisterContract';

type Contract = Schemas['ContractView'];

export default function Contracts() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? undefined;
  const { message } = App.useApp();
  const phone = useIsPhone();
  const me = useMe();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const query = useCursorList<Contract>(['contracts', q], (cursor) =>
    ok(api.GET('/api/v1/contracts', { params: { query: { q, cursor, limit: 50 } } })),
  );
  const columns: TableColumnsType<Contract> = [
    { title: t('contracts.contractNo'), dataIndex: 'contract_no', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('common.client'), render: (_, c) => c.client.name },
    { title: t('common.signer'), render: (_, c) => c.signer.name },
    { title: t('contracts.signedOn'), dataIndex: 'signed_on', className: 'num', render: (v: string) => date(v) },
    { title: t('contracts.firstYear'), dataIndex: 'first_year_amount', className: 'num', align: 'right', render: (v: string) => money(v) },
    { title: t('contracts.maintenance'), dataIndex: 'annual_maintenance_fee', className: 'num', align: 'right', render: (v: string) => money(v) },
    { title: t('contracts.term'), dataIndex: 'term_years', render: (n: number) => t('contracts.years', { n }) },
  ];
  return (
    <Page title={t('contracts.title')} extra={can(me.data, 'contract', 'create') && <Button type="primary" onClick={() => setOpen(true)}>{t('contracts.register')}</Button>}>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input.Search
          allowClear
          defaultValue={q}
          placeholder={t('contracts.searchPlaceholder')}
          aria-label={t('common.search')}
          onSearch={(v) => setParams(v.trim() ? { q: v.trim() } : {}, { replace: true })}
          style={{ width: 260, maxWidth: '100%' }}
        />
      </Flex>
      <CursorList<Contract>
        query={query}
        columns={columns}
        rowKey={(c) => c.id}
        onRow={(c) => navigate(`/contracts/${c.id}`)}
        empty={t('common.empty')}
        card={(c) => (
          <Flex vertical gap={4}>
            <Flex justify="space-between">
              <Typography.Text strong>{c.contract_no}</Typography.Text>
              <span className="num">{money(c.first_year_amount)}</span>
            </Flex>
            <div>{c.client.name}</div>
            <Typography.Text type="secondary">
              {c.signer.name} · {date(c.signed_on)}
            </Typography.Text>
          </Flex>
        )}
      />
      <Drawer open={open} onClose={() => setOpen(false)} title={t('contracts.register')} size={phone ? '100%' : 720} destroyOnHidden>
        <RegisterContract
          onDone={(c) => {
            void message.success(t('contracts.registered', { no: c.contract_no }));
            void qc.invalidateQueries({ queryKey: ['contracts'] });
            void qc.invalidateQueries({ queryKey: ['orders'] });
            setOpen(false);
            navigate(`/contracts/${c.id}`);
          }}
        />
      </Drawer>
    </Page>
  );
}
