/**
 * Last line of defence of the checkpoint's privacy lock: the capture policy already keeps image capture from
 * starting, and the agent's artifact sink also refuses anything that looks like an image, by content type or
 * by its first bytes, so no code path can put one in the outbox.
 */

/** PNG, JPEG, GIF, WebP, AVIF/HEIF (ISO-BMFF `ftyp`), TIFF. */
export function looksLikeImage(bytes: Uint8Array): boolean {
  const starts = (...signature: number[]) => signature.every((byte, index) => bytes[index] === byte);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return true; // PNG
  if (starts(0xff, 0xd8, 0xff)) return true; // JPEG
  if (starts(0x47, 0x49, 0x46, 0x38)) return true; // GIF8
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return true; // RIFF….WEBP
  if (bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70) return true; // ftyp (AVIF, HEIC)
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return true; // TIFF
  return false;
}

/** True when an artifact is an image, by its declared type or its bytes. */
export function isImageArtifact(contentType: string, bytes: Uint8Array): boolean {
  return /^image\//i.test(contentType.trim()) || looksLikeImage(bytes);
}
