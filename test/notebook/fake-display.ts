import type { DisplayFactory } from '../../src/notebook';

/** One in-place display as a test sees it: every value it was given, in order. */
export interface RecordedDisplay {
  shown: { kind: 'html' | 'text' | 'png' | 'jpeg'; value: string | Uint8Array }[];
}

/** A DisplayFactory that records instead of talking to a kernel. */
export function recordingDisplays(): { makeDisplay: DisplayFactory; displays: RecordedDisplay[] } {
  const displays: RecordedDisplay[] = [];
  const makeDisplay: DisplayFactory = () => {
    const d: RecordedDisplay = { shown: [] };
    displays.push(d);
    return {
      html: (s) => d.shown.push({ kind: 'html', value: s }),
      text: (s) => d.shown.push({ kind: 'text', value: s }),
      png: (b) => d.shown.push({ kind: 'png', value: b }),
      jpeg: (b) => d.shown.push({ kind: 'jpeg', value: b }),
    };
  };
  return { makeDisplay, displays };
}
