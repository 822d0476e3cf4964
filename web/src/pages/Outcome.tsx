import { Card, Descriptions, Tag } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, ok } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { TONE } from '../components/Status';
import { date, dateTime } from '../lib/format';
import { useLocalName } from '../lib/hooks';

/** One reported outcome milestone and its review (the outcome e-mails' link). */
export default function Outcome() {
  const { t } = useTranslation();
  const localName = useLocalName();
  const id = Number(useParams().id);
  const outcome = useQuery({
    queryKey: ['outcome', id],
    queryFn: () => ok(api.GET('/api/v1/outcomes/{id}', { params: { path: { id } } })),
    enabled: Number.isSafeInteger(id) && id > 0,
  });
  return (
    <Page title={outcome.data ? `${outcome.data.client_name} · ${localName({ name_zh: outcome.data.kind_name_zh, name_en: outcome.data.kind_name_en })}` : t('outcomes.kind')}>
      <Loaded query={outcome}>
        {(o) => (
          <Card>
            <Descriptions column={{ xs: 1, sm: 2 }} size="small">
              <Descriptions.Item label={t('common.name')}>{o.title}</Descriptions.Item>
              <Descriptions.Item label={t('common.status')}>
                <Tag color={o.status === 'verified' ? TONE.green : o.status === 'rejected' ? TONE.red : TONE.blue}>
                  {o.status === 'verified' ? t('reviews.verified') : o.status === 'rejected' ? t('reviews.rejected') : t('today.outcomes')}
                </Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('outcomes.achievedOn')}>{date(o.achieved_on)}</Descriptions.Item>
              <Descriptions.Item label={t('outcomes.inWindow')}>{o.in_window ? t('common.yes') : t('common.no')} ({date(o.window_start)} – {date(o.window_end)})</Descriptions.Item>
              <Descriptions.Item label={t('reviews.submittedAt')}>{dateTime(o.reported_at)}</Descriptions.Item>
              {o.review_note && <Descriptions.Item label={t('common.note')}>{o.review_note}</Descriptions.Item>}
              {o.credits.length > 0 && <Descriptions.Item label={t('statements.party')}>{o.credits.map((c) => <Tag key={`${c.org_id}-${c.role}`}>{c.org_name}</Tag>)}</Descriptions.Item>}
            </Descriptions>
          </Card>
        )}
      </Loaded>
    </Page>
  );
}
