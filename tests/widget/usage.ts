// What a TypeScript page writes with the package: checked by `tsc --noEmit`,
// so the declarations stay usable (tests/test_widget_package.py runs it).
import { mark, parseDisclosure, unwatchFetch, watchFetch } from "../../widgets/ai-notice.js";
import type { Disclosure, MarkOptions } from "../../widgets/ai-notice.js";
import { catalogChain, markKind, modeKind, noticeStrings } from "../../widgets/ai-notice-core.js";

const header: Disclosure = parseDisclosure('mode=ai-originated, model="x"');
const mode: string | true | undefined = header["mode"];
const options: MarkOptions = { value: "ai-assisted", label: "Résumé par IA", model: mode === true ? undefined : mode };
const label: Promise<HTMLElement | null> = mark(document.body, options);
const stop: () => void = watchFetch({ container: document.body });
stop();
unwatchFetch();
window.AIDisclosure.mark(document.body, { value: "human-only" });
const notice: HTMLElement = document.createElement("ai-notice");
const kind = markKind("mixed");
const icon: "ai" | "ai-generated" | "ai-modified" = modeKind("ai-modified")[0];
const strings = noticeStrings("fr", { _meta: { status: "reviewed", dir: "ltr" } });
const dir: "ltr" | "rtl" = strings.dir;
const chain: string[] = catalogChain(document.documentElement.lang);
export { chain, dir, icon, kind, label, notice };
