import { Alert, Button, Form, Input, Result } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, ok } from '../api/client';
import { AuthFrame } from './Login';

/** The page behind the invitation and reset e-mails: choose a password with the link's token. */
export default function SetPassword() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const tokenParam = params.get('token');
  const save = useMutation({
    mutationFn: (password: string) =>
      ok(api.POST('/api/v1/auth/password', { body: { token: tokenParam ?? '', password } })),
  });
  if (!tokenParam) {
    return (
      <AuthFrame title={t('auth.setTitle')}>
        <Alert type="warning" showIcon title={t('auth.noToken')} />
      </AuthFrame>
    );
  }
  if (save.isSuccess) {
    return (
      <AuthFrame title={t('auth.setTitle')}>
        <Result status="success" title={t('auth.setDone')} extra={<Link to="/login">{t('auth.login')}</Link>} />
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title={t('auth.setTitle')}>
      <p>{t('auth.setIntro')}</p>
      <Form layout="vertical" requiredMark={false} onFinish={(v: { password: string }) => save.mutate(v.password)}>
        <Form.Item name="password" label={t('auth.newPassword')} rules={[{ required: true, min: 8, message: t('auth.tooShort') }]}>
          <Input.Password autoComplete="new-password" size="large" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('auth.confirm')}
          dependencies={['password']}
          rules={[
            { required: true },
            ({ getFieldValue }) => ({
              validator: (_, v) => (v === getFieldValue('password') ? Promise.resolve() : Promise.reject(new Error(t('auth.mismatch')))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" size="large" />
        </Form.Item>
        {save.error && <Alert type="error" showIcon style={{ marginBottom: 16 }} title={save.error.message} />}
        <Button type="primary" htmlType="submit" block size="large" loading={save.isPending}>
          {t('auth.save')}
        </Button>
      </Form>
    </AuthFrame>
  );
}
