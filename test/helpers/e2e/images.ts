import { findImageSignatures } from '../fake-control-plane.ts';

/** Base64 forms of images: a data: URL, and the base64 openings of PNG, JPEG and WebP (RIFF) files. */
const base64Markers = ['data:image', 'iVBORw0KGgo', '/9j/', 'UklGR'] as const;

/**
 * Every sign of an image in `chunks`: raw PNG / JPEG / WebP signatures, and base64 images (`data:image`,
 * `iVBORw0KGgo`, `/9j/`, `UklGR`). Each chunk is searched on its own and the list names what was found where.
 */
export function findImageEvidence(chunks: readonly { label: string; bytes: Buffer }[]): string[] {
  const found: string[] = [];
  for (const { label, bytes } of chunks) {
    for (const name of findImageSignatures([bytes])) found.push(`${name} signature in ${label}`);
    const text = bytes.toString('latin1');
    for (const marker of base64Markers) {
      const at = text.indexOf(marker);
      if (at >= 0) found.push(`"${marker}" in ${label} at byte ${at}: …${text.slice(Math.max(0, at - 40), at + 40).replace(/[^\x20-\x7e]/g, '.')}…`);
    }
  }
  return found;
}
