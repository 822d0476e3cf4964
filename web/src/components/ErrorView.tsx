import { Button, Result, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError } from '../api/client';

/** A friendly page for a 403, a 404 or anything else, with the request id to quote. */
export function ErrorView({ error, status }: { error?: unknown; status?: 403 | 404 | 500 }) {
  const { t } = useTranslation();
  const e = error instanceof ApiError ? error : null;
  const code = status ?? (e?.status === 403 ? 403 : e?.status === 404 ? 404 : 500);
  const title =
    code === 403 ? t('error.forbiddenTitle') : code === 404 ? t('error.notFoundTitle') : t('error.serverTitle');
  const text = e?.status === 0 ? t('error.network') : code === 403 ? t('error.forbidden') : code === 404 ? t('error.notFound') : t('error.server');
  return (
    <Result
      status={code === 403 ? '403' : code === 404 ? '404' : 'error'}
      title={title}
      subTitle={
        <>
          <div>{text}</div>
          {e && code !== 404 && e.message && <Typography.Paragraph type="secondary">{e.message}</Typography.Paragraph>}
          {e?.requestId && (
            <Typography.Text type="secondary" copyable={{ text: e.requestId }}>
              {t('common.requestId')}: {e.requestId}
            </Typography.Text>
          )}
        </>
      }
      extra={
        <Link to="/">
          <Button type="primary">{t('error.home')}</Button>
        </Link>
      }
    />
  );
}
