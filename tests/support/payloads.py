"""Articles carrying script payloads: they must be indexed as text and shown as text.

Every payload, if it ever ran, would set ``window.__pwned`` or call ``alert()``.
"""

from __future__ import annotations

import json
from pathlib import Path

PAYLOAD_WORD = "Zwiebelturmkonstrukteur"  # in every payload article, nowhere else

PAYLOADS = [
    '<script>window.__pwned = "script"; alert("script")</script>',
    '<img src=x onerror="window.__pwned = \'img\'; alert(\'img\')">',
    '<svg onload="window.__pwned = \'svg\'">',
    '"><script>window.__pwned = "attr"</script>',
    "'><img src=x onerror=alert(1)>",
    '<iframe src="javascript:window.parent.__pwned = \'iframe\'"></iframe>',
    '<a href="javascript:window.__pwned = \'link\'">klick</a>',
    '</textarea></title></mark><b id="injected">fett</b>',
    '{{7*7}} ${7*7} <%= 7*7 %>',
]


def write_payload_articles(folder: Path) -> dict[str, str]:
    """Hostile but valid articles in every format; returns {article id: format}."""
    folder.mkdir(parents=True, exist_ok=True)
    all_payloads = " ".join(PAYLOADS)
    records = []
    for number, payload in enumerate(PAYLOADS):
        records.append({
            "id": f"payload-{number}",
            "title": f"{payload} {PAYLOAD_WORD} Titel {number}",
            "text": (f"Der {PAYLOAD_WORD} berichtet {payload} über den Bau.\n"
                     f"Zweiter Absatz mit <mark>falscher Markierung</mark> und {payload}."),
            "source": payload if number % 3 == 0 else "payload.example",
            "category": payload if number % 3 == 1 else "Test",
            "url": "javascript:window.__pwned='url'" if number % 2 == 0 else
                   'https://example.org/"><script>window.__pwned="href"</script>',
            "date": "2021-02-03",
            "lang": "de",
        })
    (folder / "payloads.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    (folder / "payload-page.html").write_text(f"""<!doctype html>
<html lang="de"><head>
<title>Seite {PAYLOADS[0]}</title>
<meta property="og:title" content="{PAYLOADS[1].replace('"', '&quot;')} {PAYLOAD_WORD} Seite">
<link rel="canonical" href="javascript:window.__pwned='canonical'">
<script>window.__pwned = "head script"; alert("head")</script>
</head><body onload="window.__pwned='body'">
<h1>Überschrift <img src=x onerror="window.__pwned='h1'"></h1>
<p>Der {PAYLOAD_WORD} schreibt &lt;script&gt;window.__pwned="entity"&lt;/script&gt; als Text.</p>
<p>Ein Bild: <img src=x onerror="window.__pwned='p'; alert('p')"> und &lt;img src=x onerror=alert(8)&gt;.</p>
<p>{all_payloads}</p>
<script>window.__pwned = "body script"</script>
</body></html>
""", encoding="utf-8")
    (folder / "payload-note.txt").write_text(
        f"{PAYLOADS[1]} Notiz\n\nDer {PAYLOAD_WORD} notiert {all_payloads} im Text.\n",
        encoding="utf-8")
    ids = {f"payload-{n}": "jsonl" for n in range(len(PAYLOADS))}
    ids["payload-page"] = "html"
    ids["payload-note"] = "txt"
    return ids
