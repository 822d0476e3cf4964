import { Select } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ok, type Schemas } from '../api/client';

/** Choose an organisation by typing part of its name (the park searches, not the browser). */
export function OrgPicker(props: { value?: number; onChange?: (id?: number) => void; kind?: Schemas['OrgKindName']; id?: string; placeholder?: string; allowClear?: boolean; style?: React.CSSProperties }) {
  const [q, setQ] = useState<string>();
  // The chosen organisation stays among the options when the search moves on (else its name
  // would vanish from the field).
  const [chosen, setChosen] = useState<{ value: number; label: string }>();
  const orgs = useQuery({
    queryKey: ['organisations', 'pick', props.kind, q],
    queryFn: () => ok(api.GET('/api/v1/organisations', { params: { query: { q, kind: props.kind, limit: 20 } } })),
  });
  return (
    <Select
      id={props.id}
      value={props.value}
      onChange={(v?: number, option?: unknown) => {
        const o = option as { value: number; label: string } | undefined;
        setChosen(o && !Array.isArray(o) ? { value: o.value, label: o.label } : undefined);
        props.onChange?.(v);
      }}
      allowClear={props.allowClear}
      placeholder={props.placeholder}
      aria-label={props.placeholder}
      style={props.style}
      loading={orgs.isFetching}
      showSearch={{ filterOption: false, onSearch: (v) => setQ(v.trim() || undefined) }}
      options={[
        ...(chosen && !orgs.data?.items.some((o) => o.id === chosen.value) ? [chosen] : []),
        ...(orgs.data?.items ?? []).map((o) => ({ value: o.id, label: o.name_zh })),
      ]}
    />
  );
}
