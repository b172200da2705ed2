// The script's pure parts, for Node too (`@ai-disclosure/widget/core`, docs/widget.md).

// IETF header mode -> [EU icon, catalog label].
const MODES = {
  "ai-originated": ["ai-generated", "label_ai_generated"],
  "ai-modified": ["ai-modified", "label_ai_modified"],
  "machine-generated": ["ai", "label_ai"],
};
// Element value (W3C, IETF or EU vocabulary) -> [EU icon, catalog label].
const GEN = ["ai-generated", "mark_generated"];
const ASSIST = ["ai-modified", "mark_assisted"];
const MARKS = {
  "ai-generated": GEN,
  "ai-autonomous": GEN,
  autonomous: GEN,
  "ai-originated": GEN,
  "ai-assisted": ASSIST,
  "ai-modified": ASSIST,
  "machine-generated": ["ai", "mark_machine"],
  mixed: ["ai", "mark_mixed"],
};

/** Parse an AI-Disclosure header (`,` or `;` between parameters). */
export const parseDisclosure = (value) => {
  const out = {};
  for (const [, k, v] of String(value || "").matchAll(/([a-z*][\w.*-]*)(?:=("(?:[^"\\]|\\.)*"|[^,;\s]*))?/gi)) {
    const key = k.toLowerCase();
    if (key in out) continue;
    out[key] = v == null ? true : v[0] === '"' ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v;
  }
  return out;
};

/** A header mode's [icon, catalog key]. */
export const modeKind = (mode) => MODES[mode] || MODES["machine-generated"];

/** An element value's [icon, catalog key], null for no AI. */
export const markKind = (value) => MARKS[String(value).toLowerCase()] || null;

/** The notice's strings of a catalog file, keys without "notice.". */
export const noticeStrings = (lang, all) => {
  const s = { lang, dir: all._meta.dir };
  for (const [k, v] of Object.entries(all)) if (k.startsWith("notice.")) s[k.slice(7)] = v;
  return s;
};

/** Catalogs to try for a language tag: it, its primary language, French. */
export const catalogChain = (tag) => [...new Set([tag || "fr", (tag || "fr").split("-")[0].toLowerCase(), "fr"])];

/** A server-rendered notice's strings (its JSON block), or null. */
export const ownStrings = (root) => {
  const block = root && root.querySelector("script[data-ai-notice-strings]");
  try {
    return block && JSON.parse(block.textContent);
  } catch {
    return null;
  }
};
