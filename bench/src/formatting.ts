import { format, resolveConfig } from 'prettier';

/**
 * Formats generated text with the repository's Prettier settings, so the
 * committed results and report pass `prettier --check` as they are written.
 */
export async function formatted(file: string, text: string): Promise<string> {
  const options = (await resolveConfig(file)) ?? {};
  return format(text, { ...options, filepath: file });
}
