"""Every JSON shape serialscale writes or reads back (the report, batch, sweep and diff
documents, their rows) and the JSON Schemas generated from them."""
