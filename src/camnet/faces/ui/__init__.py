"""The web dashboard: static pages served by camnet, a cookie session, and the two
small JSON resources the pages need that no dialect offers (schemas, reading history)."""
