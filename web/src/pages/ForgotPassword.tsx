import { Alert, Button, Form, Input } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ok } from '../api/client';
import { AuthFrame } from './Login';

export default function ForgotPassword() {
  const { t } = useTranslation();
  const send = useMutation({
    mutationFn: (email: string) => ok(api.POST('/api/v1/auth/password-reset', { body: { email } })),
  });
  return (
    <AuthFrame title={t('auth.resetTitle')}>
      {send.isSuccess ? (
        <Alert type="success" showIcon title={t('auth.resetSent')} />
      ) : (
        <>
          <p>{t('auth.resetIntro')}</p>
          <Form layout="vertical" requiredMark={false} onFinish={(v: { email: string }) => send.mutate(v.email)}>
            <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, type: 'email' }]}>
              <Input autoComplete="username" inputMode="email" size="large" />
            </Form.Item>
            {send.error && <Alert type="error" showIcon style={{ marginBottom: 16 }} title={send.error.message} />}
            <Button type="primary" htmlType="submit" block size="large" loading={send.isPending}>
              {t('auth.send')}
            </Button>
          </Form>
        </>
      )}
      <div style={{ marginTop: 16 }}>
        <Link to="/login">{t('auth.backToLogin')}</Link>
      </div>
    </AuthFrame>
  );
}
