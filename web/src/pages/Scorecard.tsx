import { Card, Col, Descriptions, Empty, List, Row, Statistic, Tag } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ok } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { TONE } from '../components/Status';
import { date, money, rate } from '../lib/format';

/** A partner's scorecard (the tier e-mail's link): its figures, its tier, what the next one needs. */
export default function Scorecard() {
  const { t } = useTranslation();
  const cards = useQuery({ queryKey: ['scorecards'], queryFn: () => ok(api.GET('/api/v1/scorecards', { params: { query: {} } })) });
  return (
    <Page title={t('scorecard.title')}>
      <Loaded query={cards}>
        {(l) =>
          l.items.length === 0 ? (
            <Empty description={t('common.empty')} />
          ) : (
            l.items.map((c) => (
              <Card key={c.org_id} title={`${c.org_name} · ${date(c.from)} – ${date(c.to)}`} style={{ marginBottom: 16 }}>
                <Descriptions column={{ xs: 1, sm: 3 }} size="small" style={{ marginBottom: 16 }}>
                  <Descriptions.Item label={t('scorecard.current')}><Tag color={TONE.blue}>{t(`admin.tiers.${c.current_tier}`)}</Tag></Descriptions.Item>
                  <Descriptions.Item label={t('scorecard.reached')}><Tag color={TONE.green}>{t(`admin.tiers.${c.reached_tier}`)}</Tag></Descriptions.Item>
                  <Descriptions.Item label={t('scorecard.next')}>{c.next_tier ? t(`admin.tiers.${c.next_tier}`) : t('scorecard.none')}</Descriptions.Item>
                </Descriptions>
                <Row gutter={[16, 16]}>
                  <Col xs={12} md={6}><Statistic title={t('scorecard.revenue')} value={money(c.figures.revenue)} /></Col>
                  <Col xs={12} md={6}><Statistic title={t('scorecard.quality')} value={c.figures.quality} /></Col>
                  <Col xs={12} md={6}><Statistic title={t('scorecard.onTime')} value={rate(c.figures.on_time_rate)} /></Col>
                  <Col xs={12} md={6}><Statistic title={t('scorecard.disputeRate')} value={rate(c.figures.dispute_rate)} /></Col>
                </Row>
                {c.next_tier_misses.length > 0 && (
                  <List size="small" header={t('scorecard.misses')} dataSource={c.next_tier_misses} renderItem={(m) => <List.Item>{m}</List.Item>} style={{ marginTop: 16 }} />
                )}
              </Card>
            ))
          )
        }
      </Loaded>
    </Page>
  );
}
