"""Server-rendered pages and the HTMX fragments they swap in."""
