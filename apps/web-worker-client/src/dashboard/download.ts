/**
 * Saves bytes as a file through a temporary object URL on an `<a download>`:
 * the export endpoints need the token header, so a plain link cannot fetch
 * them, yet the browser should still see (and report) a real download.
 */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty.
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 60_000);
}

/** `tfjs/model.json` -> `model.json`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
