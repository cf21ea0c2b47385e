/**
 * A strict JSON reader for log lines: like JSON.parse, but it refuses an object
 * that has the same key twice (at any depth), which JSON.parse silently
 * accepts by keeping the last value. Strict log pipelines refuse such lines.
 */
export function parseStrictJson(text: string): unknown {
  const value = JSON.parse(text) as unknown; // syntax first, with JSON.parse's own messages
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const val = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        if (seen.has(key)) throw new Error(`duplicate key ${JSON.stringify(key)} in ${path || 'the top-level object'}`);
        seen.add(key);
        ws();
        i++; // ':'
        val(`${path}.${key}`);
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        val(`${path}[${n}]`);
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++; // number, true, false, null
    }
  };
  val('');
  return value;
}
