import { StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';

/** Renders a page's root component into its `#root` element. */
export function mountPage(page: ReactNode): void {
  const root = document.getElementById('root');
  if (root === null) throw new Error('the page has no #root element');
  createRoot(root).render(<StrictMode>{page}</StrictMode>);
}
