// mark()'s labels and watchFetch()'s notice, loaded by ai-notice.js on first need.

import { catalogChain, markKind, modeKind, noticeStrings, ownStrings } from "./ai-notice-core.js";

const ATTR = "data-ai-disclosure-notice";
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
const marks = new WeakMap();
const announced = new Set();
let catalog;

// An element with attributes (true: empty, null: none) and children.
export const h = (tag, attrs, ...kids) => {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
  e.append(...kids.filter((k) => k != null && k !== false));
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

const load = (lang) =>
  fetch(new URL(`i18n/${lang}.json`, import.meta.url))
    .then((r) => {
      if (!r.ok) throw new Error(`no catalog for ${lang}`);
      return r.json();
    })
    .then((all) => noticeStrings(lang, all));

const pageLang = () => (doc.documentElement.lang || "").toLowerCase().split("-")[0];

// From the notice, else one language's catalog (catalogChain).
export const strings = () => {
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

// lang and dir for text not in the page's language.
export const own = (lang, dir) => (lang !== pageLang() ? { lang, dir } : {});

const build = (s, mode) => {
  const [name, key] = modeKind(mode);
  return h(
    "ai-notice",
    { class: "ai-notice-host", [ATTR]: true, lang: s.lang, dir: s.dir },
    h(
      "section",
      { class: "ai-notice", "aria-labelledby": "ai-notice-live-title" },
      h("p", { class: "ai-notice__title ai-notice__vh", id: "ai-notice-live-title" }, s.title),
      h("p", { class: "ai-notice__summary" }, icon(name), h("strong", { class: "ai-notice__label" }, s[key])),
    ),
  );
};

// Show the notice (made here if none), announce each mode once.
export const show = async (mode, options, announce) => {
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

// AIDisclosure.mark, as templates/mark.html on the server.
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
    tag = h("span", { class: "ai-mark", "data-ai-mark": true });
    element.before(tag);
  }
  marks.set(element, tag);
  const s = await strings();
  tag.removeAttribute("lang");
  tag.removeAttribute("dir");
  for (const [k, v] of Object.entries(own(s.lang, s.dir))) tag.setAttribute(k, v);
  tag.replaceChildren(icon(kind[0]), h("strong", { class: "ai-mark__ai" }, s.pill), " ", h("span", { class: "ai-mark__text" }, label || s[kind[1]]));
  return tag;
};
