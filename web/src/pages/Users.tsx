import { Alert, App, Button, Drawer, Flex, Form, Input, Modal, Popconfirm, Select, Space, Tag, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, ok, type Schemas } from '../api/client';
import { CursorList, useCursorList } from '../components/CursorList';
import { OrgPicker } from '../components/OrgPicker';
import { Page } from '../components/Page';
import { TONE } from '../components/Status';
import { dateTime } from '../lib/format';
import { fieldError, formError } from '../lib/forms';
import { useIsPhone } from '../lib/hooks';

type User = Schemas['UserView'];
type Role = Schemas['RoleName'];
type Create = Schemas['CreateUserRequest'];
const ROLES: Role[] = ['platform_admin', 'vendor_ops', 'vendor_finance', 'team_admin', 'team_member', 'equity_admin', 'equity_staff', 'sub_admin', 'sub_staff', 'implementer', 'client_admin', 'client_user'];

function Invite({ onDone }: { onDone: (u: User) => void }) {
  const { t } = useTranslation();
  const create = useMutation({ mutationFn: (body: Create) => ok(api.POST('/api/v1/users', { body })), onSuccess: onDone });
  return (
    <Form<Create> layout="vertical" initialValues={{ locale: 'zh-CN', roles: [] }} onFinish={(v) => create.mutate({ ...v, phone: v.phone || null })}>
      <Form.Item name="org_id" label={t('admin.organisation')} rules={[{ required: true }]} {...fieldError(create.error, 'org_id')}>
        <OrgPicker id="org_id" />
      </Form.Item>
      <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, type: 'email' }]} {...fieldError(create.error, 'email')}>
        <Input inputMode="email" />
      </Form.Item>
      <Form.Item name="display_name" label={t('admin.displayName')} rules={[{ required: true, whitespace: true }]} {...fieldError(create.error, 'display_name')}>
        <Input />
      </Form.Item>
      <Form.Item name="roles" label={t('admin.roles')} rules={[{ required: true }]} {...fieldError(create.error, 'roles')}>
        <Select mode="multiple" showSearch={{ optionFilterProp: 'label' }} options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
      </Form.Item>
      <Form.Item name="locale" label={t('common.language')}>
        <Select options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'English' }]} />
      </Form.Item>
      {formError(create.error) && <Alert type="error" showIcon title={formError(create.error)} style={{ marginBottom: 12 }} />}
      <Button type="primary" htmlType="submit" block loading={create.isPending}>
        {t('admin.newUser')}
      </Button>
    </Form>
  );
}

export default function Users() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState<User | null>(null);
  const [roles, setRoles] = useState<Role[]>([]);
  const orgId = params.get('org_id') ? Number(params.get('org_id')) : undefined;
  const q = params.get('q') ?? undefined;
  const query = useCursorList<User>(['users', orgId, q], (cursor) => ok(api.GET('/api/v1/users', { params: { query: { org_id: orgId, q, cursor, limit: 50 } } })));
  const refresh = () => void qc.invalidateQueries({ queryKey: ['users'] });
  const setUserRoles = useMutation({
    mutationFn: (v: { id: number; roles: Role[] }) => ok(api.PUT('/api/v1/users/{id}/roles', { params: { path: { id: v.id } }, body: { roles: v.roles } })),
    onSuccess: () => { setEditing(null); refresh(); void message.success(t('common.saved')); },
  });
  const setStatus = useMutation({
    mutationFn: (v: { id: number; status: Schemas['UserStatusName'] }) => ok(api.PATCH('/api/v1/users/{id}', { params: { path: { id: v.id } }, body: { status: v.status } })),
    onSuccess: () => { refresh(); void message.success(t('common.saved')); },
  });
  const set = (k: string, v?: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const actions = (u: User) => (
    <Space>
      <Button size="small" onClick={() => { setEditing(u); setRoles(u.roles); }}>{t('admin.editRoles')}</Button>
      <Popconfirm title={u.status === 'disabled' ? t('admin.enable') : t('admin.disable')} onConfirm={() => setStatus.mutate({ id: u.id, status: u.status === 'disabled' ? 'active' : 'disabled' })} okText={t('common.confirm')} cancelText={t('common.cancel')}>
        <Button size="small" danger={u.status !== 'disabled'}>{u.status === 'disabled' ? t('admin.enable') : t('admin.disable')}</Button>
      </Popconfirm>
    </Space>
  );
  const columns: TableColumnsType<User> = [
    { title: t('admin.displayName'), render: (_, u) => <><Typography.Text strong>{u.display_name}</Typography.Text><div><Typography.Text type="secondary">{u.email}</Typography.Text></div></> },
    { title: t('admin.organisation'), dataIndex: 'org_name' },
    { title: t('admin.roles'), render: (_, u) => u.roles.map((r) => <Tag key={r}>{t(`role.${r}`)}</Tag>) },
    { title: t('common.status'), render: (_, u) => <Tag color={u.status === 'active' ? TONE.green : u.status === 'invited' ? TONE.blue : undefined}>{t(`admin.userStatus.${u.status}`)}</Tag> },
    { title: t('admin.lastLogin'), dataIndex: 'last_login_at', className: 'num', render: (v?: string | null) => dateTime(v) },
    { title: t('common.actions'), render: (_, u) => actions(u) },
  ];
  return (
    <Page title={t('admin.usersTitle')} extra={<Button type="primary" onClick={() => setOpen(true)}>{t('admin.newUser')}</Button>}>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input.Search allowClear defaultValue={q} placeholder={t('common.search')} aria-label={t('common.search')} onSearch={(v) => set('q', v.trim() || undefined)} style={{ width: 240, maxWidth: '100%' }} />
        <OrgPicker allowClear value={orgId} onChange={(id) => set('org_id', id ? String(id) : undefined)} placeholder={t('admin.organisation')} style={{ width: 260, maxWidth: '100%' }} />
      </Flex>
      {(setStatus.error ?? setUserRoles.error) && <Alert type="error" showIcon title={(setStatus.error ?? setUserRoles.error)?.message} style={{ marginBottom: 12 }} />}
      <CursorList<User>
        query={query}
        columns={columns}
        rowKey={(u) => u.id}
        empty={t('common.empty')}
        card={(u) => (
          <Flex vertical gap={6}>
            <Flex justify="space-between"><Typography.Text strong>{u.display_name}</Typography.Text><Tag>{t(`admin.userStatus.${u.status}`)}</Tag></Flex>
            <Typography.Text type="secondary">{u.email} · {u.org_name}</Typography.Text>
            <div>{u.roles.map((r) => <Tag key={r}>{t(`role.${r}`)}</Tag>)}</div>
            {actions(u)}
          </Flex>
        )}
      />
      <Drawer open={open} onClose={() => setOpen(false)} title={t('admin.newUser')} size={phone ? '100%' : 520} destroyOnHidden>
        <Invite onDone={(u) => { void message.success(t('admin.invited', { email: u.email })); refresh(); setOpen(false); }} />
      </Drawer>
      <Modal open={editing !== null} title={`${t('admin.editRoles')} · ${editing?.display_name ?? ''}`} onCancel={() => setEditing(null)} onOk={() => editing && setUserRoles.mutate({ id: editing.id, roles })} confirmLoading={setUserRoles.isPending} okText={t('common.save')} cancelText={t('common.cancel')}>
        <Select mode="multiple" showSearch={{ optionFilterProp: 'label' }} style={{ width: '100%' }} value={roles} onChange={setRoles} aria-label={t('admin.roles')} options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
      </Modal>
    </Page>
  );
}
