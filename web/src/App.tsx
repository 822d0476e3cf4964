import { App as AntApp, ConfigProvider, Skeleton } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { token } from './api/client';
import { hasAny, useMe, type Role } from './lib/session';
import { Login } from './pages/Login';

// The login page loads only what it shows; the frame, the error pages and every screen come
// after sign-in.
const Shell = lazy(() => import('./components/Shell').then((m) => ({ default: m.Shell })));
const ErrorView = lazy(() => import('./components/ErrorView').then((m) => ({ default: m.ErrorView })));
const SetPassword = lazy(() => import('./pages/SetPassword'));
const ForgotPassword = lazy(() => import('./pages/ForgotPassword'));
const Profile = lazy(() => import('./pages/Profile'));
const Today = lazy(() => import('./pages/Today'));
const Orders = lazy(() => import('./pages/Orders'));
const OrderDetail = lazy(() => import('./pages/OrderDetail'));
const Contracts = lazy(() => import('./pages/Contracts'));
const ContractDetail = lazy(() => import('./pages/ContractDetail'));
const Evidence = lazy(() => import('./pages/Evidence'));
const Payments = lazy(() => import('./pages/Payments'));
const Statement = lazy(() => import('./pages/Statement'));
const Credential = lazy(() => import('./pages/Credential'));
const Pool = lazy(() => import('./pages/Pool'));
const Payouts = lazy(() => import('./pages/Payouts'));
const Organisations = lazy(() => import('./pages/Organisations'));
const Users = lazy(() => import('./pages/Users'));
const Outcomes = lazy(() => import('./pages/Outcomes'));
const Audit = lazy(() => import('./pages/Audit'));
const Outbox = lazy(() => import('./pages/Outbox'));
const Credentials = lazy(() => import('./pages/Credentials'));
const CashFlow = lazy(() => import('./pages/CashFlow'));
const Statements = lazy(() => import('./pages/Statements'));
const Balances = lazy(() => import('./pages/Balances'));
const Overdue = lazy(() => import('./pages/Overdue'));
const Outcome = lazy(() => import('./pages/Outcome'));
const Scorecard = lazy(() => import('./pages/Scorecard'));
const Services = lazy(() => import('./pages/Services'));
const Certifications = lazy(() => import('./pages/Certifications'));
const OutcomeKinds = lazy(() => import('./pages/Catalogs').then((m) => ({ default: m.OutcomeKinds })));
const Templates = lazy(() => import('./pages/Catalogs').then((m) => ({ default: m.Templates })));
const Thresholds = lazy(() => import('./pages/Catalogs').then((m) => ({ default: m.Thresholds })));

const OPS: Role[] = ['vendor_ops', 'platform_admin'];
const FIN: Role[] = ['vendor_finance', 'platform_admin'];
const ADMIN: Role[] = ['platform_admin'];

/** Signed-in pages: no token → the login page, then back here. */
function Private({ children, roles }: { children: ReactNode; roles?: Role[] }) {
  const location = useLocation();
  const me = useMe();
  if (token.get() === null) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (me.error) return <ErrorView error={me.error} />;
  if (!me.data) return <Skeleton active style={{ padding: 24 }} />;
  return (
    <Shell me={me.data}>
      {roles && !hasAny(me.data, roles) ? <ErrorView status={403} /> : children}
    </Shell>
  );
}

/** Home: ops and admins start on Today, finance on payments, everyone else on their orders. */
function Home() {
  const me = useMe();
  if (hasAny(me.data, OPS)) return <Today />;
  return <Navigate to={hasAny(me.data, ['vendor_finance']) ? '/payments' : '/orders'} replace />;
}

export function App() {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider button={{ autoInsertSpace: false }} locale={i18n.language === 'en' ? enUS : zhCN} theme={{ token: { colorPrimary: '#1f4e8c', colorLink: '#1f4e8c', colorTextSecondary: '#595959', colorTextDescription: '#595959', colorTextPlaceholder: '#767676', colorTextTertiary: '#595959', colorError: '#cf1322', borderRadius: 6 } }}>
      <AntApp>
        <Suspense fallback={<Skeleton active style={{ padding: 24 }} />}>
          <Routes>
            <Route path="/login" element={<Login />} />
            <Route path="/set-password" element={<SetPassword />} />
            <Route path="/forgot-password" element={<ForgotPassword />} />
            <Route path="/" element={<Private><Home /></Private>} />
            <Route path="/profile" element={<Private><Profile /></Private>} />
            <Route path="/orders" element={<Private><Orders /></Private>} />
            <Route path="/orders/:id" element={<Private><OrderDetail /></Private>} />
            <Route path="/contracts" element={<Private><Contracts /></Private>} />
            <Route path="/contracts/:id" element={<Private><ContractDetail /></Private>} />
            <Route path="/reviews/evidence" element={<Private roles={OPS}><Evidence /></Private>} />
            <Route path="/payments" element={<Private roles={FIN}><Payments /></Private>} />
            <Route path="/pool" element={<Private><Pool /></Private>} />
            <Route path="/payouts" element={<Private roles={FIN}><Payouts /></Private>} />
            <Route path="/admin/organisations" element={<Private roles={ADMIN}><Organisations /></Private>} />
            <Route path="/admin/users" element={<Private roles={ADMIN}><Users /></Private>} />
            <Route path="/admin/services" element={<Private roles={ADMIN}><Services /></Private>} />
            <Route path="/admin/certifications" element={<Private roles={ADMIN}><Certifications /></Private>} />
            <Route path="/admin/outcome-kinds" element={<Private roles={ADMIN}><OutcomeKinds /></Private>} />
            <Route path="/admin/templates" element={<Private roles={ADMIN}><Templates /></Private>} />
            <Route path="/admin/thresholds" element={<Private roles={ADMIN}><Thresholds /></Private>} />
            <Route path="/overdue" element={<Private roles={OPS}><Overdue /></Private>} />
            <Route path="/reviews/outcomes" element={<Private roles={OPS}><Outcomes /></Private>} />
            <Route path="/credentials" element={<Private roles={OPS}><Credentials /></Private>} />
            <Route path="/audit" element={<Private roles={[...OPS, 'vendor_finance']}><Audit /></Private>} />
            <Route path="/outbox" element={<Private roles={OPS}><Outbox /></Private>} />
            <Route path="/cash-flow" element={<Private roles={FIN}><CashFlow /></Private>} />
            <Route path="/statements" element={<Private roles={FIN}><Statements /></Private>} />
            <Route path="/balances" element={<Private roles={FIN}><Balances /></Private>} />
            <Route path="/statements/:party/:period" element={<Private><Statement /></Private>} />
            <Route path="/outcomes/:id" element={<Private><Outcome /></Private>} />
            <Route path="/scorecard" element={<Private><Scorecard /></Private>} />
            <Route path="/credentials/:id" element={<Private><Credential /></Private>} />
            <Route path="*" element={<Private><ErrorView status={404} /></Private>} />
          </Routes>
        </Suspense>
      </AntApp>
    </ConfigProvider>
  );
}
