import { Breadcrumb, Flex, Skeleton, Typography } from 'antd';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ErrorView } from './ErrorView';

type Crumb = { title: string; to?: string };

/** A page: breadcrumb, title with the page's primary action on the right, then its content. */
export function Page(props: { title: ReactNode; crumbs?: Crumb[]; extra?: ReactNode; children?: ReactNode }) {
  return (
    <div className="page">
      {props.crumbs && props.crumbs.length > 0 && (
        <Breadcrumb
          items={props.crumbs.map((c) => ({ title: c.to ? <Link to={c.to}>{c.title}</Link> : c.title }))}
          style={{ marginBottom: 8 }}
        />
      )}
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 16 }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {props.title}
        </Typography.Title>
        {props.extra && <Flex gap={8} wrap>{props.extra}</Flex>}
      </Flex>
      {props.children}
    </div>
  );
}

/** The loading and error states of a query, then its content. */
export function Loaded<T>(props: { query: { data?: T; error: unknown; isPending: boolean }; rows?: number; children: (data: T) => ReactNode }) {
  if (props.query.error) return <ErrorView error={props.query.error} />;
  if (props.query.isPending || props.query.data === undefined) return <Skeleton active paragraph={{ rows: props.rows ?? 6 }} />;
  return <>{props.children(props.query.data)}</>;
}
