import { App, Button, Card, Col, Descriptions, Form, Input, Row, Segmented, Tag } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ok } from '../api/client';
import { Loaded, Page } from '../components/Page';
import { setLocale, type Locale } from '../i18n';
import { useMe } from '../lib/session';

export default function Profile() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const me = useMe();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const language = useMutation({
    mutationFn: (locale: Locale) => ok(api.PATCH('/api/v1/me', { body: { locale } })),
    onSuccess: (updated, locale) => {
      setLocale(locale);
      qc.setQueryData(['me'], updated);
      void message.success(t('profile.saved'));
    },
  });
  const password = useMutation({
    mutationFn: (v: { current_password: string; new_password: string }) => ok(api.POST('/api/v1/me/password', { body: v })),
    onSuccess: () => {
      form.resetFields();
      void message.success(t('profile.changed'));
    },
  });
  return (
    <Page title={t('profile.title')}>
      <Loaded query={me}>
        {(m) => (
          <Row gutter={[16, 16]}>
            <Col xs={24} lg={12}>
              <Card title={m.display_name}>
                <Descriptions column={1} size="small">
                  <Descriptions.Item label={t('auth.email')}>{m.email}</Descriptions.Item>
                  <Descriptions.Item label={t('profile.organisation')}>
                    {i18n.language === 'en' ? m.organisation.name_en : m.organisation.name_zh}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('profile.roles')}>
                    {m.roles.map((r) => (
                      <Tag key={r}>{t(`role.${r}`)}</Tag>
                    ))}
                  </Descriptions.Item>
                  <Descriptions.Item label={t('profile.language')}>
                    <Segmented
                      value={i18n.language === 'en' ? 'en' : 'zh-CN'}
                      options={[
                        { label: '中文', value: 'zh-CN' },
                        { label: 'English', value: 'en' },
                      ]}
                      onChange={(v) => language.mutate(v as Locale)}
                      disabled={language.isPending}
                    />
                  </Descriptions.Item>
                </Descriptions>
              </Card>
            </Col>
            <Col xs={24} lg={12}>
              <Card title={t('profile.changePassword')}>
                <Form form={form} layout="vertical" requiredMark={false} onFinish={(v) => password.mutate(v)}>
                  <Form.Item
                    name="current_password"
                    label={t('profile.current')}
                    rules={[{ required: true }]}
                    validateStatus={password.error ? 'error' : undefined}
                    help={password.error?.message}
                  >
                    <Input.Password autoComplete="current-password" />
                  </Form.Item>
                  <Form.Item name="new_password" label={t('auth.newPassword')} rules={[{ required: true, min: 8, message: t('auth.tooShort') }]}>
                    <Input.Password autoComplete="new-password" />
                  </Form.Item>
                  <Button type="primary" htmlType="submit" loading={password.isPending}>
                    {t('common.save')}
                  </Button>
                </Form>
              </Card>
            </Col>
          </Row>
        )}
      </Loaded>
    </Page>
  );
}
