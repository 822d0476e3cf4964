import {
  AuditOutlined,
  BankOutlined,
  DashboardOutlined,
  FileProtectOutlined,
  FileTextOutlined,
  IdcardOutlined,
  LogoutOutlined,
  MailOutlined,
  MenuOutlined,
  ProfileOutlined,
  SafetyCertificateOutlined,
  SettingOutlined,
  ShopOutlined,
  TranslationOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { Button, Drawer, Dropdown, Flex, Layout, Menu, Typography } from 'antd';
import type { MenuProps } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import { api, token } from '../api/client';
import { setLocale } from '../i18n';
import { useIsPhone } from '../lib/hooks';
import { hasAny, type Me, type Role } from '../lib/session';

type Entry = { key: string; icon?: ReactNode; label: string; roles: Role[]; children?: Entry[] };

const OPS: Role[] = ['vendor_ops', 'platform_admin'];
const FIN: Role[] = ['vendor_finance', 'platform_admin'];
const EVERYONE: Role[] = [
  'platform_admin', 'vendor_ops', 'vendor_finance', 'team_admin', 'team_member', 'equity_admin', 'equity_staff',
  'sub_admin', 'sub_staff', 'implementer', 'client_admin', 'client_user',
];

/** The menu of a person: only what their roles may do (the park stays the authority). */
export function menuFor(me: Me, t: (k: string) => string): MenuProps['items'] {
  const entries: Entry[] = [
    { key: '/', icon: <DashboardOutlined />, label: t('nav.today'), roles: OPS },
    { key: '/orders', icon: <ProfileOutlined />, label: t('nav.orders'), roles: EVERYONE },
    { key: '/contracts', icon: <FileTextOutlined />, label: t('nav.contracts'), roles: EVERYONE.filter((r) => r !== 'implementer') },
    { key: '/pool', icon: <ShopOutlined />, label: t('nav.pool'), roles: OPS },
    {
      key: 'reviews', icon: <SafetyCertificateOutlined />, label: t('nav.reviews'), roles: OPS,
      children: [
        { key: '/reviews/evidence', label: t('nav.evidence'), roles: OPS },
        { key: '/reviews/outcomes', label: t('nav.outcomes'), roles: OPS },
      ],
    },
    { key: '/credentials', icon: <IdcardOutlined />, label: t('nav.credentials'), roles: OPS },
    {
      key: 'finance', icon: <BankOutlined />, label: t('nav.finance'), roles: FIN,
      children: [
        { key: '/payments', label: t('nav.payments'), roles: FIN },
        { key: '/payouts', label: t('nav.payouts'), roles: FIN },
        { key: '/balances', label: t('nav.balances'), roles: FIN },
        { key: '/statements', label: t('nav.statements'), roles: FIN },
        { key: '/cash-flow', label: t('nav.cashFlow'), roles: FIN },
      ],
    },
    {
      key: 'admin', icon: <SettingOutlined />, label: t('nav.admin'), roles: ['platform_admin'],
      children: [
        { key: '/admin/organisations', label: t('nav.organisations'), roles: ['platform_admin'] },
        { key: '/admin/users', label: t('nav.users'), roles: ['platform_admin'] },
        { key: '/admin/services', label: t('nav.services'), roles: ['platform_admin'] },
        { key: '/admin/certifications', label: t('nav.certifications'), roles: ['platform_admin'] },
        { key: '/admin/outcome-kinds', label: t('nav.outcomeKinds'), roles: ['platform_admin'] },
        { key: '/admin/templates', label: t('nav.templates'), roles: ['platform_admin'] },
        { key: '/admin/thresholds', label: t('nav.thresholds'), roles: ['platform_admin'] },
      ],
    },
    { key: '/audit', icon: <AuditOutlined />, label: t('nav.audit'), roles: [...OPS, 'vendor_finance'] },
    { key: '/outbox', icon: <MailOutlined />, label: t('nav.outbox'), roles: OPS },
    { key: '/profile', icon: <UserOutlined />, label: t('nav.profile'), roles: EVERYONE },
  ];
  const build = (list: Entry[]): MenuProps['items'] =>
    list
      .filter((e) => hasAny(me, e.roles))
      .map((e) => (e.children ? { key: e.key, icon: e.icon, label: e.label, children: build(e.children) } : { key: e.key, icon: e.icon, label: e.label }));
  return build(entries);
}

function selectedKey(path: string): string {
  if (path === '/') return '/';
  const first = '/' + (path.split('/')[1] ?? '');
  return path.startsWith('/reviews/') || path.startsWith('/admin/') ? path : first;
}

/** The frame of every signed-in page: the side menu on a desk, a drawer on a phone. */
export function Shell({ me, children }: { me: Me; children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const phone = useIsPhone();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const items = menuFor(me, t);
  const selected = selectedKey(location.pathname);

  const logout = async () => {
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    token.clear();
    qc.clear();
    navigate('/login');
  };

  const menu = (
    <Menu
      mode="inline"
      theme={phone ? 'light' : 'dark'}
      selectedKeys={[selected]}
      defaultOpenKeys={['reviews', 'finance', 'admin']}
      items={items}
      onClick={(e) => {
        setOpen(false);
        navigate(e.key);
      }}
    />
  );
  const brand = (
    <Link to="/" className="brand" aria-label={t('app.name')}>
      <img src="/icon.svg" alt="" width={28} height={28} />
      <span>{t('app.name')}</span>
    </Link>
  );
  const other = i18n.language === 'en' ? 'zh-CN' : 'en';

  return (
    <Layout style={{ minHeight: '100vh' }}>
      {!phone && (
        <Layout.Sider width={224} breakpoint="lg" collapsedWidth={64} style={{ position: 'sticky', top: 0, height: '100vh', overflow: 'auto' }}>
          {brand}
          <nav aria-label={t('nav.menu')}>{menu}</nav>
        </Layout.Sider>
      )}
      <Layout>
        <Layout.Header className="topbar" style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', background: '#fff', padding: '0 16px' }}>
          <Flex align="center" gap={8}>
            {phone && <Button type="text" icon={<MenuOutlined />} aria-label={t('nav.menu')} onClick={() => setOpen(true)} />}
            {phone && <Typography.Text strong>{t('app.name')}</Typography.Text>}
          </Flex>
          <Flex align="center" gap={4}>
            <Button type="text" icon={<TranslationOutlined />} onClick={() => setLocale(other)} aria-label={t('common.language')}>
              {phone ? null : other === 'en' ? 'English' : '中文'}
            </Button>
            <Dropdown
              menu={{
                items: [
                  { key: 'profile', icon: <UserOutlined />, label: t('nav.profile'), onClick: () => navigate('/profile') },
                  { key: 'logout', icon: <LogoutOutlined />, label: t('nav.logout'), onClick: () => void logout() },
                ],
              }}
            >
              <Button type="text" icon={<UserOutlined />}>
                {phone ? null : me.display_name}
              </Button>
            </Dropdown>
          </Flex>
        </Layout.Header>
        <Layout.Content className="content">
          <main>{children}</main>
        </Layout.Content>
      </Layout>
      {phone && (
        <Drawer open={open} onClose={() => setOpen(false)} placement="left" size={280} title={brand} styles={{ body: { padding: 0 } }}>
          <nav aria-label={t('nav.menu')}>{menu}</nav>
          <div style={{ padding: 16 }}>
            <Button block icon={<FileProtectOutlined />} onClick={() => void logout()}>
              {t('nav.logout')}
            </Button>
          </div>
        </Drawer>
      )}
    </Layout>
  );
}
