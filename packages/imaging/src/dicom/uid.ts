// DICOM UID validation (PS3.5 9.1): UIDs end up in paths and queries, so anything else is refused.

// Components of digits separated by single dots; a component is "0" or has no leading zero.
const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/

/** True for a valid DICOM UID: 1 to 64 characters, digit components joined by single dots, no leading zeros. */
export function isValidUid(uid: string): boolean {
  return uid.length >= 1 && uid.length <= 64 && UID_PATTERN.test(uid)
}
