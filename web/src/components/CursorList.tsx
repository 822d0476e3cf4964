import { WideTable } from './WideTable';
import { Button, Card, Empty, Flex, List, Skeleton } from 'antd';
import type { TableColumnsType } from 'antd';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useIsPhone } from '../lib/hooks';
import { ErrorView } from './ErrorView';

type Page<T> = { items: T[]; next_cursor?: string | null };

/** A list read page by page with the API's cursor. */
export function useCursorList<T>(key: readonly unknown[], fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
  return useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

type Props<T> = {
  query: ReturnType<typeof useCursorList<T>>;
  columns: TableColumnsType<T>;
  rowKey: (row: T) => string | number;
  /** How one row reads as a card on a phone. */
  card: (row: T) => ReactNode;
  empty: ReactNode;
  onRow?: (row: T) => void;
};

/** A table on the desk, cards on a phone; loading, error and empty states; "load more". */
export function CursorList<T extends object>({ query, columns, rowKey, card, empty, onRow }: Props<T>) {
  const { t } = useTranslation();
  const phone = useIsPhone();
  if (query.error) return <ErrorView error={query.error} />;
  if (query.isPending) return <Skeleton active paragraph={{ rows: 8 }} />;
  const rows = query.data?.pages.flatMap((p) => p.items) ?? [];
  const more = query.hasNextPage ? (
    <Flex justify="center" style={{ marginTop: 16 }}>
      <Button onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
        {t('common.more')}
      </Button>
    </Flex>
  ) : null;
  if (rows.length === 0) return <Empty description={empty} />;
  if (phone) {
    return (
      <>
        <List
          dataSource={rows}
          rowKey={rowKey}
          renderItem={(row) => (
            <List.Item style={{ padding: '6px 0', border: 'none' }}>
              <Card size="small" style={{ width: '100%' }} hoverable={!!onRow} onClick={onRow ? () => onRow(row) : undefined}>
                {card(row)}
              </Card>
            </List.Item>
          )}
        />
        {more}
      </>
    );
  }
  return (
    <>
      <WideTable<T>
        size="middle"
        columns={columns}
        dataSource={rows}
        rowKey={rowKey}
        pagination={false}

        onRow={onRow ? (row) => ({ onClick: () => onRow(row), style: { cursor: 'pointer' } }) : undefined}
      />
      {more}
    </>
  );
}
