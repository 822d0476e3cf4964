import { useQuery } from '@tanstack/react-query';
import { api, ok, token, type Schemas } from '../api/client';

export type Me = Schemas['MeView'];
export type Role = Schemas['RoleName'];


/** The signed-in person, from `/me`; nothing is asked without a token. */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: () => ok(api.GET('/api/v1/me')),
    enabled: token.get() !== null,
    staleTime: 5 * 60_000,
  });
}

export function hasAny(me: Me | undefined, roles: readonly Role[]): boolean {
  return !!me && me.roles.some((r) => roles.includes(r));
}

/** What `/me` says the person may do: `can(me, 'ledger', 'read')`. The park still decides. */
export function can(me: Me | undefined, resource: string, action: string): boolean {
  return !!me && me.permissions.some((p) => p.resource === resource && p.action === action);
}
