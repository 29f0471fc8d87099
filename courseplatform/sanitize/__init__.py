"""Everything an author writes, made safe. Each input passes through here on save *and*
again on render:

* :mod:`.html` — the page builder's HTML (nh3 with a strict allow-list);
* :mod:`.css` — the page and theme CSS (tinycss2, allow-listed properties, same-origin
  ``url()`` only, optionally scoped under one selector);
* :mod:`.project` — the GrapesJS project JSON the editor loads, rebuilt from an
  allow-list;
* :mod:`.placeholders` — the dynamic blocks' ``<div data-cp-block>`` placeholders,
  replaced by trusted server-rendered HTML;
* :mod:`.markdown` — course descriptions and lesson bodies (Markdown, raw HTML allowed);
* :mod:`.urls` — the link, image and embed address rules the others share.
"""
