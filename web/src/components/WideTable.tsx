import { Table } from 'antd';
import type { TableProps } from 'antd';

/**
 * A table that scrolls sideways inside its own region when it is wider than the screen, and
 * that region can be reached and scrolled with the keyboard.
 */
export function WideTable<T extends object>({ label, ...props }: TableProps<T> & { label?: string }) {
  return (
    <div className="wide" tabIndex={0} role="region" aria-label={label ?? (typeof props.title === 'string' ? props.title : 'table')}>
      <Table<T> {...props} />
    </div>
  );
}
