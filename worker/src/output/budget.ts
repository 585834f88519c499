/** Cuts text to a byte budget at a line boundary and says so, with what to do to get the rest. */
export function applyByteBudget(text: string, budget: number, hint: string): { text: string; truncated: boolean } {
  const total = Buffer.byteLength(text);
  if (total <= budget) return { text, truncated: false };
  const marker = `\n[truncated: the output was ${total} bytes, over this worker's ${budget}-byte budget. ${hint}]`;
  const room = Math.max(0, budget - Buffer.byteLength(marker));
  let cut = Buffer.from(text).subarray(0, room).toString('utf8');
  // Drop a partial multi-byte char and a partial last line.
  cut = cut.replace(/\uFFFD+$/, '');
  const nl = cut.lastIndexOf('\n');
  if (nl > room / 2) cut = cut.slice(0, nl);
  return { text: cut + marker, truncated: true };
}
