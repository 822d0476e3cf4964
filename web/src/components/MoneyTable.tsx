import { TONE } from './Status';
import { WideTable } from './WideTable';
import { Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { money, rate } from '../lib/format';

/** Ledger entries as a person reads them: party, rule, rate, amount, held or payable. */
export function EntriesTable({ entries }: { entries: Schemas['EntryView'][] }) {
  const { t } = useTranslation();
  return (
    <WideTable
      size="small"
      rowKey="id"
      pagination={false}
      dataSource={entries}

      columns={[
        { title: t('money.party'), dataIndex: 'party_name' },
        { title: t('money.account'), dataIndex: 'account', render: (v: string) => <Tag color={v === 'held' ? TONE.orange : v === 'payable' ? TONE.green : undefined}>{v === 'held' ? t('money.held') : v === 'payable' ? t('money.payable') : v}</Tag> },
        { title: t('money.rule'), dataIndex: 'rule', render: (v?: number | null) => (v ? `#${v}` : '—') },
        { title: t('money.rate'), dataIndex: 'rate', className: 'num', render: (v?: string | null) => rate(v) },
        { title: t('contracts.lineNo'), dataIndex: 'line_no', render: (v?: number | null) => v ?? '—' },
        { title: t('money.debit'), dataIndex: 'debit', className: 'num', align: 'right', render: (v: string) => (v === '0.00' ? '' : money(v)) },
        { title: t('money.credit'), dataIndex: 'credit', className: 'num', align: 'right', render: (v: string) => (v === '0.00' ? '' : <Typography.Text strong>{money(v)}</Typography.Text>) },
      ]}
    />
  );
}
