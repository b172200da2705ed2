"""The script's route rules (widgets/ai-notice-routes.js) choose the systems the
server's router (``_routing``) chooses, for the same rules and paths."""

from __future__ import annotations

import json
import shutil
import subprocess

from ai_disclosure._manifest import load_manifest
from ai_disclosure._routing import Router
from ai_disclosure.cli.render import routes_block

from .conftest import EXAMPLE_MANIFEST, ROOT
from .npm_package import needs_npm

NODE = shutil.which("node")
MANIFEST = load_manifest(EXAMPLE_MANIFEST)
PATHS = [
    "/",
    "/dechets/assistant",
    "/dechets/assistant/question?x=1",
    "/dechets/assistan",
    "//dechets//assistant",
    "/x/../dechets/assistant",
    "/dechets/./assistant/",
    "/eau/alertes",
    "/eau/alertes/../../courrier/1",
    "/courrier",
    "/en/",
    "/en",
    "/en/a/b/..",
    "/es/x",
    "/ar/.",
    "/.well-known/ai-disclosure",
    "/dechets/assistant*",
]


@needs_npm
def test_the_script_matches_routes_as_the_server_does() -> None:
    assert NODE is not None
    block = routes_block(MANIFEST)
    rules = json.loads(block[block.index(">") + 1 : block.rindex("<")])
    module = json.dumps((ROOT / "widgets" / "ai-notice-routes.js").as_uri())
    script = (
        f"import {{ routeSystems }} from {module};\n"
        f"const rules = {json.dumps(rules)};\n"
        f"console.log(JSON.stringify({json.dumps(PATHS)}.map((p) => routeSystems(rules, p))));\n"
    )
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    router = Router(MANIFEST)
    expected = []
    for path in PATHS:
        match = router.match(path)
        expected.append([f"demarches/{s.id}" for s in match.systems] if match else [])
    assert json.loads(result.stdout) == expected
    assert sum(bool(systems) for systems in expected) >= 10  # the paths do reach the rules


def test_the_routes_block_is_safe_json_in_the_rules_order() -> None:
    block = routes_block(MANIFEST)
    assert block.startswith("<script type=application/json data-ai-notice-routes>[")
    rules = json.loads(block[block.index(">") + 1 : block.rindex("<")])
    assert [rule[0] for rule in rules] == [route.path for route in MANIFEST.routes]
    assert rules[0] == ["/dechets/assistant*", ["demarches/assistant-dechets"]]
