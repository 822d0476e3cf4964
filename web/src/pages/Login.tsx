import { Alert, Button, Card, Flex, Form, Input } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError, ok, token } from '../api/client';
import { setLocale } from '../i18n';

/** Where to go after signing in: only a path of this console, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  const { t, i18n } = useTranslation();
  return (
    <main className="auth-page">
      <Card className="auth-card">
        <Flex align="center" gap={10} style={{ marginBottom: 8 }}>
          <img src="/icon.svg" alt="" width={32} height={32} />
          <strong style={{ fontSize: 18 }}>{t('app.name')}</strong>
          <Button type="link" size="small" style={{ marginLeft: 'auto' }} onClick={() => setLocale(i18n.language === 'en' ? 'zh-CN' : 'en')}>
            {i18n.language === 'en' ? '中文' : 'English'}
          </Button>
        </Flex>
        {/* Plain headings here: the sign-in page loads as little as it can. */}
        <h1 style={{ fontSize: 24, fontWeight: 600, margin: '16px 0' }}>{title}</h1>
        {children}
      </Card>
    </main>
  );
}

export function Login() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const next = safeNext(params.get('next'));
  const login = useMutation({
    mutationFn: (body: { email: string; password: string }) => ok(api.POST('/api/v1/auth/login', { body })),
    onSuccess: (answer) => {
      token.set(answer.token);
      qc.setQueryData(['me'], answer.user);
      if (answer.user.locale === 'en' || answer.user.locale === 'zh-CN') setLocale(answer.user.locale);
      navigate(next, { replace: true });
    },
  });
  if (token.get() !== null && !login.isPending) return <Navigate to={next} replace />;
  const failed = login.error instanceof ApiError && login.error.status === 401;
  return (
    <AuthFrame title={t('auth.title')}>
      <Form layout="vertical" onFinish={(v: { email: string; password: string }) => login.mutate(v)} requiredMark={false}>
        <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, type: 'email' }]}>
          <Input autoComplete="username" inputMode="email" size="large" />
        </Form.Item>
        <Form.Item name="password" label={t('auth.password')} rules={[{ required: true }]}>
          <Input.Password autoComplete="current-password" size="large" />
        </Form.Item>
        {login.error && (
          <Alert type="error" showIcon style={{ marginBottom: 16 }} title={failed ? t('auth.failed') : login.error.message} />
        )}
        <Button type="primary" htmlType="submit" block size="large" loading={login.isPending}>
          {t('auth.login')}
        </Button>
      </Form>
      <Flex justify="space-between" style={{ marginTop: 16 }}>
        <Link to="/forgot-password">{t('auth.forgot')}</Link>
      </Flex>
      <p style={{ marginTop: 16, marginBottom: 0, fontSize: 12, color: '#595959' }}>{t('auth.demo')}</p>
    </AuthFrame>
  );
}
