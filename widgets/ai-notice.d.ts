/** The AI disclosure notice's script: `<ai-notice>` and `window.AIDisclosure`. */

export { parseDisclosure } from "./ai-notice-core.js";
export type { Disclosure } from "./ai-notice-core.js";

/** A value of the ai-disclosure attribute (W3C, IETF or EU vocabulary); one meaning no AI removes the label. */
export type DisclosureValue =
  | "ai-generated"
  | "ai-autonomous"
  | "autonomous"
  | "ai-originated"
  | "ai-assisted"
  | "ai-modified"
  | "machine-generated"
  | "mixed"
  | "human-only"
  | "none"
  | (string & {});

export interface MarkOptions {
  /** The ai-disclosure attribute's value; "ai-generated" when not given. */
  value?: DisclosureValue;
  /** The label's short text; the catalog's when not given. */
  label?: string;
  /** Sets the ai-model attribute. */
  model?: string;
  /** Sets the ai-provider attribute. */
  provider?: string;
}

export interface WatchFetchOptions {
  /** Where a notice made by the script goes; the page's <main>, else <body>, when not given. */
  container?: Element;
}

/** Mark one element as AI-made, with a visible label before it; resolves to the label (null for no AI). */
export function mark(element: Element, options?: MarkOptions): Promise<HTMLElement | null>;

/** Show and announce the notice when a fetched response's AI-Disclosure header says AI; returns unwatchFetch. */
export function watchFetch(options?: WatchFetchOptions): () => void;

/** Stop watching fetch(). */
export function unwatchFetch(): void;

declare global {
  interface Window {
    readonly AIDisclosure: Readonly<{
      mark: typeof mark;
      watchFetch: typeof watchFetch;
      unwatchFetch: typeof unwatchFetch;
      parseDisclosure: typeof import("./ai-notice-core.js").parseDisclosure;
    }>;
  }
  interface HTMLElementTagNameMap {
    "ai-notice": HTMLElement;
  }
}
