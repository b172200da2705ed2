/** The notice script's pure parts: no DOM, no network. */

/** An EU icon name of the notice and the labels. */
export type IconName = "ai" | "ai-generated" | "ai-modified";

/** A parsed AI-Disclosure header: each parameter once, a bare one as `true`. */
export type Disclosure = { readonly [parameter: string]: string | true };

/** A catalog file, i18n/<lang>.json. */
export interface Catalog {
  readonly _meta: { readonly status: string; readonly dir: "ltr" | "rtl" };
  readonly [key: string]: unknown;
}

/** The notice's strings of one language, keys without their "notice." area. */
export interface NoticeStrings {
  readonly lang: string;
  readonly dir: "ltr" | "rtl";
  readonly [key: string]: unknown;
}

/** Parse an AI-Disclosure header: `mode=ai-originated, model="x"` or `mode=ai-originated;model="x"`. */
export function parseDisclosure(value: string | null | undefined): Disclosure;

/** A header mode's icon and catalog key; an unknown mode reads as machine-generated. */
export function modeKind(mode: string): readonly [IconName, string];

/** An element value's icon and catalog key, or null for a value meaning no AI. */
export function markKind(value: string): readonly [IconName, string] | null;

/** The notice's strings of one catalog file. */
export function noticeStrings(lang: string, catalog: Catalog): NoticeStrings;

/** Catalogs to try, in order, for a page's language tag: the tag, its primary language, French. */
export function catalogChain(tag: string | null | undefined): string[];

/** The strings a server-rendered notice carries in its JSON block, or null. */
export function ownStrings(root: ParentNode | null | undefined): NoticeStrings | null;
