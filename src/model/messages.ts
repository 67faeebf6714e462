// Lists of names in status messages, bounded: a condition message must stay far below the CRD's
// 32 KiB limit whatever the fleet's size, or the status write is refused and the plan says nothing.

/** How many names a message lists before "and N more". */
const listedNames = 10;

/** "a, b, c" or "a, b, … and 990 more". */
export function nameList(names: readonly string[], max = listedNames): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

/** Messages longer than this are cut (an error text from another system can be any length). */
const maxMessageLength = 2048;

export function boundMessage(message: string): string {
  return message.length <= maxMessageLength ? message : `${message.slice(0, maxMessageLength - 1)}…`;
}
