// AI disclosure notice: progressive enhancement. The server-rendered notice
// works without this file; it adds what needs a script:
// - <ai-notice>: a notice (not a chatbot's) can be minimised to a small "AI"
//   button, remembered per system, and always reopened;
// - AIDisclosure.mark(element, {value, label, model, provider}): marks one
//   element, with the same label the server's ai_content() puts before it;
// - AIDisclosure.watchFetch(): shows and announces the notice when a fetched
//   response carries an AI-Disclosure header whose mode is not "none".
// Text comes from the notice's JSON block, else from i18n/<lang>.json.
// The pure parts (header parsing, vocabularies, catalogs) are in ai-notice-core.js.

import { catalogChain, markKind, modeKind, noticeStrings, parseDisclosure } from "./ai-notice-core.js";

export { parseDisclosure };

const ATTR = "data-ai-disclosure-notice";
const KEY = "ai-disclosure:collapsed";
const SVG = "http://www.w3.org/2000/svg";
// Same shapes as templates/icons.html.
const FRAME = "M7 2h10a5 5 0 0 1 5 5v10a5 5 0 0 1-5 5H7a5 5 0 0 1-5-5V7a5 5 0 0 1 5-5z";
const INNER = "m0 1.75A3.25 3.25 0 0 0 3.75 7v10A3.25 3.25 0 0 0 7 20.25h10A3.25 3.25 0 0 0 20.25 17V7A3.25 3.25 0 0 0 17 3.75z";
const ICONS = {
  ai: FRAME + INNER + "M12 6q.7 5.3 6 6-5.3.7-6 6-.7-5.3-6-6 5.3-.7 6-6z",
  "ai-generated": FRAME + "m5 3.5q.75 5.75 6.5 6.5-5.75.75-6.5 6.5-.75-5.75-6.5-6.5 5.75-.75 6.5-6.5z",
  "ai-modified": FRAME + INNER + "M10 5.5q.5 3.5 4 4-3.5.5-4 4-.5-3.5-4-4 3.5-.5 4-4zm10.25 6v5.5A3.25 3.25 0 0 1 17 20.25h-5.5z",
};
const doc = document;
const nativeFetch = window.fetch;
const marks = new WeakMap();
const announced = new Set();
let catalog, original;

const make = (tag, cls, text) => {
  const e = doc.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
};

const icon = (name) => {
  const svg = doc.createElementNS(SVG, "svg");
  const path = doc.createElementNS(SVG, "path");
  for (const [k, v] of [["class", "ai-notice__icon"], ["viewBox", "0 0 24 24"], ["aria-hidden", "true"], ["focusable", "false"]]) svg.setAttribute(k, v);
  path.setAttribute("fill", "currentColor");
  path.setAttribute("fill-rule", "evenodd");
  path.setAttribute("d", ICONS[name] || ICONS.ai);
  svg.append(path);
  return svg;
};

const remembered = () => {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
};

const remember = (id, on) => {
  const all = remembered();
  if (on) all[id] = 1;
  else delete all[id];
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Private browsing: the choice lasts for this page only.
  }
};

const ownStrings = (root) => {
  const block = root && root.querySelector("script[data-ai-notice-strings]");
  try {
    return block && JSON.parse(block.textContent);
  } catch {
    return null;
  }
};

/** The notice's strings of one catalog file, i18n/<lang>.json, as the JSON block has them. */
const load = (lang) =>
  nativeFetch(new URL(`i18n/${lang}.json`, import.meta.url))
    .then((r) => {
      if (!r.ok) throw new Error(`no catalog for ${lang}`);
      return r.json();
    })
    .then((all) => noticeStrings(lang, all));

/** Strings in the page's language: from the notice, else from the catalog file of
 * the page's language tag, of its primary language, else French. */
const strings = () => {
  const own = ownStrings(doc.querySelector(`[${ATTR}]`));
  if (own) return Promise.resolve(own);
  catalog ||= catalogChain(doc.documentElement.lang)
    .reduce((found, lang) => found.catch(() => load(lang)), Promise.reject(new Error("no catalog")))
    .catch((error) => {
      catalog = null; // try again next time
      throw error;
    });
  return catalog;
};

/** The page's single live region: the notice's own, else one made here. */
const region = () => {
  let r = doc.querySelector("[data-ai-notice-status]");
  if (!r) {
    r = make("p", "ai-notice__vh");
    r.setAttribute("role", "status");
    r.setAttribute("data-ai-notice-status", "");
    doc.body.append(r);
  }
  return r;
};

const announce = (text) => {
  const r = region();
  r.textContent = "";
  setTimeout(() => (r.textContent = text), 100);
};

// WordPress 6.4 to 6.9 add a block theme's skip link from a script at the end
// of the page, before .wp-site-blocks: after this notice, which found no skip
// link to follow. Put the notice after it: the skip link stays the first stop.
const followScriptedSkipLink = (notice) => {
  const link = doc.getElementById("wp-skip-link");
  if (!link || link.parentNode !== notice.parentNode) return;
  for (let e = notice.nextElementSibling; e !== link; e = e.nextElementSibling) {
    if (!e || !/^(script|style|link|template|noscript)$/.test(e.localName)) return;
  }
  link.after(notice);
};

class AINotice extends HTMLElement {
  connectedCallback() {
    if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", () => this.upgrade(), { once: true });
    else this.upgrade();
  }

  upgrade() {
    if (this.hasAttribute("data-upgraded")) return;
    this.setAttribute("data-upgraded", "");
    followScriptedSkipLink(this);
    const s = ownStrings(this) || {};
    for (const item of this.querySelectorAll("[data-ai-notice-system]")) {
      const id = item.getAttribute("data-ai-notice-system");
      const details = item.querySelector("details");
      const collapse = item.querySelector("[data-ai-notice-collapse]");
      const pill = item.querySelector("[data-ai-notice-expand]");
      // A chatbot's notice never goes below its label (AI Act Art. 50(1)).
      if (item.hasAttribute("data-ai-notice-pinned") || !details || !collapse || !pill) continue;
      const set = (on, user) => {
        details.open = false;
        details.hidden = on;
        pill.hidden = !on;
        item.toggleAttribute("data-collapsed", on);
        if (!user) return;
        remember(id, on);
        (on ? pill : details.querySelector("summary")).focus();
        announce(on ? s.status_collapsed : s.status_expanded);
      };
      collapse.hidden = false;
      collapse.addEventListener("click", () => set(true, 1));
      pill.addEventListener("click", () => set(false, 1));
      if (remembered()[id]) set(true);
    }
  }
}

if (!customElements.get("ai-notice")) customElements.define("ai-notice", AINotice);

const build = (s, mode) => {
  const [name, key] = modeKind(mode);
  const host = make("ai-notice", "ai-notice-host");
  const section = make("section", "ai-notice");
  const title = make("p", "ai-notice__title ai-notice__vh", s.title);
  const row = make("p", "ai-notice__summary");
  host.setAttribute(ATTR, "");
  host.lang = s.lang;
  host.dir = s.dir;
  title.id = "ai-notice-live-title";
  section.setAttribute("aria-labelledby", title.id);
  row.append(icon(name), make("strong", "ai-notice__label", s[key]));
  section.append(title, row);
  host.append(section);
  return host;
};

const show = async (mode, options) => {
  const s = await strings();
  let notice = doc.querySelector(`[${ATTR}]`);
  if (!notice) {
    notice = build(s, mode);
    (options.container || doc.querySelector("main") || doc.body).prepend(notice);
  }
  notice.hidden = false;
  if (announced.has(mode)) return;
  announced.add(mode);
  announce(s[modeKind(mode)[1]]);
};

/** Stop watching fetch(). */
export const unwatchFetch = () => {
  if (original) window.fetch = original;
  original = null;
};

/**
 * Wrap window.fetch: a response whose AI-Disclosure header has a mode other
 * than "none" shows the notice (made here if the page has none) and announces
 * it once per mode. Cross-origin APIs must expose the header
 * (Access-Control-Expose-Headers: AI-Disclosure). Returns unwatchFetch.
 */
export const watchFetch = (options = {}) => {
  region();
  if (!original) {
    original = window.fetch;
    const wrapped = original;
    window.fetch = async (...args) => {
      const response = await wrapped(...args);
      const mode = parseDisclosure(response.headers.get("AI-Disclosure")).mode;
      if (mode && mode !== true && mode !== "none") show(mode, options).catch(() => {});
      return response;
    };
  }
  return unwatchFetch;
};

/** The page's primary language, lower case. */
const pageLang = () => (doc.documentElement.lang || "").toLowerCase().split("-")[0];

/**
 * Mark one element as templates/mark.html does on the server: sets the
 * ai-disclosure attribute to `value` (and ai-model / ai-provider when given)
 * and puts a visible label right before it: the EU icon, "IA"/"AI" and a short
 * text (`label`, else the catalog's). A label the server already put there is
 * reused. A value meaning no AI ("human-only", "none") removes the label.
 * Resolves to the label.
 */
export const mark = async (element, { value = "ai-generated", label, model, provider } = {}) => {
  element.setAttribute("ai-disclosure", value);
  if (model) element.setAttribute("ai-model", model);
  if (provider) element.setAttribute("ai-provider", provider);
  const kind = markKind(value);
  const before = element.previousElementSibling;
  let tag = marks.get(element) || (before && before.matches("[data-ai-mark]") ? before : null);
  if (!kind) {
    if (tag) tag.remove();
    marks.delete(element);
    return null;
  }
  if (!tag) {
    tag = make("span", "ai-mark");
    tag.setAttribute("data-ai-mark", "");
    element.before(tag);
  }
  marks.set(element, tag);
  const s = await strings();
  tag.removeAttribute("lang");
  tag.removeAttribute("dir");
  if (s.lang !== pageLang()) {
    tag.lang = s.lang;
    tag.dir = s.dir;
  }
  tag.replaceChildren(icon(kind[0]), make("strong", "ai-mark__ai", s.pill), " ", make("span", "ai-mark__text", label || s[kind[1]]));
  return tag;
};

window.AIDisclosure = Object.freeze({ mark, watchFetch, unwatchFetch, parseDisclosure });
