import { TONE } from '../components/Status';
import { Card, Descriptions, List, Progress, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, ok } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { date } from '../lib/format';

/** One credential and its progress against the certification's requirements (the e-mail's link). */
export default function Credential() {
  const { t, i18n } = useTranslation();
  const id = Number(useParams().id);
  const progress = useQuery({
    queryKey: ['credential-progress', id],
    queryFn: () => ok(api.GET('/api/v1/credentials/{id}/progress', { params: { path: { id } } })),
    enabled: Number.isSafeInteger(id) && id > 0,
  });
  const en = i18n.language === 'en';
  return (
    <Page title={t('credential.title')}>
      <Loaded query={progress}>
        {({ credential: c, progress: p }) => (
          <>
            <Card>
              <Descriptions column={{ xs: 1, sm: 2 }} size="small">
                <Descriptions.Item label={t('credential.holder')}>{c.holder_name}</Descriptions.Item>
                <Descriptions.Item label={t('reviews.certification')}>
                  {c.certification_code} · {en ? c.certification_name_en : c.certification_name_zh}
                </Descriptions.Item>
                <Descriptions.Item label={t('common.status')}>
                  <Tag color={c.valid ? TONE.green : undefined}>{c.status}</Tag>
                </Descriptions.Item>
                <Descriptions.Item label={t('credential.expiresOn')}>{date(c.expires_on)}</Descriptions.Item>
              </Descriptions>
            </Card>
            <Card title={t('credential.progress')} style={{ marginTop: 16 }}>
              <List
                dataSource={p?.items ?? []}
                rowKey={(x) => x.criterion}
                renderItem={(x) => {
                  const req = Number(x.required);
                  const got = Number(x.achieved);
                  const pct = req > 0 ? Math.min(100, Math.round((got / req) * 100)) : x.met ? 100 : 0;
                  return (
                    <List.Item>
                      <div style={{ width: '100%' }}>
                        <Typography.Text>{en ? x.text_en : x.text_zh}</Typography.Text>
                        <Progress percent={pct} status={x.met ? 'success' : 'active'} aria-label={en ? x.text_en : x.text_zh} />
                      </div>
                    </List.Item>
                  );
                }}
              />
            </Card>
          </>
        )}
      </Loaded>
    </Page>
  );
}
