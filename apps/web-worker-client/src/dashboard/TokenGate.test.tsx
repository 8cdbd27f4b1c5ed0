import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenGate } from './TokenGate.js';

afterEach(cleanup);

describe('TokenGate', () => {
  it('hands over the trimmed token and refuses an empty one', () => {
    const onSubmit = vi.fn();
    render(<TokenGate onSubmit={onSubmit} />);
    const submit = screen.getByTestId<HTMLButtonElement>('token-submit');
    expect(submit.disabled).toBe(true);
    fireEvent.change(screen.getByTestId('token-input'), { target: { value: '  s3cret ' } });
    fireEvent.click(submit);
    expect(onSubmit).toHaveBeenCalledWith('s3cret');
  });

  it('says why the token is asked for again', () => {
    render(<TokenGate onSubmit={vi.fn()} notice="The coordinator refused the researcher token" />);
    expect(screen.getByRole('alert').textContent).toContain('refused');
  });
});
